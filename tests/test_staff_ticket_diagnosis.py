"""Staff side of the diagnosis: the queue filters on its fields, the ticket page shows the
user's message with the diagnosis beside it (not pasted into it). Tickets come from real
conversations through the REST channel."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from bot.tickets.models import Ticket
from tests.fakes.staff import add_staff, sign_in
from tests.fakes.ticket_form import file_ticket


def _converse(client: Any, runtime: Any, sender: str, *said: str) -> Ticket:
    def say(text: str) -> None:
        assert client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text}).status_code == 200

    for text in said:
        say(text)
    file_ticket(say=say, state=lambda: runtime.assistant.state(sender))
    with runtime.services.sessions() as session:
        return session.scalars(select(Ticket).where(Ticket.sender_id == sender)).one()


@pytest.fixture
def supervisor(client: Any, runtime: Any, clock: Any) -> str:
    add_staff(runtime, "supervisor")
    return sign_in(client, clock, "supervisor")


def test_queue_filters_on_call_failure_and_method(client: Any, runtime: Any, supervisor: str) -> None:
    rang = _converse(client, runtime, "u-call", "the phone never rang")
    app = _converse(client, runtime, "u-app", "I use the authenticator app and it rejects my code")
    e05 = _converse(client, runtime, "u-e05", "I got error E05")
    by_failure = client.get("/staff/tickets", params={"call_failure": "no_call_received"}).text
    assert rang.tracking_number in by_failure and app.tracking_number not in by_failure
    by_method = client.get("/staff/tickets", params={"mfa_method": "app"}).text
    assert app.tracking_number in by_method and rang.tracking_number not in by_method
    by_code = client.get("/staff/tickets", params={"error_code": "E05"}).text
    assert e05.tracking_number in by_code and rang.tracking_number not in by_code
    # the filters offer what the tickets hold
    queue = client.get("/staff/tickets").text
    assert '<option>no_call_received</option>' in queue and "<option>app</option>" in queue
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/tickets.csv", params={"mfa_method": "app"}).text)))
    assert [(r["tracking_number"], r["mfa_method"]) for r in rows] == [(app.tracking_number, "app")]


def test_ticket_page_shows_the_message_with_the_diagnosis_beside_it(client: Any, runtime: Any,
                                                                    supervisor: str) -> None:
    ticket = _converse(client, runtime, "u-page", "I got error E05",
                       "I waited the full hour and it still did not work")
    page = client.get(f"/staff/tickets/{ticket.id}").text
    message = page[page.index('id="ticket-message"'):page.index("</blockquote>")]
    diagnosis = page[page.index('id="ticket-diagnosis"'):page.index("</dl>", page.index('id="ticket-diagnosis"'))]
    assert "<dt>Error code</dt><dd>E05</dd>" in diagnosis
    assert "Waited 60 minutes after the NCID was set up" in diagnosis
    assert "(did not help)" in diagnosis
    assert "Waited 60 minutes" not in message and "did not help" not in message
