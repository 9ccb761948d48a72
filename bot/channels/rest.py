"""Rasa-compatible HTTP API: REST channel webhook, /model/parse, tracker and trigger_intent."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.channels.credentials import HEADER as CREDENTIAL_HEADER, OPEN_CHANNEL, conversation_guard, limit_key
from bot.channels.sender_id import validate_sender
from bot.dialogue.responses import BotMessage
from bot.errors import BadRequest, Forbidden, NotFound, Unauthorized
from bot.knowledge.render import render
from bot.runtime import Runtime

MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 255
# No request we understand nests deeper than this; deeper JSON is refused before any use
# (Python's parser and encoder recurse, so 3,000 levels would otherwise be a 500).
MAX_JSON_DEPTH = 32


async def read_json_object(request: Request, *, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object, or a BadRequest that says what is wrong."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"request body is larger than {limit} bytes", status=413)
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BadRequest(f"request body is larger than {limit} bytes", status=413)
    except ClientDisconnect:  # the client went away mid-body: nothing to do, and no server error
        raise BadRequest("the request body did not arrive: the client disconnected") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not valid UTF-8") from exc
    if _nesting(text) > MAX_JSON_DEPTH:
        raise BadRequest(f"request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc.msg}") from exc
    except RecursionError as exc:  # belt and braces: _nesting counts brackets outside strings
        raise BadRequest(f"request body nests deeper than {MAX_JSON_DEPTH} levels") from exc
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    return value


# No request we understand nests deeper than this; deeper JSON is refused before any use
# (Python's parser and encoder recurse, so 3,000 levels would otherwise be a 500).
MAX_JSON_DEPTH = 32
def _nesting(text: str) -> int:
    """The deepest bracket nesting outside JSON strings, counted without recursion."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # the common case: a flat body costs two counts
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def message_json(message: BotMessage, *, recipient_id: str, channel: str) -> dict[str, Any]:
    out: dict[str, Any] = {"recipient_id": recipient_id, **message.as_dict()}
    if channel == "web" and message.text:
        # The widget gets HTML rendered here, with raw HTML disabled, so it never parses Markdown.
        out["custom"] = {**(out.get("custom") or {}), "html": render(message.text, "html")}
    return out


def _check_token(runtime: Runtime, request: Request) -> None:
    token = runtime.settings.api_token
    if not token:
        return
    given = request.query_params.get("token") or ""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:]
    import hmac

    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("a valid API token is required")


def routes(runtime: Runtime) -> list[BaseRoute]:
    assistant = runtime.assistant

    guard = conversation_guard(runtime)

    async def webhook(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        sender = validate_sender(body.get("sender"))
        text = body.get("message")
        if not isinstance(text, str):
            raise BadRequest("'message' is required and must be a string", status=422)
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise BadRequest("'metadata' must be a JSON object", status=422)
        channel = "web" if metadata.get("channel") == "web" else "rest"
        # Issue 14: a conversation another channel started (the widget's) goes on only with its
        # credential; the session an identity check binds to is set here, never by the caller.
        owner = guard.owner(sender)
        session = guard.session(request, sender)
        if owner is not None and owner != OPEN_CHANNEL and session.startswith("anon:"):
            raise Forbidden("this conversation continues only with its credential "
                            f"(the {CREDENTIAL_HEADER} header of its first reply)")
        # Only what we understand is kept; "client" keys the per-client abuse limits.
        metadata = {"channel": channel, "session": session, "client": limit_key(request)}
        messages = await assistant.handle_message(sender_id=sender, text=text, metadata=metadata)
        headers = None
        if owner is None:  # a new conversation: its credential, once
            headers = {CREDENTIAL_HEADER: guard.credential(sender)}
            guard.remember(sender, channel)
        return JSONResponse([message_json(m, recipient_id=sender, channel=channel) for m in messages],
                            headers=headers)

    async def parse(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise BadRequest("'text' is required and must be a string", status=422)
        if len(text) > runtime.settings.dialogue.max_message_chars:
            raise BadRequest(f"'text' is longer than {runtime.settings.dialogue.max_message_chars} characters",
                             status=422)
        result = runtime.interpreter.parse(text)
        result.pop("is_payload", None)
        return JSONResponse(result)

    async def tracker(request: Request) -> JSONResponse:
        _check_token(runtime, request)
        sender = validate_sender(request.path_params["sender"])
        state = assistant.state(sender)
        if state is None:
            raise NotFound(f"no conversation {sender}")
        data = state.as_rasa_tracker()
        data["events"] = [{k: v for k, v in e.items() if not k.startswith("_")} for e in data["events"]]
        return JSONResponse(data)

    async def trigger_intent(request: Request) -> JSONResponse:
        _check_token(runtime, request)
        sender = validate_sender(request.path_params["sender"])
        body = await read_json_object(request)
        name = body.get("name")
        entities = body.get("entities") or {}
        if not isinstance(name, str) or not name or not isinstance(entities, dict):
            raise BadRequest("body must be {'name': intent, 'entities': {...}}", status=422)
        messages = await assistant.trigger_intent(sender_id=sender, intent=name, entities=entities,
                                                  metadata={"channel": "rest"})
        # The caller is a system, not the conversation's user: never a secret, only its placeholder.
        return JSONResponse({"messages": [message_json(m.as_stored(), recipient_id=sender, channel="rest")
                                          for m in messages]})

    return [
        Route("/webhooks/rest/webhook", webhook, methods=["POST"]),
        Route("/model/parse", parse, methods=["POST"]),
        Route("/conversations/{sender}/tracker", tracker, methods=["GET"]),
        Route("/conversations/{sender}/trigger_intent", trigger_intent, methods=["POST"]),
    ]
