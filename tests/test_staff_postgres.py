"""The console's queries on PostgreSQL: sign-in, queue filters, ticket page, CSV, insights, handoff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.tickets.service import TicketForm
from tests.conftest import make_settings
from tests.fakes.staff import add_staff, sign_in
from tests.fakes.staff import postgres_engine
from tests.test_staff_migration import PG_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(tmp_path: Path, nlu_model_path: Path, clock: Any) -> Iterator[tuple[Any, Any]]:
    from starlette.testclient import TestClient

    from bot.app import create_app
    from bot.runtime import build_runtime

    for engine in postgres_engine(PG_URL):
        url = engine.url.render_as_string(hide_password=False)
        settings = make_settings(tmp_path, nlu_model_path, database_url=url)
        runtime = build_runtime(settings, clock=clock)
        with TestClient(create_app(settings, runtime=runtime)) as client:
            yield client, runtime


def test_console_works_on_postgres(pg_client: tuple[Any, Any], clock: Any) -> None:
    client, runtime = pg_client
    form = TicketForm(npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
                      subject="MFA Issue", email="jane@clinic.org", message="E06")
    client.post("/webhooks/rest/webhook", json={"sender": "pg-user", "message": "I got error E06"})
    tracking = runtime.services.tickets.create(form=form, diagnosis={"error_code": "E06"}, sender_id="pg-user",
                                               channel="rest").tracking_number
    add_staff(runtime, "supervisor")
    csrf = sign_in(client, clock, "supervisor")
    page = client.get("/staff/tickets", params={"error_code": "E06", "assignee": "none", "age": "1d",
                                                "sort": "-updated"})
    assert tracking in page.text
    ticket_id = page.text.split('href="/staff/tickets/')[1].split('"')[0]
    client.post(f"/staff/tickets/{ticket_id}/status", data={"csrf_token": csrf, "status": "pending"})
    assert 'id="ticket-status">pending<' in client.get(f"/staff/tickets/{ticket_id}").text
    assert tracking in client.get("/staff/tickets.csv").text
    insights = client.get("/staff/insights").text
    assert 'id="outcomes-total">1<' in insights  # the conversation, classed on PostgreSQL's JSON
    assert '<tr id="outcome-escalated"><th scope="row">Escalated (ticket or person)</th><td>1</td>' in insights
    client.post("/staff/conversations/pg-user/take-over", data={"csrf_token": csrf})
    assert client.get("/staff/conversations/pg-user/messages").json()["state"] == "active"
    assert "held by an agent" in client.get("/staff/conversations").text
