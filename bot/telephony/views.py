"""TwiML webhooks for test calls. Each checks X-Twilio-Signature against the exact public
URL first: a forged or unsigned request gets 403 and changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import yaml
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

if TYPE_CHECKING:
    from bot.services.container import Services

log = logging.getLogger(__name__)
PROMPTS_FILE = Path(__file__).with_name("prompts.yml")


def public_url(services: "Services", request: Request) -> str:
    """The URL Twilio signed: the configured public URL + path, else the request URL."""
    query = f"?{request.url.query}" if request.url.query else ""
    if services.settings.public_url:
        return services.settings.public_url.rstrip("/") + request.url.path + query
    return str(request.url)


def routes(services: "Services") -> list[BaseRoute]:
    prompts: dict[str, str] = yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))
    calls = services.phone_calls

    def twiml(response: VoiceResponse, task: BackgroundTask | None = None) -> Response:
        return Response(str(response), media_type="application/xml", background=task)

    def signed(handler: Callable[[Request, str, int, dict[str, str]], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = await request.form()
            params = {k: str(v) for k, v in form.items()}
            token = calls.auth_token if calls is not None else None
            signature = request.headers.get("X-Twilio-Signature", "")
            if not token or not signature or not RequestValidator(token).validate(
                public_url(services, request), params, signature
            ):
                log.warning("rejected a Twilio webhook with a missing or bad signature: %s", request.url.path)
                return PlainTextResponse("invalid signature", status_code=403)
            try:
                call_id, leg = request.query_params["call"], int(request.query_params.get("leg", "0"))
            except (KeyError, ValueError):
                return PlainTextResponse("missing call", status_code=400)
            return await handler(request, call_id, leg, params)
        return endpoint

    def publish(final: Any) -> BackgroundTask | None:
        # After the response: Twilio wants a quick answer; the chat turn can take longer.
        return BackgroundTask(calls.publish, final) if final is not None else None

    async def voice(request: Request, call_id: str, leg: int, params: dict[str, str]) -> Response:
        response = VoiceResponse()
        if calls.on_voice(call_id=call_id, leg=leg, params=params) == "gather":
            gather = response.gather(
                action=calls.url(f"/twilio/gather?call={call_id}&leg={leg}"), method="POST",
                finish_on_key="", num_digits=1, timeout=10, action_on_empty_result=True,
            )
            gather.say(prompts["ask_for_hash"])
        else:
            response.hangup()
        return twiml(response)

    async def gather(request: Request, call_id: str, leg: int, params: dict[str, str]) -> Response:
        final = calls.on_gather(call_id=call_id, leg=leg, params=params)
        response = VoiceResponse()
        if final is not None and final.outcome in prompts:
            response.say(prompts[final.outcome])
        response.hangup()
        return twiml(response, publish(final))

    async def status(request: Request, call_id: str, leg: int, params: dict[str, str]) -> Response:
        final = await calls.on_status(call_id=call_id, leg=leg, params=params)
        return Response(status_code=204, background=publish(final))

    async def amd(request: Request, call_id: str, leg: int, params: dict[str, str]) -> Response:
        calls.on_amd(call_id=call_id, leg=leg, params=params)
        return Response(status_code=204)

    result: list[BaseRoute] = [
        Route("/twilio/voice", signed(voice), methods=["POST"]),
        Route("/twilio/gather", signed(gather), methods=["POST"]),
        Route("/twilio/status", signed(status), methods=["POST"]),
        Route("/twilio/amd", signed(amd), methods=["POST"]),
    ]
    from bot.telephony.simulator import simulator_routes

    result.extend(simulator_routes(services))
    return result
