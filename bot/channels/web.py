"""The web chat widget: its page, the conversation history and the live stream (SSE)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.credentials import HEADER as CREDENTIAL_HEADER, conversation_guard
from bot.channels.sender_id import validate_sender
from bot.errors import BadRequest, Forbidden, NotFound
from bot.knowledge.render import render
from bot.runtime import Runtime

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
# A comment line keeps proxies from closing an idle stream.
HEARTBEAT_SECONDS = 15.0
_MESSAGE_ID = re.compile(r"[0-9]{1,18}")


def routes(runtime: Runtime) -> list[BaseRoute]:
    store = runtime.assistant.store

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    guard = conversation_guard(runtime)

    def _may_read(request: Request, sender: str) -> None:
        # Issue 14: a sender id is a name; reading needs the conversation's credential (or the API token).
        if not guard.may_read(request, sender):
            raise Forbidden(f"reading a conversation needs its credential (the {CREDENTIAL_HEADER} header "
                            "of its first reply) or the API token")

    async def messages(request: Request) -> JSONResponse:
        sender = validate_sender(request.path_params["sender"])
        _may_read(request, sender)
        after = request.query_params.get("after", "0")
        # ASCII digits only and at most 18 of them: int("²") fails and a 25-digit id overflows SQL.
        if not _MESSAGE_ID.fullmatch(after):
            raise BadRequest("'after' must be a message id (a whole number)")
        if not store.exists(sender):
            raise NotFound(f"no conversation {sender}")
        items = store.messages(sender, after_id=int(after))
        for item in items:
            if item["from"] == "bot" and item.get("text"):
                item["custom"] = {**(item.get("custom") or {}), "html": render(item["text"], "html")}
        return JSONResponse({"sender_id": sender, "messages": items})

    async def stream(request: Request) -> StreamingResponse:
        sender = validate_sender(request.path_params["sender"])
        _may_read(request, sender)
        queue = runtime.live.subscribe(sender)

        async def events() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    except asyncio.TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": heartbeat\n\n"
                        continue
                    if message.get("text"):
                        message = {**message, "custom": {**(message.get("custom") or {}),
                                                         "html": render(message["text"], "html")}}
                    yield f"data: {json.dumps({'recipient_id': sender, **message})}\n\n"
            finally:
                runtime.live.unsubscribe(sender, queue)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def activation_qr(request: Request) -> Response:
        """Issue 14: the QR of a new activation code, served once, while the code is valid."""
        accounts = runtime.services.accounts
        png = accounts.activation.qr_png(request.path_params["token"]) if accounts is not None else None
        if png is None:
            raise NotFound("this QR code link has expired or was already used")
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    return [
        Route("/", index, methods=["GET"]),
        Route("/activation/qr/{token}", activation_qr, methods=["GET"]),
        Route("/conversations/{sender}/messages", messages, methods=["GET"]),
        Route("/conversations/{sender}/stream", stream, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
