"""Operations: shared state across workers, readiness, metrics, structured logs, workers."""
