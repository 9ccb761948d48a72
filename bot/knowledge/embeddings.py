"""Dense sentence similarity (WordLlama, 256-d, weights shipped in the wheel) for KB passages.

BM25 needs a shared word; a follow-up question often has none ("how long is it good for?"
against "expires in 10 minutes"). The cosine similarity of WordLlama embeddings, scaled by
WEIGHT, is added to the BM25 score. Loading takes about 0.7 s, so it happens in a background
thread: until it is ready (and if it fails) the scores are BM25's alone.
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
FLOOR = 0.3

_model_lock = threading.Lock()
_loaded: list[Any] = []  # the one WordLlama model of the process: immutable, so shared


def _model() -> Any:
    with _model_lock:
        if not _loaded:
            import wordllama
            from wordllama import WordLlama

            # The wheel ships the weights and tokenizer config; never reach for the network.
            _loaded.append(WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True))
        return _loaded[0]


class PassageEmbeddings:
    def __init__(self, texts: list[str], *, background: bool = True) -> None:
        self._count = len(texts)
        self._model: Any = None
        self._matrix: np.ndarray | None = None
        self._ready = threading.Event()
        if background:
            threading.Thread(target=self._load, args=(texts,), name="kb-embeddings", daemon=True).start()
        else:
            self._load(texts)

    def _load(self, texts: list[str]) -> None:
        try:
            model = _model()
            matrix = np.asarray(model.embed(texts, norm=True), dtype=np.float32) if texts else None
            self._model, self._matrix = model, matrix
        except Exception:  # the KB still answers on BM25 alone
            log.exception("sentence embeddings for KB passages could not be loaded")
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading has finished (tests, benchmarks); True when embeddings are in use."""
        self._ready.wait(timeout)
        return self._matrix is not None

    def scores(self, query: str) -> np.ndarray:
        if self._matrix is None or not query.strip():
            return np.zeros(self._count, dtype=np.float32)
        vector = np.asarray(self._model.embed([query], norm=True), dtype=np.float32)[0]
        similarity = self._matrix @ vector
        return np.where(similarity >= FLOOR, similarity * WEIGHT, 0.0).astype(np.float32)
