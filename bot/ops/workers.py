"""Running several worker processes: `helpdesk serve --workers N`.

The parent prepares what must happen once (migrations, the NLU model file, demo data),
then hands the port to uvicorn's process manager, which starts N workers that each build
the app from the environment (``app_from_environment``, an app factory) and restarts a
worker that dies. Workers share state through the database and, when configured, Redis;
metrics of all workers are merged through prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from starlette.applications import Starlette

from bot.config import Settings
from bot.ops import logs

log = logging.getLogger(__name__)

LOG_FORMAT_ENV = "HELPDESK_LOG_FORMAT"


def log_format(settings: Settings, requested: str | None) -> str:
    """json in production, text in development, unless asked for (flag or environment)."""
    chosen = requested or os.environ.get(LOG_FORMAT_ENV) or ("json" if settings.mode == "production" else "text")
    return "json" if chosen == "json" else "text"


def configure_logging(fmt: str, level: str = "info") -> None:
    logs.configure(json_lines=fmt == "json", level=getattr(logging, level.upper(), logging.INFO))


def prepare(settings: Settings) -> None:
    """What the parent does once, so N workers do not race: migrate, make sure of the model."""
    from bot.nlu.model import load_or_train
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    load_or_train(settings.nlu)


def serve_many(settings: Settings, *, workers: int, log_level: str, fmt: str) -> None:
    import uvicorn

    prepare(settings)
    os.environ[LOG_FORMAT_ENV] = fmt
    os.environ["HELPDESK_LOG_LEVEL"] = log_level
    # Every worker writes its metrics to this directory; /metrics on any worker merges them.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="helpdesk-metrics-"))
    os.environ["HELPDESK_HOST"], os.environ["HELPDESK_PORT"] = settings.host, str(settings.port)
    uvicorn.run("bot.ops.workers:app_from_environment", factory=True, host=settings.host,
                port=settings.port, workers=workers, log_level=log_level, access_log=False,
                lifespan="on", log_config=None)


def app_from_environment() -> Starlette:
    """The app factory each worker calls (settings from config.yml and the environment)."""
    from bot.app import create_app
    from bot.runtime import build_runtime

    configure_logging(os.environ.get(LOG_FORMAT_ENV, "text"), os.environ.get("HELPDESK_LOG_LEVEL", "info"))
    settings = Settings.load()
    # The parent migrated already; workers starting together must not run Alembic at once.
    runtime = build_runtime(settings, migrate=False)
    log.info("worker %d ready", os.getpid())
    return create_app(settings, runtime=runtime)


def uvicorn_options(fmt: str) -> dict[str, Any]:
    return {"log_config": None} if fmt == "json" else {}
