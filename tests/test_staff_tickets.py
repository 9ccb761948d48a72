"""Supervisor dashboard: queue filters, sorting, pages, ticket workflow, timer, notes, CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.hours import CallCenterHours
from bot.staff.business_time import business_seconds, first_response_seconds
from bot.tickets.service import TicketForm
from tests.fakes.staff import add_staff, sign_in

UTC = timezone.utc


def _form(**changes: Any) -> TicketForm:
    values = dict(npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
                  subject="MFA Issue", email="jane@clinic.org", message="E05 after registering")
    values.update(changes)
    return TicketForm(**values)


def _file(runtime: Any, **changes: Any) -> str:
    diagnosis = changes.pop("diagnosis", {"error_code": "E05", "tried": ["article e05"]})
    return runtime.services.tickets.create(form=_form(**changes), diagnosis=diagnosis, sender_id=None,
                                           channel="web").tracking_number


def _ticket_id(runtime: Any, tracking: str) -> int:
    from bot.storage.db import session_scope
    from bot.tickets.models import Ticket

    with session_scope(runtime.services.sessions) as session:
        return int(session.scalar(select(Ticket.id).where(Ticket.tracking_number == tracking)))


@pytest.fixture
def supervisor(client: Any, runtime: Any, clock: Any) -> str:
    add_staff(runtime, "supervisor")
    return sign_in(client, clock, "supervisor")


# ---------------------------------------------------------------- business hours
def _hours(runtime: Any) -> CallCenterHours:
    return runtime.services.hours


def test_business_seconds_skip_nights_weekends_and_holidays(runtime: Any) -> None:
    hours = _hours(runtime)
    wed_10 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in Raleigh
    assert business_seconds(wed_10, wed_10 + timedelta(hours=2), hours) == 7200
    fri_16 = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    mon_09 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert business_seconds(fri_16, mon_09, hours) == 7200
    # NC closes 24-26 December (Christmas Eve, Christmas Day and the day after).
    wed_16 = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)
    mon_08 = datetime(2026, 12, 28, 13, 0, tzinfo=UTC)
    assert business_seconds(wed_16, mon_08, hours) == 3600


def test_first_response_timer_pauses_while_pending(runtime: Any) -> None:
    hours = _hours(runtime)
    start = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    history = [("new", start), ("pending", start + timedelta(hours=1)), ("open", start + timedelta(hours=3))]
    seconds = first_response_seconds(created_at=start, responded_at=None, now=start + timedelta(hours=4),
                                     history=history, hours=hours)
    assert seconds == 2 * 3600


# ---------------------------------------------------------------- queue
def test_queue_filters_by_status_error_code_and_assignee(client: Any, runtime: Any, clock: Any,
                                                         supervisor: str) -> None:
    e05 = _file(runtime)
    e06 = _file(runtime, diagnosis={"error_code": "E06"})
    page = client.get("/staff/tickets", params={"error_code": "E06"})
    assert e06 in page.text and e05 not in page.text
    sup_id = runtime.services.extras["staff"].staff.by_username("supervisor").id
    client.post(f"/staff/tickets/{_ticket_id(runtime, e05)}/assign", data={"csrf_token": supervisor,
                                                                           "assignee": str(sup_id)})
    mine = client.get("/staff/tickets", params={"assignee": "me"})
    assert e05 in mine.text and e06 not in mine.text
    unassigned = client.get("/staff/tickets", params={"assignee": "none"})
    assert e06 in unassigned.text and e05 not in unassigned.text
    assert e05 not in client.get("/staff/tickets", params={"status": "resolved"}).text


def test_queue_filters_by_age_and_subject(client: Any, runtime: Any, clock: Any, supervisor: str) -> None:
    old = _file(runtime, subject="Technical Issue")
    clock.advance(days=4)
    new = _file(runtime)
    sign_in(client, clock, "supervisor")  # the first session has long gone idle
    recent = client.get("/staff/tickets", params={"age": "1d"}).text
    assert new in recent and old not in recent
    older = client.get("/staff/tickets", params={"age": "3-7d"}).text
    assert old in older and new not in older
    technical = client.get("/staff/tickets", params={"subject": "Technical Issue"}).text
    assert old in technical and new not in technical


def test_queue_sorts_and_pages(client: Any, runtime: Any, clock: Any, supervisor: str) -> None:
    numbers = []
    for _ in range(27):
        numbers.append(_file(runtime))
        clock.advance(minutes=1)
    first = client.get("/staff/tickets").text
    assert "27 tickets" in first and "page 1 of 2" in first
    assert first.index(numbers[-1]) < first.index(numbers[-2])  # newest first by default
    assert numbers[0] not in first
    second = client.get("/staff/tickets", params={"page": "2"}).text
    assert numbers[0] in second and numbers[1] in second
    oldest_first = client.get("/staff/tickets", params={"sort": "created"}).text
    assert numbers[0] in oldest_first and numbers[-1] not in oldest_first


def test_bad_queue_parameters_get_400(client: Any, supervisor: str) -> None:
    assert client.get("/staff/tickets", params={"status": "lost"}).status_code == 400
    assert client.get("/staff/tickets", params={"sort": "password"}).status_code == 400
    assert client.get("/staff/tickets", params={"page": "-1"}).status_code == 400


# ---------------------------------------------------------------- one ticket
def test_ticket_workflow_keeps_history_with_the_staff_name(client: Any, runtime: Any, supervisor: str) -> None:
    ticket_id = _ticket_id(runtime, _file(runtime))
    client.post(f"/staff/tickets/{ticket_id}/status", data={"csrf_token": supervisor, "status": "open"})
    client.post(f"/staff/tickets/{ticket_id}/status", data={"csrf_token": supervisor, "status": "resolved",
                                                            "note": "caller registered"})
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert 'id="ticket-status">resolved<' in page
    assert "staff:supervisor — caller registered" in page
    refused = client.post(f"/staff/tickets/{ticket_id}/status", data={"csrf_token": supervisor, "status": "pending"})
    assert refused.status_code == 409


def test_internal_notes_stay_apart_from_replies(client: Any, runtime: Any, supervisor: str) -> None:
    ticket_id = _ticket_id(runtime, _file(runtime))
    client.post(f"/staff/tickets/{ticket_id}/notes", data={"csrf_token": supervisor, "body": "caller sounded rushed"})
    client.post(f"/staff/tickets/{ticket_id}/replies", data={"csrf_token": supervisor,
                                                             "body": "Please wait 60 minutes, then register."})
    emails = runtime.services.mail.list_recent(limit=10)
    reply = [e for e in emails if e.subject.startswith("Your NCTracks inquiry")]
    assert len(reply) == 1 and "Please wait 60 minutes" in reply[0].text
    assert all("rushed" not in e.text for e in emails)
    page = client.get(f"/staff/tickets/{ticket_id}").text
    notes = page[page.index('id="internal-notes"'):page.index('id="user-replies"')]
    assert "rushed" in notes and "60 minutes" not in notes
    assert "(responded)" in page and 'id="ticket-status">open<' in page


def test_ticket_page_shows_diagnosis_and_timer(client: Any, runtime: Any, clock: Any, supervisor: str) -> None:
    ticket_id = _ticket_id(runtime, _file(runtime))
    clock.advance(minutes=90)
    sign_in(client, clock, "supervisor")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert "1 h 30 min in business hours (running)" in page
    assert "article e05" in page


def test_agents_cannot_assign_or_export(client: Any, runtime: Any, clock: Any) -> None:
    ticket_id = _ticket_id(runtime, _file(runtime))
    add_staff(runtime, "agent")
    csrf = sign_in(client, clock, "agent")
    assert client.get(f"/staff/tickets/{ticket_id}").status_code == 200
    assert client.post(f"/staff/tickets/{ticket_id}/assign", data={"csrf_token": csrf, "assignee": ""}).status_code == 403
    assert client.get("/staff/tickets.csv").status_code == 403


def test_csv_export_follows_the_filters_and_defuses_formulas(client: Any, runtime: Any, supervisor: str) -> None:
    _file(runtime)
    _file(runtime, subject="=HYPERLINK(\"http://evil\")", diagnosis={"error_code": "E06"})
    response = client.get("/staff/tickets.csv", params={"error_code": "E06"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1 and rows[0]["error_code"] == "E06"
    assert rows[0]["subject"].startswith("'=")
    assert "jane@clinic.org" not in response.text


def test_missing_ticket_is_404(client: Any, supervisor: str) -> None:
    assert client.get("/staff/tickets/9999").status_code == 404


def test_queue_shows_the_first_response_timer(client: Any, runtime: Any, clock: Any) -> None:
    _file(runtime)
    clock.advance(minutes=45)
    add_staff(runtime, "supervisor")
    sign_in(client, clock, "supervisor")
    assert "45 min so far" in client.get("/staff/tickets").text


@pytest.mark.parametrize("path", ["/staff/tickets/99999999999999999999999", "/staff/tickets?page=9999999999999999999999",
                                  "/staff/tickets?assignee=99999999999999999999"])
def test_out_of_range_numbers_get_a_4xx(client: Any, supervisor: str, path: str) -> None:
    assert client.get(path).status_code in (400, 404)


def test_out_of_range_ids_in_forms_get_a_4xx(client: Any, runtime: Any, supervisor: str) -> None:
    ticket_id = _ticket_id(runtime, _file(runtime))
    response = client.post(f"/staff/tickets/{ticket_id}/assign", data={"csrf_token": supervisor,
                                                                       "assignee": "99999999999"})
    assert response.status_code == 400
