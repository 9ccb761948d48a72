"""Helpers the benchmark scripts share: progress lines on stderr and latency summaries."""

from __future__ import annotations

import math
import statistics
import sys


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)



def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise_ms(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "p99": round(percentile(ms, 99), 2),
        "mean": round(statistics.fmean(ms), 2),
        "max": round(ms[-1], 2),
    }
