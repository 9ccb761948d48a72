"""Request id, access log and HTTP metrics: one pure ASGI middleware.

The id comes from ``X-Request-ID`` when a proxy or client sent a sane one, else a new
one; it is echoed in the response and carried by every log line of the request. The
access log names the route template (``/conversations/{sender}/tracker``), never the
concrete path, so sender ids (which may be e-mail addresses) stay out of the logs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.ops import logs
from bot.ops.metrics import Metrics

log = logging.getLogger("helpdesk.access")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            if route != "/metrics":
                self.metrics.http.labels(route=route, method=method, status=str(status)).observe(seconds)
            log.info("%s %s %s", method, route, status,
                     extra={"request_id": rid, "route": route, "method": method, "status": status,
                            "duration_ms": round(seconds * 1000, 1)})
            logs.request_id.reset(token)


def _route_template(scope: Scope) -> str:
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "") or "?")
    return "unmatched"
