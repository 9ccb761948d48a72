"""Signed Twilio callbacks for every test-call outcome, failover, forgeries and /dev/phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.services.container import Services
from bot.telephony.views import routes
from tests.fakes.accounts import RecordingBus, account_services
from tests.fakes.clock import FixedClock
from tests.fakes.twilio_server import FakeTwilio

SID, TOKEN, FROM = "AC" + "2" * 32, "webhook-auth-token", "+18005550100"
PUBLIC = "https://helpdesk.example.org"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(account_sid=SID, auth_token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def services(tmp_path: Path, twilio: FakeTwilio) -> Iterator[Services]:
    s = account_services(tmp_path, clock=FixedClock(), twilio_account_sid=SID, twilio_auth_token=TOKEN,
                         twilio_from_number=FROM, twilio_base_url=twilio.url, public_url=PUBLIC)
    yield s
    s.close()


@pytest.fixture
def bus(services: Services) -> RecordingBus:
    return RecordingBus(services)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=routes(services)), base_url="http://testserver") as c:
        yield c


class Call:
    """One placed test call, and Twilio's side of it."""

    def __init__(self, client: TestClient, call_id: str) -> None:
        self.client, self.call_id, self.leg = client, call_id, 0

    def post(self, hook: str, token: str = TOKEN, *, sign: bool = True, **params: str) -> Any:
        path = f"/twilio/{hook}?call={self.call_id}&leg={self.leg}"
        form = {"AccountSid": SID, "CallSid": "CA" + "9" * 32, **params}
        headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(PUBLIC + path, form)} if sign else {}
        return self.client.post(path, data=form, headers=headers)

    def answer(self, answered_by: str = "human") -> Any:
        return self.post("voice", CallStatus="in-progress", AnsweredBy=answered_by)

    def press(self, digits: str) -> Any:
        return self.post("gather", CallStatus="in-progress", Digits=digits)

    def status(self, status: str) -> Any:
        return self.post("status", CallStatus=status)


@pytest.fixture
async def call(services: Services, client: TestClient) -> Call:
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="user-7")
    return Call(client, placed.call_id)


def test_answer_asks_for_pound_with_a_one_digit_gather(call: Call) -> None:
    response = call.answer()
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    body = response.text
    assert '<Gather' in body and 'finishOnKey=""' in body and 'numDigits="1"' in body
    assert 'actionOnEmptyResult="true"' in body and "pound key" in body
    assert f"{PUBLIC}/twilio/gather?call={call.call_id}&amp;leg=0" in body


def test_pound_confirms_and_is_pushed_to_the_conversation(call: Call, bus: RecordingBus) -> None:
    call.answer()
    assert "Goodbye" in call.press("#").text
    assert bus.triggers == [{"sender_id": "user-7", "intent": "EXTERNAL_test_call_outcome",
                             "entities": {"call_outcome": "confirmed", "call_purpose": "test",
                                          "call_id": call.call_id}}]


def test_any_other_key_is_hash_not_pressed(call: Call, bus: RecordingBus) -> None:
    call.answer()
    call.press("5")
    assert bus.outcomes == ["hash_not_pressed"]


def test_no_input_is_timed_out(call: Call, bus: RecordingBus) -> None:
    call.answer()
    call.press("")
    assert bus.outcomes == ["no_input_timeout"]


def test_hang_up_before_input_is_call_disconnected(call: Call, bus: RecordingBus) -> None:
    call.answer()
    call.status("completed")
    assert bus.outcomes == ["call_disconnected"]


def test_the_completed_callback_after_an_outcome_changes_nothing(call: Call, bus: RecordingBus) -> None:
    call.answer()
    call.press("#")
    call.status("completed")
    assert bus.outcomes == ["confirmed"]


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_unanswered_primary_fails_over_to_the_secondary(call: Call, twilio: FakeTwilio, status: str,
                                                        bus: RecordingBus) -> None:
    call.status(status)
    assert [r.one("To") for r in twilio.calls] == ["+19195550101", "+19195550102"]
    assert twilio.calls[1].one("Url").endswith(f"call={call.call_id}&leg=1")
    assert bus.outcomes == []


