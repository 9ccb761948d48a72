"""The outbox over a real SMTP server (aiosmtpd on 127.0.0.1): down first, then up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import ConfigError
from bot.services.container import Services
from bot.services.mail import OutboxWorker, SmtpConfig, backoff
from bot.storage.db import session_scope
from bot.storage.outbox import OutboxEmail
from bot.tickets.service import TicketForm
from tests.fakes import make_services
from tests.fakes.clock import FixedClock
from tests.fakes.smtp_server import SmtpServer

FORM = TicketForm(npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
                  subject="MFA Issue", email="jane@clinic.org", message="E05 again after 60 minutes.")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()  # port chosen, server not started: "down"
    yield server
    server.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, smtp: SmtpServer, clock: FixedClock) -> Iterator[Services]:
    services = make_services(tmp_path, clock=clock, smtp_url=smtp.url)
    yield services
    services.close()


def outbox_row(services: Services) -> OutboxEmail:
    with session_scope(services.sessions) as session:
        row = session.scalar(select(OutboxEmail))
        assert row is not None
        return row


async def test_email_is_delivered_to_the_smtp_server(services: Services, smtp: SmtpServer) -> None:
    smtp.start()
    receipt = services.tickets.create(form=FORM)
    assert await services.mail.deliver_due() == 1
    assert outbox_row(services).status == "sent"
    [message] = smtp.messages
    assert message["To"] == "jane@clinic.org"
    assert receipt.tracking_number in message.get_body(("plain",)).get_content()


async def test_email_has_text_and_html_parts(services: Services, smtp: SmtpServer) -> None:
    smtp.start()
    services.tickets.create(form=FORM)
    await services.mail.deliver_due()
    [message] = smtp.messages
    assert message.get_body(("html",)) is not None


async def test_server_down_keeps_the_email_pending_with_back_off(
    services: Services, clock: FixedClock
) -> None:
    services.tickets.create(form=FORM)
    assert await services.mail.deliver_due() == 0
    row = outbox_row(services)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at.replace(tzinfo=clock.now().tzinfo) == clock.now() + timedelta(seconds=30)


async def test_email_goes_out_once_the_server_is_back(
    services: Services, smtp: SmtpServer, clock: FixedClock
) -> None:
    receipt = services.tickets.create(form=FORM)
    await services.mail.deliver_due()
    smtp.start()
    assert await services.mail.deliver_due() == 0  # not due yet: back-off respected
    clock.advance(seconds=30)
    assert await services.mail.deliver_due() == 1
    assert outbox_row(services).status == "sent"
    assert receipt.tracking_number in smtp.messages[0].get_body(("plain",)).get_content()


async def test_email_is_marked_failed_but_kept_after_max_attempts(
    services: Services, clock: FixedClock
) -> None:
    services.mail.max_attempts = 2
    services.tickets.create(form=FORM)
    await services.mail.deliver_due()
    clock.advance(hours=1)
    await services.mail.deliver_due()
    row = outbox_row(services)
    assert row.status == "failed" and row.attempts == 2


def test_back_off_doubles_and_is_capped_at_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_smtp_url_is_parsed() -> None:
    config = SmtpConfig.from_url("smtp://us%40er:p%3Ass@mail.example:2525?starttls=1&from=noreply@nctracks.test")
    assert (config.host, config.port, config.username, config.password, config.starttls, config.sender) == (
        "mail.example", 2525, "us@er", "p:ss", True, "noreply@nctracks.test")


def test_bad_smtp_url_fails_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="HELPDESK_SMTP_URL"):
        SmtpConfig.from_url("http://example.org")


async def test_worker_delivers_in_the_background_and_stops(services: Services, smtp: SmtpServer) -> None:
    smtp.start()
    services.tickets.create(form=FORM)
    worker = OutboxWorker(services.mail, interval=3600)
    worker.start()
    await worker.stop()  # the first round runs before the worker waits
    assert outbox_row(services).status == "sent"
