"""SQL storage: engine/session factory, models and the tracker store."""
