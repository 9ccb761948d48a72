"""Dense sentence similarity (WordLlama, weights shipped in the wheel) beside BM25.

BM25 needs a shared word; a follow-up question often has none ("how long is it good for?"
against "expires in 10 minutes"). The cosine similarity of WordLlama embeddings, scaled by
WEIGHT, is added to the BM25 score. The model is loaded once a process, on the first search
that wants it (about 0.15 s), so it costs nothing at start-up and no turn before the first
question; texts are embedded on first use too (a few milliseconds for the whole KB). If the
model cannot be loaded, scores are BM25's alone and the failure is logged once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# A cosine of 0.5 (a close paraphrase) adds as much as a good BM25 match of one rare word.
WEIGHT = 8.0
# Below this cosine two sentences are unrelated; adding it would only blur the ranking.
FLOOR = 0.35
# WordLlama's Matryoshka embeddings keep their meaning when cut short: 64 of the 256 dimensions
# hold the model in about 24 MB instead of 47 (the server's RSS budget is 200 MB).
DIMENSIONS = 64

_lock = threading.Lock()
_loaded: list[Any] = []  # the one model of the process (immutable, so shared), or None if it failed


def model() -> Any:
    """The process's WordLlama model, loaded on first use; None when it cannot be loaded."""
    with _lock:
        if not _loaded:
            try:
                import wordllama
                from wordllama import WordLlama

                # The wheel ships the weights and tokenizer config; never reach for the network.
                _loaded.append(WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                              disable_download=True, trunc_dim=DIMENSIONS))
            except Exception:  # search still works on BM25 alone
                log.exception("the WordLlama sentence embeddings could not be loaded")
                _loaded.append(None)
        return _loaded[0]


class TextEmbeddings:
    """Cosine scores of a query against a fixed list of texts."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._matrix: np.ndarray | None = None

    def scores(self, query: str) -> np.ndarray:
        loaded = model() if query.strip() and self._texts else None
        if loaded is None:
            return np.zeros(len(self._texts), dtype=np.float32)
        if self._matrix is None:
            self._matrix = np.asarray(loaded.embed(self._texts, norm=True), dtype=np.float32)
        vector = np.asarray(loaded.embed([query], norm=True), dtype=np.float32)[0]
        similarity = self._matrix @ vector
        return np.where(similarity >= FLOOR, similarity * WEIGHT, 0.0).astype(np.float32)
