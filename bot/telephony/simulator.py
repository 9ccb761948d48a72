"""The phone simulator (development only): /dev/phone plays Twilio's part for simulated
calls. Every button builds the webhook Twilio would send, signs it with the simulator's
auth token, and posts it to the real webhook route in-process, so the same signature
check and the same code paths run as with real Twilio."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator

from bot.services.phone_calls import SimCall, SimulatedTwilio

if TYPE_CHECKING:
    from bot.services.container import Services

HERE = Path(__file__).parent
KEYS = set("0123456789*#")


def simulator_routes(services: "Services") -> list[BaseRoute]:
    sim = services.phone_calls.simulator if services.phone_calls is not None else None
    if not services.settings.development or sim is None:
        return []  # the routes do not exist: 404

    async def page(request: Request) -> Response:
        return FileResponse(HERE / "templates" / "phone.html", media_type="text/html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in {"phone.js", "phone.css"}:
            return Response(status_code=404)
        return FileResponse(HERE / "static" / name)

    async def calls(request: Request) -> Response:
        return JSONResponse({"calls": [_view(c) for c in sim.active()]})

    async def act(request: Request) -> Response:
        call = sim.calls.get(request.path_params["sid"])
        if call is None or call.state == "ended":
            return JSONResponse({"error": "no such ringing call"}, status_code=404)
        action = request.path_params["action"]
        body: dict[str, Any] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
        twilio = _Twilio(sim, call, request.app)
        if action == "answer" and call.state == "ringing":
            await twilio.answer("human")
        elif action == "voicemail" and call.state == "ringing":
            await twilio.answer("machine_end_beep")
        elif action == "no-answer" and call.state == "ringing":
            await twilio.end("no-answer")
        elif action == "hangup":
            await twilio.end("completed" if call.state == "in-progress" else "busy")
        elif action == "press" and call.state == "in-progress" and str(body.get("digit")) in KEYS:
            await twilio.gather(str(body["digit"]))
        elif action == "silence" and call.state == "in-progress":
            await twilio.gather("")
        else:
            return JSONResponse({"error": f"cannot {action} now"}, status_code=409)
        return JSONResponse({"call": _view(call), "calls": [_view(c) for c in sim.active()]})

    return [
        Route("/dev/phone", page, methods=["GET"]),
        Route("/dev/phone/static/{name}", asset, methods=["GET"]),
        Route("/dev/phone/calls", calls, methods=["GET"]),
        Route("/dev/phone/calls/{sid}/{action}", act, methods=["POST"]),
    ]


def _view(call: SimCall) -> dict[str, Any]:
    return {"sid": call.sid, "to": call.to, "state": call.state, "say": list(call.say),
            "gather": call.gather_url is not None}


class _Twilio:
    """What Twilio would do for one call, one step at a time."""

    def __init__(self, sim: SimulatedTwilio, call: SimCall, app: Any) -> None:
        self.sim, self.call, self.app = sim, call, app

    def _params(self, status: str, **extra: str) -> dict[str, str]:
        return {"AccountSid": self.sim.account_sid, "CallSid": self.call.sid, "From": self.call.from_,
                "To": self.call.to, "CallStatus": status, "Direction": "outbound-api",
                "ApiVersion": "2010-04-01", **extra}

    async def _post(self, url: str, params: dict[str, str]) -> str:
        signature = RequestValidator(self.sim.auth_token).compute_signature(url, params)
        parts = urlsplit(url)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=f"{parts.scheme}://{parts.netloc}") as client:
            response = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()
        return response.text

    def _play(self, twiml: str) -> None:
        """Read the TwiML: what it says, whether it waits for a key, whether it hangs up."""
        root = ElementTree.fromstring(twiml) if twiml.strip() else ElementTree.Element("Response")
        self.call.say = tuple((e.text or "").strip() for e in root.iter("Say"))
        gather = root.find("Gather")
        self.call.gather_url = gather.get("action") if gather is not None else None

    async def answer(self, answered_by: str) -> None:
        self.call.state = "in-progress"
        self._play(await self._post(self.call.url, self._params("in-progress", AnsweredBy=answered_by)))
        if self.call.gather_url is None:
            await self.end("completed")

    async def gather(self, digits: str) -> None:
        assert self.call.gather_url is not None
        self._play(await self._post(self.call.gather_url, self._params("in-progress", Digits=digits)))
        await self.end("completed")

    async def end(self, status: str) -> None:
        self.call.state, self.call.gather_url = "ended", None
        await self._post(self.call.status_callback, self._params(status, CallDuration="5"))
