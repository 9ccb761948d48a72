"""Insights: tickets per day, test-call outcomes, not-understood review (how conversations
ended: tests/test_staff_outcomes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.nlu.training_data import load_training_data
from bot.tickets.service import TicketForm
from tests.fakes.staff import add_staff, sign_in


@pytest.fixture
def supervisor(client: Any, runtime: Any, clock: Any, tmp_path: Path) -> str:
    add_staff(runtime, "supervisor")
    runtime.services.extras["staff"].examples_path = tmp_path / "reviewed_examples.yml"
    return sign_in(client, clock, "supervisor")


def _say(client: Any, sender: str, text: str) -> None:
    assert client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text}).status_code == 200


def test_insights_count_tickets_per_day_by_error_code(client: Any, runtime: Any, supervisor: str) -> None:
    _say(client, "u1", "I got error E05")
    _say(client, "u2", "hello")
    runtime.services.tickets.create(
        form=TicketForm(npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
                        subject="MFA Issue", email="jane@clinic.org", message="E05"),
        diagnosis={"error_code": "E05"}, sender_id="u1", channel="rest")
    page = client.get("/staff/insights").text
    assert 'id="outcomes-total">2<' in page  # u1 and u2, both still open
    table = page[page.index('id="tickets-per-day"'):page.index('id="nlu-h"')]
    assert "E05" in table and "Wed 12/02" in table
    chart = page[page.index('id="tickets-chart"'):page.index("</svg>")]
    assert chart.count("<rect") == 1 and "Wed 12/02: 1 × E05" in chart


def test_not_understood_message_becomes_a_reviewed_training_example(client: Any, runtime: Any, supervisor: str,
                                                                     tmp_path: Path) -> None:
    _say(client, "u3", "zxqv blorp wibble")
    page = client.get("/staff/insights").text
    assert "zxqv blorp wibble" in page
    event_id = page.split('name="event_id" value="')[1].split('"')[0]
    response = client.post("/staff/insights/review", data={"csrf_token": supervisor, "event_id": event_id,
                                                           "intent": "report_error", "decision": "example"})
    assert response.status_code == 200 and "added as an example of report_error" in response.text
    assert "zxqv blorp wibble" not in response.text.split('id="not-understood"')[1]
    path = tmp_path / "reviewed_examples.yml"
    data = load_training_data(path)  # the same reader training uses
    assert [(e.text, e.intent) for e in data.examples] == [("zxqv blorp wibble", "report_error")]
    assert yaml.safe_load(path.read_text())["version"] == "3.1"
    again = client.post("/staff/insights/review", data={"csrf_token": supervisor, "event_id": event_id,
                                                        "intent": "out_of_scope", "decision": "example"})
    assert again.status_code == 409


def test_dismissed_messages_leave_the_list_without_an_example(client: Any, supervisor: str, tmp_path: Path) -> None:
    _say(client, "u4", "qwop flarn")
    page = client.get("/staff/insights").text
    event_id = page.split('name="event_id" value="')[1].split('"')[0]
    client.post("/staff/insights/review", data={"csrf_token": supervisor, "event_id": event_id,
                                                "decision": "dismiss"})
    assert "qwop flarn" not in client.get("/staff/insights").text
    assert not (tmp_path / "reviewed_examples.yml").exists()


def test_unknown_intent_is_refused(client: Any, supervisor: str) -> None:
    _say(client, "u5", "grimble snorf")
    page = client.get("/staff/insights").text
    event_id = page.split('name="event_id" value="')[1].split('"')[0]
    response = client.post("/staff/insights/review", data={"csrf_token": supervisor, "event_id": event_id,
                                                           "intent": "delete_everything", "decision": "example"})
    assert response.status_code == 400


def test_test_call_outcomes_are_counted(client: Any, runtime: Any, clock: Any, supervisor: str) -> None:
    from bot.accounts.models import TestCall
    from bot.storage.db import session_scope

    with session_scope(runtime.services.sessions) as session:
        for i, outcome in enumerate(("confirmed", "confirmed", "hash_not_pressed", None)):
            session.add(TestCall(id=f"call-{i}", ncid="phoneuser01", sender_id="u", channel="web", purpose="test",
                                 numbers=["+19195550101"], leg=0, status="completed", answered=True,
                                 outcome=outcome, created_at=clock.now()))
    page = client.get("/staff/insights").text
    table = page[page.index('id="call-outcomes"'):page.index('id="perday-h"')]
    assert "<td>confirmed</td><td>2</td>" in table
    assert "<td>hash_not_pressed</td><td>1</td>" in table and "<td>in progress</td><td>1</td>" in table


def test_review_of_an_unknown_message_is_404(client: Any, supervisor: str) -> None:
    for event_id in ("424242", "99999999999"):
        response = client.post("/staff/insights/review", data={"csrf_token": supervisor, "event_id": event_id,
                                                               "intent": "greet", "decision": "example"})
        assert response.status_code == 404
