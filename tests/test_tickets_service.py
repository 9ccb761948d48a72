"""Ticket creation (with its email in the same unit of work), status lookup, transcripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.container import Services
from bot.storage.db import session_scope
from bot.storage.models import Conversation, ConversationEvent
from bot import tracking_numbers as tracking
from bot.storage.outbox import OutboxEmail
from bot.tickets.models import Ticket
from bot.tickets.service import TicketForm, build_transcript, render_acknowledgement
from tests.fakes import make_services
from tests.fakes.clock import FixedClock

FORM = TicketForm(npi="1234567893", phone="(919) 555-0134", ext="12", last_name="Smith",
                  first_name="Jane", subject="MFA Issue", email="jane@clinic.org",
                  message="Error E05 after waiting 60 minutes; my SSN is 123-45-6789.")


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = make_services(tmp_path, clock=FixedClock())
    yield services
    services.close()


def add_conversation(services: Services, sender_id: str, texts: list[tuple[str, str]]) -> None:
    now = services.clock.now()
    with session_scope(services.sessions) as session:
        session.add(Conversation(sender_id=sender_id, channel="rest", created_at=now, updated_at=now,
                                 turn_count=len(texts), paused=False))
        for seq, (kind, text) in enumerate(texts):
            session.add(ConversationEvent(sender_id=sender_id, seq=seq, type=kind, timestamp=float(seq),
                                          data={"event": kind, "text": text}, text=text))


def test_created_ticket_has_a_tracking_number_in_the_documented_format(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    assert tracking.PATTERN.match(receipt.tracking_number)


def test_ticket_and_acknowledgement_email_are_stored_together(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    with session_scope(services.sessions) as session:
        ticket = session.scalar(select(Ticket))
        email = session.scalar(select(OutboxEmail))
    assert ticket is not None and email is not None
    assert email.ticket_id == ticket.id and email.to == "jane@clinic.org"
    assert receipt.tracking_number in email.text


def test_ticket_message_is_stored_redacted(services: Services) -> None:
    services.tickets.create(form=FORM)
    with session_scope(services.sessions) as session:
        ticket = session.scalar(select(Ticket))
    assert ticket is not None and "123-45-6789" not in ticket.message
    assert "[redacted SSN]" in ticket.message


def test_ticket_starts_new_with_a_history_event(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    status = services.tickets.status(tracking_number=receipt.tracking_number, email="jane@clinic.org")
    assert status is not None and status.status == "new" and status.history[0]["status"] == "new"


def test_ticket_keeps_the_diagnosis(services: Services) -> None:
    services.tickets.create(form=FORM, diagnosis={"error_code": "E05", "tried": ["test call"]})
    with session_scope(services.sessions) as session:
        ticket = session.scalar(select(Ticket))
    assert ticket is not None and ticket.error_code == "E05" and ticket.diagnosis["tried"] == ["test call"]


def test_transcript_is_built_from_the_conversation_and_redacted(services: Services) -> None:
    add_conversation(services, "s1", [("user", "I got E05, dob 01/02/1980"), ("bot", "Wait 60 minutes.")])
    services.tickets.create(form=FORM, sender_id="s1", channel="rest")
    with session_scope(services.sessions) as session:
        ticket = session.scalar(select(Ticket))
    assert ticket is not None
    assert [t["text"] for t in ticket.transcript] == ["I got E05, dob [redacted date of birth]", "Wait 60 minutes."]


def test_transcript_skips_other_conversations(services: Services) -> None:
    add_conversation(services, "a", [("user", "hello from a")])
    add_conversation(services, "b", [("user", "hello from b")])
    with session_scope(services.sessions) as session:
        assert [t["text"] for t in build_transcript(session=session, sender_id="a")] == ["hello from a"]


def test_status_accepts_a_sloppily_typed_number_and_email_case(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    typed = receipt.tracking_number.lower().replace("-", " ")
    assert services.tickets.status(tracking_number=typed, email="JANE@clinic.org ") is not None


def test_status_with_the_wrong_email_discloses_nothing(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    assert services.tickets.status(tracking_number=receipt.tracking_number, email="bob@clinic.org") is None


def test_status_of_an_unknown_number_is_none(services: Services) -> None:
    assert services.tickets.status(tracking_number="MFA-0000-0000-0000", email="jane@clinic.org") is None


def test_acknowledgement_carries_the_seed_facts(services: Services) -> None:
    services.tickets.create(form=FORM)
    with session_scope(services.sessions) as session:
        ticket = session.scalar(select(Ticket))
        assert ticket is not None
        _, text, html = render_acknowledgement(ticket=ticket)
    for fact in ("1-800-688-6696", "855-710-1965", "7:00 AM - 11:00 PM EST, Monday through Friday",
                 "7:00 AM - 6:00 PM EST on weekends and State-approved holidays",
                 "This is a system generated message. Please do not reply to it.",
                 "Protected Health Identifiers (PHI)", "800-688-6696", ticket.tracking_number,
                 # the fixed clock's 15:00 UTC on December 2 is 10:00 AM in North Carolina
                 "12/02/2026 10:00 AM EST"):
        assert fact in text and fact in html


def test_acknowledgement_html_escapes_user_input(services: Services) -> None:
    form = TicketForm(**{**FORM.__dict__, "first_name": "<b>Jane</b>"})
    services.tickets.create(form=form)
    with session_scope(services.sessions) as session:
        email = session.scalar(select(OutboxEmail))
    assert email is not None and email.html is not None
    assert "<b>Jane</b>" not in email.html and "&lt;b&gt;Jane&lt;/b&gt;" in email.html


def test_without_smtp_the_email_is_captured(services: Services) -> None:
    assert services.tickets.create(form=FORM).email_status == "captured"
