"""The understanding figures of bench/run.py, measured in this process: NLU training and parse
latency, and the KB passage search behind follow-up questions (BM25 + sentence similarity)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from figures import log, summarise_ms


# --- 1. NLU training ---------------------------------------------------------------------

def measure_training(*, runs: int, model_out: Path) -> dict[str, Any]:
    """Time train_from_files only (what `helpdesk train` times), then save the model once.

    scikit-learn's import (training only; the server never imports it) is timed apart, so
    the training figures are the fitting itself.
    """
    from bot.config import Settings
    from bot.nlu.model import train_from_files

    started = time.perf_counter()
    import bot.nlu.training  # noqa: F401  (scikit-learn)

    import_seconds = time.perf_counter() - started
    settings = Settings.load()
    times: list[float] = []
    model = None
    for i in range(runs):
        started = time.perf_counter()
        model = train_from_files(settings.nlu)
        times.append(time.perf_counter() - started)
        log(f"training run {i + 1}/{runs}: {times[-1]:.3f}s")
    assert model is not None
    model.save(model_out)  # not timed; the servers below load this file
    return {
        "nlu_training_seconds": round(times[0], 3),
        "nlu_training_seconds_median": round(statistics.median(times), 3),
        "nlu_training_runs_seconds": [round(t, 3) for t in times],
        "nlu_training_import_seconds": round(import_seconds, 3),
        "nlu_intents": len(model.intents.labels),
        "nlu_features": model.features.size,
        "nlu_model_mb": round(model_out.stat().st_size / 1e6, 2),
    }


# Messages for the parse timing: the script's, and longer ones with entities in them.
PARSE_TEXTS: tuple[str, ...] = (
    "hi", "I got error e-05", "set up the phone call method", "what is mfa", "it hung up on me",
    "my ncid password is locked, can you reset it",
    "Error Code# E06: User Not Registered/Enabled when I log in this morning",
    "I answered the call on my cell but hit 1 instead of pound and now it says # Not pressed After Entry",
    "open a ticket: NPI 1245319599, phone (919) 555-0142, email jane.doe@clinic.org",
    "status of ticket mfa 7k4p 9qxd 2mwa please",
    "how do I set up the microsoft authenticator app on my new phone",
)


def measure_parse(*, model_path: Path, rounds: int) -> dict[str, Any]:
    """Interpreter.parse in this process, on the model file the servers load (numpy only)."""
    from bot.config import Settings
    from bot.nlu.interpreter import Interpreter
    from bot.nlu.model import NLUModel
    from bot.nlu.training_data import load_training_data

    started = time.perf_counter()
    model = NLUModel.load(model_path)
    load_seconds = time.perf_counter() - started
    interpreter = Interpreter(model, load_training_data(Settings.load().nlu.training_data))
    for text in PARSE_TEXTS:  # warm-up
        interpreter.parse(text)
    seconds: list[float] = []
    for _ in range(rounds):
        for text in PARSE_TEXTS:
            started = time.perf_counter()
            interpreter.parse(text)
            seconds.append(time.perf_counter() - started)
    parse = summarise_ms(seconds)
    log(f"parse p50 {parse['p50']} ms over {len(seconds)} parses")
    return {"nlu_parse_p50_ms": parse["p50"], "nlu_parse_ms": parse,
            "nlu_model_load_seconds": round(load_seconds, 3)}



# Follow-up questions with the topic they are asked in (issue 13): what KnowledgeBase.passages
# costs on a turn that is answered from the KB.
FOLLOW_UPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("how long do I have to wait then?", ("e05", "e06", "enroll_overview")),
    ("what is the second number for?", ("enroll_phone", "phone_method_questions")),
    ("does the code run out?", ("activation_code", "enroll_app")),
    ("what is my NPI needed for?", ("contact_us_questions", "contact_us_form")),
    ("what colour is the logo?", ()),
)


def measure_passages(*, rounds: int) -> dict[str, Any]:
    """KnowledgeBase.passages on the shipped kb/, embeddings loaded (as on a warm server)."""
    from bot.config import Settings
    from bot.knowledge.articles import KnowledgeBase

    kb = KnowledgeBase.load(Settings.load().kb_path)
    kb.wait_until_ready()  # the model loads on the first question; not what is timed here
    for text, topics in FOLLOW_UPS:  # warm-up (first use embeds the passages)
        kb.passages(text, topics=topics)
    seconds: list[float] = []
    for _ in range(rounds):
        for text, topics in FOLLOW_UPS:
            started = time.perf_counter()
            kb.passages(text, topics=topics, limit=8)
            seconds.append(time.perf_counter() - started)
    search = summarise_ms(seconds)
    log(f"passage search p50 {search['p50']} ms over {len(seconds)} searches")
    return {"kb_passage_search_p50_ms": search["p50"], "kb_passage_search_ms": search}
