"""Multinomial logistic regression on sparse TF-IDF rows, trained with Adam in numpy.

Full-batch and seeded, so the same training data always yields the same weights.
Prediction needs no numpy call beyond a small gather, which keeps turns fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class SparseRows:
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[list[int], list[float]]]) -> "SparseRows":
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r[0]) for r in rows])
        indices = np.fromiter((j for r in rows for j in r[0]), dtype=np.int64, count=int(indptr[-1]))
        data = np.fromiter((v for r in rows for v in r[1]), dtype=np.float32, count=int(indptr[-1]))
        return cls(indptr, indices, data)


def train_softmax(
    rows: SparseRows,
    labels: np.ndarray,
    *,
    n_features: int,
    n_classes: int,
    epochs: int = 200,
    learning_rate: float = 0.5,
    l2: float = 1e-4,
    seed: int = 42,
) -> np.ndarray:
    """Return weights of shape (n_features, n_classes)."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((n_features, n_classes)) * 0.01).astype(np.float32)
    n = len(labels)
    row_of = np.repeat(np.arange(n), np.diff(rows.indptr))
    # Column-sorted copy of the matrix, so the gradient is one segmented sum.
    order = np.argsort(rows.indices, kind="stable")
    col_idx = rows.indices[order]
    col_rows = row_of[order]
    col_data = rows.data[order][:, None]
    present, starts = np.unique(col_idx, return_index=True)
    onehot = np.zeros((n, n_classes), dtype=np.float32)
    onehot[np.arange(n), labels] = 1.0
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    row_starts = rows.indptr[:-1]
    for step in range(1, epochs + 1):
        logits = np.add.reduceat(rows.data[:, None] * w[rows.indices], row_starts, axis=0)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g_rows = (p - onehot) / n
        grad = np.zeros_like(w)
        grad[present] = np.add.reduceat(col_data * g_rows[col_rows], starts, axis=0)
        grad += l2 * w
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        lr = learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        w -= (lr * m / (np.sqrt(v) + eps)).astype(np.float32)
    return w


def predict_proba(weights: np.ndarray, indices: list[int], values: list[float]) -> np.ndarray:
    logits = (weights[indices] * np.asarray(values, dtype=np.float32)[:, None]).sum(axis=0)
    logits -= logits.max()
    p = np.exp(logits)
    return p / p.sum()
