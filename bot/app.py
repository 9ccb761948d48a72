"""The HTTP application: one Starlette app built by create_app(settings)."""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels import rest, web
from bot.channels.slack.settings import SlackSettings, not_configured_routes
from bot.config import Settings
from bot.errors import (BadRequest, ConfigError, Forbidden, HelpdeskError, NotFound, RateLimited,
                        ServiceUnavailable, Unauthorized)
from bot.knowledge import views as kb_views
from bot.ops import views as ops_views  # issue 7
from bot.ops.middleware import RequestContextMiddleware  # issue 7
from bot.composition import shared_state  # issue 7
from bot.ops.errors import database_unavailable  # issue 7
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout  # issue 7
from bot.runtime import Runtime, build_runtime
from bot.services.mail import OutboxWorker
from bot.telephony import views as telephony_views
from bot.tickets import views as ticket_views

log = logging.getLogger(__name__)

# One mapping from our errors to HTTP, for every route.
_STATUS: dict[type[HelpdeskError], int] = {
    NotFound: 404, Unauthorized: 401, Forbidden: 403, RateLimited: 429, ServiceUnavailable: 503,
    ConfigError: 500,
}


async def _helpdesk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HelpdeskError)
    status = exc.status if isinstance(exc, BadRequest) else _STATUS.get(type(exc), 500)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    reference = uuid.uuid4().hex[:12]
    log.exception("unexpected error %s on %s %s", reference, request.method, request.url.path)
    return JSONResponse(
        {"error": "Sorry, something went wrong on our side. Please try again, or call the CSRA "
                  f"Call Center at 800-688-6696. Reference: {reference}", "reference": reference},
        status_code=500,
    )


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> Starlette:
    runtime = runtime or build_runtime(settings)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    route_list: list[BaseRoute] = [Route("/health", health, methods=["GET"])]
    route_list += rest.routes(runtime)
    route_list += kb_views.routes(runtime.services.kb)
    route_list += telephony_views.routes(runtime.services)
    route_list += ticket_views.routes(runtime.services)
    route_list += web.routes(runtime)
    route_list += ops_views.routes(runtime)  # issue 7: /ready, /metrics, /openapi.json
    from bot.staff import views as staff_views  # issue 6: staff console

    route_list += staff_views.routes(runtime)  # issue 6: /staff (sign-in, assist, handoff, tickets, insights)
    # issue 5: Slack, only when configured: /slack/events, /slack/install, /slack/oauth_redirect
    slack_channel = None
    if SlackSettings.from_settings(runtime.settings) is not None:
        from bot.channels.slack import channel as slack  # slack-bolt loads only when it is needed

        slack_channel = slack.build_slack_channel(runtime)
    route_list += slack.routes(slack_channel) if slack_channel is not None else not_configured_routes()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Emails queued while the server was down go out once it is back.
        outbox = OutboxWorker(runtime.services.mail)
        outbox.start()
        await shared_state(runtime.services).start()  # issue 7: the Redis live-push reader
        if slack_channel is not None:
            await slack_channel.start()  # issue 5: Socket Mode, when configured
        try:
            yield
        finally:
            if slack_channel is not None:
                await slack_channel.stop()  # issue 5
            await shared_state(runtime.services).stop()  # issue 7
            await outbox.stop()
            runtime.close()

    app = Starlette(
        routes=route_list,
        exception_handlers={HelpdeskError: _helpdesk_error, HTTPException: _http_error,
                            Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    # --- issue 7: request id, access log and HTTP metrics around every request ---
    app.add_middleware(RequestContextMiddleware, metrics=shared_state(runtime.services).metrics)
    for lost in (OperationalError, InterfaceError, PoolTimeout):  # issue 7: database unreachable -> 503
        app.add_exception_handler(lost, database_unavailable)
    return app
