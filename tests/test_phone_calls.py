"""TestCallService against a fake Twilio REST server, through the real twilio client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.accounts.models import AuditEntry
from bot.errors import BadRequest, RateLimited, ServiceUnavailable
from bot.services.container import Services
from bot.storage.db import session_scope
from tests.fakes.accounts import RecordingBus, account_services
from tests.fakes.clock import FixedClock
from tests.fakes.twilio_server import FakeTwilio

SID, TOKEN, FROM = "AC" + "1" * 32, "test-auth-token", "+18005550100"
PUBLIC = "https://helpdesk.example.org"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(account_sid=SID, auth_token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock, twilio: FakeTwilio) -> Iterator[Services]:
    s = account_services(tmp_path, clock=clock, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                         twilio_from_number=FROM, twilio_base_url=twilio.url, public_url=PUBLIC)
    yield s
    s.close()


async def test_call_goes_to_the_primary_number_through_twilio(services: Services, twilio: FakeTwilio) -> None:
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    [request] = twilio.calls
    assert request.auth == (SID, TOKEN)
    assert (request.one("To"), request.one("From")) == ("+19195550101", FROM)
    assert request.one("MachineDetection") == "Enable"
    assert request.one("Url") == f"{PUBLIC}/twilio/voice?call={placed.call_id}&leg=0"
    assert request.one("StatusCallback") == f"{PUBLIC}/twilio/status?call={placed.call_id}&leg=0"
    assert placed.to_masked.endswith("01") and "919555" not in placed.to_masked
    assert services.phone_calls.get(placed.call_id).call_sid == twilio.call_sids[0]


async def test_a_number_passed_for_a_plain_test_call_is_ignored(services: Services, twilio: FakeTwilio) -> None:
    await services.phone_calls.place(ncid="phoneuser01", sender_id="s", new_primary="+12025550199")
    assert twilio.calls[0].one("To") == "+19195550101"


async def test_phone_change_calls_only_the_new_primary(services: Services, twilio: FakeTwilio) -> None:
    await services.phone_calls.place(ncid="phoneuser01", sender_id="s", purpose="change_phone",
                                     new_primary="+12025550199", new_secondary="+12025550198")
    assert [r.one("To") for r in twilio.calls] == ["+12025550199"]
    assert services.accounts.directory.lookup("phoneuser01").primary_phone == "+19195550101"


async def test_three_calls_an_hour_then_told_when_to_retry(services: Services, clock: FixedClock) -> None:
    for _ in range(3):
        await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
        clock.advance(minutes=10)
    with pytest.raises(RateLimited) as caught:
        await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    assert caught.value.retry_after == 30 * 60
    assert services.phone_calls.retry_after(ncid="phoneuser01") == 30 * 60
    clock.advance(minutes=31)
    assert services.phone_calls.retry_after(ncid="phoneuser01") == 0


async def test_twilio_refusing_the_primary_fails_over_to_the_secondary(services: Services, twilio: FakeTwilio) -> None:
    twilio.fail_next(status=400, code=21215)
    await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    assert [r.one("To") for r in twilio.calls] == ["+19195550101", "+19195550102"]


async def test_twilio_refusing_both_numbers_is_no_call_received(services: Services, twilio: FakeTwilio) -> None:
    bus = RecordingBus(services)
    twilio.fail_next()
    twilio.fail_next()
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    assert services.phone_calls.get(placed.call_id).outcome == "no_call_received"
    assert bus.triggers == []  # published by the caller of place(), see the webhook tests


async def test_account_without_phones_cannot_get_a_call(services: Services) -> None:
    with pytest.raises(BadRequest):
        await services.phone_calls.place(ncid="appuser01", sender_id="s")


async def test_without_twilio_in_production_calls_are_unavailable(tmp_path: Path, clock: FixedClock) -> None:
    s = account_services(tmp_path, clock=clock, mode="production", api_token="t" * 32)
    try:
        assert s.phone_calls.simulator is None
        with pytest.raises(ServiceUnavailable):
            await s.phone_calls.place(ncid="phoneuser01", sender_id="s")
    finally:
        s.close()


async def test_calls_are_audited_with_masked_numbers_only(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_refusal = services.phone_calls
    await twilio_refusal.place(ncid="phoneuser01", sender_id="s")
    with session_scope(services.sessions) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "test_call")))
        dumped = repr([(r.detail, r.outcome) for r in rows])
    assert rows and rows[0].outcome == "placed" and "01" in dumped
    assert "5550101" not in dumped and "5550101" not in caplog.text
