"""Activation codes: TOTP on a fixed clock, 10-minute expiry, supersession, replay, limits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from bot.accounts.crypto import SecretBox
from bot.accounts.models import Account, ActivationCode, AuditEntry
from bot.errors import RateLimited
from bot.services.container import Services
from bot.storage.db import session_scope
from tests.fakes.accounts import TEST_SECRET, account_services
from tests.fakes.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Services:
    s = account_services(tmp_path, clock=clock)
    yield s
    s.close()


def secret_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["secret"][0]


def code_at(url: str, clock: FixedClock, offset: int = 0) -> str:
    totp = pyotp.TOTP(secret_of(url))
    return totp.generate_otp(totp.timecode(clock.now()) + offset)


def test_new_code_has_secret_url_and_svg_qr(services: Services) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert new.url.startswith("otpauth://totp/") and "issuer=NCTracks" in new.url
    assert new.code.replace(" ", "") == secret_of(new.url)
    assert new.qr_data_url.startswith("data:image/svg+xml")


def test_code_from_the_app_finishes_enrollment(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="notreg01", sender_id="s")
    assert services.accounts.activation.confirm(ncid="notreg01", code=code_at(new.url, clock), sender_id="s") == "confirmed"
    account = services.accounts.directory.lookup("notreg01")
    assert (account.state, account.method) == ("registered", "app")


def test_one_time_step_either_side_is_accepted(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert services.accounts.activation.confirm(ncid="appuser01", code=code_at(new.url, clock, -1), sender_id="s") == "confirmed"


def test_two_time_steps_away_is_refused(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert services.accounts.activation.confirm(ncid="appuser01", code=code_at(new.url, clock, 2), sender_id="s") == "wrong_code"


def test_a_used_code_is_refused(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    code = code_at(new.url, clock)
    services.accounts.activation.confirm(ncid="appuser01", code=code, sender_id="s")
    assert services.accounts.activation.confirm(ncid="appuser01", code=code, sender_id="s") == "replayed"


def test_code_expires_after_ten_minutes(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert new.expires_at == clock.now() + timedelta(minutes=10)
    clock.advance(minutes=10)
    assert services.accounts.activation.confirm(ncid="appuser01", code=code_at(new.url, clock), sender_id="s") == "expired"


def test_a_new_code_invalidates_the_old(services: Services, clock: FixedClock) -> None:
    activation = services.accounts.activation
    old = activation.generate(ncid="appuser01", sender_id="s")
    new = activation.generate(ncid="appuser01", sender_id="s")
    assert activation.confirm(ncid="appuser01", code=code_at(old.url, clock), sender_id="s") == "wrong_code"
    assert activation.confirm(ncid="appuser01", code=code_at(new.url, clock), sender_id="s") == "confirmed"
    assert activation.pending_count(ncid="appuser01") == 0


def test_too_many_wrong_codes_need_a_new_activation(services: Services, clock: FixedClock) -> None:
    activation = services.accounts.activation
    new = activation.generate(ncid="appuser01", sender_id="s")
    results = [activation.confirm(ncid="appuser01", code="000000", sender_id="s") for _ in range(6)]
    assert results[-1] == "too_many"
    assert activation.confirm(ncid="appuser01", code=code_at(new.url, clock), sender_id="s") == "too_many"


def test_non_six_digit_input_is_a_format_error(services: Services) -> None:
    services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert services.accounts.activation.confirm(ncid="appuser01", code="12ab56", sender_id="s") == "invalid_format"


def test_activation_codes_are_rate_limited_per_hour(services: Services, clock: FixedClock) -> None:
    for _ in range(5):
        services.accounts.activation.generate(ncid="appuser01", sender_id="s")
        clock.advance(minutes=1)
    with pytest.raises(RateLimited) as caught:
        services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    assert caught.value.retry_after == 55 * 60  # the oldest of the five leaves the window


def test_secrets_are_encrypted_at_rest_and_never_audited(services: Services, clock: FixedClock) -> None:
    new = services.accounts.activation.generate(ncid="appuser01", sender_id="s")
    services.accounts.activation.confirm(ncid="appuser01", code=code_at(new.url, clock), sender_id="s")
    secret = secret_of(new.url)
    with session_scope(services.sessions) as session:
        stored = [session.get(Account, "appuser01").totp_secret]
        stored += list(session.scalars(select(ActivationCode.secret)))
        audit = repr([(a.detail, a.outcome) for a in session.scalars(select(AuditEntry))])
    assert all(secret not in s for s in stored)
    assert {SecretBox(TEST_SECRET).decrypt(s) for s in stored} == {secret}
    assert secret not in audit and TEST_SECRET not in audit