def test_secondary_answering_confirms(call: Call, bus: RecordingBus) -> None:
    call.status("no-answer")
    call.leg = 1
    call.answer()
    call.press("#")
    assert bus.outcomes == ["confirmed"]


def test_no_answer_on_both_numbers_is_no_call_received(call: Call, bus: RecordingBus) -> None:
    call.status("no-answer")
    call.leg = 1
    call.status("no-answer")
    assert bus.outcomes == ["no_call_received"]


def test_a_stale_callback_for_the_first_leg_is_ignored(call: Call, bus: RecordingBus, twilio: FakeTwilio) -> None:
    call.status("no-answer")
    call.status("no-answer")  # Twilio retrying leg 0
    assert len(twilio.calls) == 2 and bus.outcomes == []


def test_voicemail_hangs_up_and_never_confirms(call: Call, bus: RecordingBus) -> None:
    body = call.answer("machine_end_beep").text
    assert "<Hangup" in body and "<Gather" not in body
    call.press("#")
    assert bus.outcomes == []


def test_voicemail_on_both_numbers_is_reported_as_voicemail(call: Call, bus: RecordingBus, twilio: FakeTwilio) -> None:
    call.answer("machine_start")
    call.status("completed")
    assert len(twilio.calls) == 2
    call.leg = 1
    call.post("amd", AnsweredBy="machine_end_silence")
    call.status("completed")
    assert bus.outcomes == ["voicemail"]


def test_forged_signature_gets_403_and_changes_nothing(call: Call, bus: RecordingBus, services: Services) -> None:
    call.answer()
    response = call.post("gather", "wrong-token", Digits="#")
    assert response.status_code == 403
    assert services.phone_calls.get(call.call_id).outcome is None and bus.outcomes == []


def test_unsigned_request_gets_403(call: Call, services: Services) -> None:
    assert call.post("voice", sign=False, CallStatus="in-progress").status_code == 403
    assert services.phone_calls.get(call.call_id).answered is False


def test_signature_for_other_parameters_gets_403(call: Call, bus: RecordingBus) -> None:
    call.answer()
    path = f"/twilio/gather?call={call.call_id}&leg=0"
    signed = RequestValidator(TOKEN).compute_signature(PUBLIC + path, {"Digits": "1"})
    response = call.client.post(path, data={"Digits": "#"}, headers={"X-Twilio-Signature": signed})
    assert response.status_code == 403 and bus.outcomes == []


async def test_phone_change_is_saved_only_after_pound(services: Services, client: TestClient, bus: RecordingBus) -> None:
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="u", purpose="change_phone",
                                              new_primary="+12025550199", new_secondary="+12025550198")
    call = Call(client, placed.call_id)
    call.answer()
    assert services.accounts.directory.lookup("phoneuser01").primary_phone == "+19195550101"
    call.press("#")
    account = services.accounts.directory.lookup("phoneuser01")
    assert (account.primary_phone, account.secondary_phone) == ("+12025550199", "+12025550198")
    assert bus.triggers[0]["entities"]["call_purpose"] == "change_phone"


async def test_unconfirmed_phone_change_saves_nothing(services: Services, client: TestClient, bus: RecordingBus) -> None:
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="u", purpose="change_phone",
                                              new_primary="+12025550199")
    call = Call(client, placed.call_id)
    call.answer()
    call.press("1")
    assert services.accounts.directory.lookup("phoneuser01").primary_phone == "+19195550101"
    assert bus.outcomes == ["hash_not_pressed"]


def test_phone_simulator_does_not_exist_with_real_twilio(client: TestClient) -> None:
    assert client.get("/dev/phone").status_code == 404


def test_phone_simulator_does_not_exist_in_production(tmp_path: Path) -> None:
    s = account_services(tmp_path, clock=FixedClock(), mode="production", api_token="t" * 32)
    try:
        with TestClient(Starlette(routes=routes(s))) as c:
            assert c.get("/dev/phone").status_code == 404
            assert c.get("/dev/phone/calls").status_code == 404
    finally:
        s.close()


def test_webhook_without_a_call_id_is_rejected(client: TestClient) -> None:
    form = {"CallStatus": "completed"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/status", form)
    assert client.post("/twilio/status", data=form, headers={"X-Twilio-Signature": signature}).status_code == 400
