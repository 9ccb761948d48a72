"""Issue 14, item 6: the development phone simulator signs with a token made for each
process, so a forged "confirmed" call takes more than reading the source.

The attack: place a test call in development mode, then post the Twilio "gather" webhook
with "#" signed with the token that used to be a constant in the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.telephony.views import routes
from tests.fakes.accounts import account_services
from tests.fakes.clock import FixedClock

OLD_CONSTANT = "dev-simulator-auth-token"


async def test_a_webhook_signed_with_the_old_source_constant_is_refused(tmp_path: Path) -> None:
    services = account_services(tmp_path, clock=FixedClock())
    try:
        assert services.phone_calls.simulator is not None  # development mode, no Twilio
        placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="forger-1")
        base = services.phone_calls.public_base
        with TestClient(Starlette(routes=routes(services)), base_url=base) as client:
            for token in (OLD_CONSTANT, ""):
                path = f"/twilio/gather?call={placed.call_id}&leg=0"
                form = {"AccountSid": services.phone_calls.backend.account_sid, "CallSid": "CA" + "1" * 32,
                        "CallStatus": "in-progress", "Digits": "#"}
                signature = RequestValidator(token).compute_signature(base + path, form)
                response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
                assert response.status_code == 403
        assert services.phone_calls.get(placed.call_id).outcome is None
    finally:
        services.close()


def test_each_process_gets_its_own_simulator_token(tmp_path: Path) -> None:
    first = account_services(tmp_path / "a", clock=FixedClock())
    second = account_services(tmp_path / "b", clock=FixedClock())
    try:
        tokens = {first.phone_calls.auth_token, second.phone_calls.auth_token}
        assert len(tokens) == 2 and OLD_CONSTANT not in tokens
        assert all(token and len(token) >= 32 for token in tokens)
    finally:
        first.close()
        second.close()


def test_the_simulator_page_still_confirms_a_call(client: Any, scripted_accounts: None, demo_accounts: Any) -> None:
    """The simulator itself signs with the process's token, so /dev/phone keeps working."""
    for text in ("please place a test call to my phone", "phoneuser01", "rex", "ford"):
        client.post("/webhooks/rest/webhook", json={"sender": "sim-1", "message": text})
    [call] = client.get("/dev/phone/calls").json()["calls"]
    assert client.post(f"/dev/phone/calls/{call['sid']}/answer").status_code == 200
    assert client.post(f"/dev/phone/calls/{call['sid']}/press", json={"digit": "#"}).status_code == 200
    tracker = client.get("/conversations/sim-1/tracker").json()
    assert tracker["slots"]["call_outcome"] == "confirmed"
