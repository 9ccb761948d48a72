"""``/ready``, ``/metrics`` and ``/openapi.json``.

``/health`` (in bot/app.py) says the process is up; ``/ready`` says this worker can take
turns now: the database answers, its schema is at the migration heads, the NLU model is
loaded and, when configured, Redis answers and the live-push reader is subscribed. A load
balancer sends traffic only to ready workers; the 503 body names what is missing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio.to_thread
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.ops.metrics import CONTENT_TYPE
from bot.ops.openapi import openapi_schema
from bot.composition import shared_state
from bot.storage.migrate import alembic_config

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def routes(runtime: "Runtime") -> list[BaseRoute]:
    engine = runtime.services.engine
    shared = shared_state(runtime.services)
    expected_heads = frozenset(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    schema = openapi_schema()

    def database_check() -> tuple[str, str]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current = frozenset(MigrationContext.configure(connection).get_current_heads())
        except SQLAlchemyError as exc:
            return f"unreachable ({type(exc).__name__})", "not checked"
        if current != expected_heads:
            missing = ", ".join(sorted(expected_heads - current)) or "unknown"
            return "ok", f"not at heads (missing {missing}); run `helpdesk migrate`"
        return "ok", "ok"

    def redis_ping() -> str:
        try:
            shared.sync_redis.ping()
        except Exception as exc:  # any failure here is a readiness answer, not an error
            return f"unreachable ({type(exc).__name__})"
        return "ok"

    async def redis_check() -> str:
        answer = await anyio.to_thread.run_sync(redis_ping)
        if answer != "ok":
            return answer
        if not getattr(shared.live, "subscribed", True):
            return "live-push reader not subscribed"
        return "ok"

    async def ready(request: Request) -> JSONResponse:
        database, migrations = await anyio.to_thread.run_sync(database_check)
        model = runtime.interpreter.model
        checks = {
            "database": database,
            "migrations": migrations,
            "nlu_model": "ok" if model is not None and len(model.intents.labels) else "not loaded",
        }
        if shared.redis is not None:
            checks["redis"] = await redis_check()
        ok = all(value == "ok" for value in checks.values())
        if not ok:
            log.warning("not ready: %s", {k: v for k, v in checks.items() if v != "ok"})
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        return Response(shared.metrics.render(), media_type=CONTENT_TYPE)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(schema)

    return [
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
