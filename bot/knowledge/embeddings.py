"""Dense sentence similarity (WordLlama, 256-d, weights shipped in the wheel) beside BM25.

BM25 needs a shared word; a follow-up question often has none ("how long is it good for?"
against "expires in 10 minutes"). The cosine similarity of WordLlama embeddings, scaled by
WEIGHT, is added to the BM25 score. The model takes about 0.7 s to load, so the process loads
it once, in a background thread: until it is ready (and if it fails) scores are BM25's alone.
Texts are embedded on first use, which for a few hundred passages takes a few milliseconds.
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
_started: list[bool] = []
_ready = threading.Event()
_loaded: list[Any] = []  # the one WordLlama model of the process: immutable, so shared


def start_loading() -> None:
    """Load the model in a background thread, once a process."""
    with _lock:
        if _started:
            return
        _started.append(True)
        threading.Thread(target=_load, name="wordllama-load", daemon=True).start()


def _load() -> None:
    try:
        import wordllama
        from wordllama import WordLlama

        # The wheel ships the weights and tokenizer config; never reach for the network.
        _loaded.append(WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True,
                                      trunc_dim=DIMENSIONS))
    except Exception:  # search still works on BM25 alone
        log.exception("the WordLlama sentence embeddings could not be loaded")
    finally:
        _ready.set()


def wait_until_loaded(timeout: float | None = None) -> bool:
    """Block until loading has finished (tests, benchmarks); True when embeddings are in use."""
    start_loading()
    _ready.wait(timeout)
    return bool(_loaded)


class TextEmbeddings:
    """Cosine scores of a query against a fixed list of texts."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._matrix: np.ndarray | None = None
        start_loading()

    def scores(self, query: str) -> np.ndarray:
        if not _loaded or not query.strip() or not self._texts:
            return np.zeros(len(self._texts), dtype=np.float32)
        model = _loaded[0]
        if self._matrix is None:
            self._matrix = np.asarray(model.embed(self._texts, norm=True), dtype=np.float32)
        vector = np.asarray(model.embed([query], norm=True), dtype=np.float32)[0]
        similarity = self._matrix @ vector
        return np.where(similarity >= FLOOR, similarity * WEIGHT, 0.0).astype(np.float32)
