"""The /dev/phone simulator drives the same signed webhooks Twilio would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.services.container import Services
from bot.telephony.views import routes
from tests.fakes.accounts import RecordingBus, account_services
from tests.fakes.clock import FixedClock


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = account_services(tmp_path, clock=FixedClock())  # development, no Twilio credentials
    yield s
    s.close()


@pytest.fixture
def bus(services: Services) -> RecordingBus:
    return RecordingBus(services)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=routes(services))) as c:
        yield c


async def ring(services: Services, client: TestClient) -> str:
    await services.phone_calls.place(ncid="phoneuser01", sender_id="sim-user")
    [call] = client.get("/dev/phone/calls").json()["calls"]
    assert call["state"] == "ringing" and call["to"] == "+19195550101"
    return call["sid"]


def test_page_is_served_in_development(client: TestClient) -> None:
    page = client.get("/dev/phone")
    assert page.status_code == 200 and "Phone simulator" in page.text
    assert client.get("/dev/phone/static/phone.js").status_code == 200
    assert client.get("/dev/phone/static/../views.py").status_code == 404


async def test_answer_speaks_the_twiml_and_pound_confirms(services: Services, client: TestClient,
                                                         bus: RecordingBus) -> None:
    sid = await ring(services, client)
    answered = client.post(f"/dev/phone/calls/{sid}/answer").json()["call"]
    assert answered["state"] == "in-progress" and answered["gather"] and "pound key" in answered["say"][0]
    pressed = client.post(f"/dev/phone/calls/{sid}/press", json={"digit": "#"}).json()["call"]
    assert pressed["state"] == "ended" and "confirmed" in pressed["say"][0]
    assert bus.outcomes == ["confirmed"]


async def test_ringing_out_moves_to_the_secondary(services: Services, client: TestClient, bus: RecordingBus) -> None:
    sid = await ring(services, client)
    calls = client.post(f"/dev/phone/calls/{sid}/no-answer").json()["calls"]
    assert [c["to"] for c in calls] == ["+19195550102"]
    client.post(f"/dev/phone/calls/{calls[0]['sid']}/no-answer")
    assert bus.outcomes == ["no_call_received"]


async def test_hanging_up_an_answered_call_is_call_disconnected(services: Services, client: TestClient,
                                                               bus: RecordingBus) -> None:
    sid = await ring(services, client)
    client.post(f"/dev/phone/calls/{sid}/answer")
    client.post(f"/dev/phone/calls/{sid}/hangup")
    assert bus.outcomes == ["call_disconnected"]


async def test_staying_silent_times_out(services: Services, client: TestClient, bus: RecordingBus) -> None:
    sid = await ring(services, client)
    client.post(f"/dev/phone/calls/{sid}/answer")
    client.post(f"/dev/phone/calls/{sid}/silence")
    assert bus.outcomes == ["no_input_timeout"]


async def test_voicemail_never_confirms(services: Services, client: TestClient, bus: RecordingBus) -> None:
    sid = await ring(services, client)
    calls = client.post(f"/dev/phone/calls/{sid}/voicemail").json()["calls"]
    client.post(f"/dev/phone/calls/{calls[0]['sid']}/voicemail")
    assert bus.outcomes == ["voicemail"]


async def test_keys_are_refused_before_answering(services: Services, client: TestClient) -> None:
    sid = await ring(services, client)
    assert client.post(f"/dev/phone/calls/{sid}/press", json={"digit": "#"}).status_code == 409
