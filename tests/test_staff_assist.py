"""Agent assist: analysis of a caller's words, and audited account actions after verification."""

from __future__ import annotations

from typing import Any

import pytest

from bot.accounts import audit
from bot.storage.db import session_scope
from tests.fakes.staff import add_staff, sign_in


@pytest.fixture
def agent_csrf(client: Any, runtime: Any, clock: Any, scripted_accounts: None, demo_accounts: list[str]) -> str:
    add_staff(runtime, "agent")
    return sign_in(client, clock, "agent")


def _audit(runtime: Any, ncid: str) -> list[tuple[str, str, str]]:
    with session_scope(runtime.services.sessions) as session:
        return [(e.actor, e.action, e.outcome) for e in reversed(audit.entries(session, ncid=ncid))]


def test_pasted_sentence_gives_problem_articles_steps_reply_and_actions(client: Any, agent_csrf: str) -> None:
    response = client.post("/staff/assist", data={"csrf_token": agent_csrf,
                                                  "text": "Caller says she keeps getting error code E05 at login"},
                           headers={"Accept": "application/json"})
    body = response.json()
    assert body["intent"]["name"] == "report_error"
    assert {"entity": "error_code", "value": "E05"} in body["entities"]
    assert body["articles"][0]["id"] == "e05" and body["articles"][0]["score"] is None
    assert any(a["score"] for a in body["articles"][1:])
    assert body["steps"][0].startswith("Wait at least 60 minutes")
    assert "User Not Found" in body["suggested_reply"]
    assert any("60 minutes" in a for a in body["actions"])
    assert body["milliseconds"] < 1000


def test_assist_page_renders_the_analysis(client: Any, agent_csrf: str) -> None:
    page = client.post("/staff/assist", data={"csrf_token": agent_csrf, "text": "the phone never rang"}).text
    assert 'id="assist-intent"' in page
    assert 'href="/staff/kb/no_call_received"' in page
    assert 'id="assist-steps"' in page and "Check both phones" in page


def test_personal_data_is_redacted_before_analysis(client: Any, agent_csrf: str) -> None:
    page = client.post("/staff/assist", data={"csrf_token": agent_csrf,
                                              "text": "my SSN is 123-45-6789 and I got E06"}).text
    assert "123-45-6789" not in page and "ssn" in page


def test_account_actions_need_a_recorded_verification(client: Any, runtime: Any, agent_csrf: str) -> None:
    refused = client.post("/staff/assist/test-call", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert refused.status_code == 403
    assert runtime.services.phone_calls.simulator.active() == []


def test_verified_caller_gets_a_test_call_audited_with_the_agent(client: Any, runtime: Any, agent_csrf: str) -> None:
    verified = client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "PhoneUser01",
                                                         "method": "security questions (two of four)",
                                                         "confirmed": "yes"})
    assert 'id="verified-note"' in verified.text
    placed = client.post("/staff/assist/test-call", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert placed.status_code == 200 and "Test call placed to" in placed.text
    assert len(runtime.services.phone_calls.simulator.active()) == 1
    trail = _audit(runtime, "phoneuser01")
    assert ("staff:agent", "caller_verified", "verified") in trail
    assert ("staff:agent", "test_call", "placed") in trail


def test_verified_caller_gets_a_new_activation_code(client: Any, runtime: Any, agent_csrf: str) -> None:
    client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "appuser01",
                                              "method": "security questions (two of four)", "confirmed": "yes"})
    page = client.post("/staff/assist/activation-code", data={"csrf_token": agent_csrf, "ncid": "appuser01"}).text
    assert 'id="activation-result"' in page and "data:image/svg+xml" in page
    assert ("staff:agent", "activation_code", "issued") in _audit(runtime, "appuser01")


def test_verification_expires_after_fifteen_minutes(client: Any, runtime: Any, clock: Any, agent_csrf: str) -> None:
    client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "appuser01",
                                              "method": "security questions (two of four)", "confirmed": "yes"})
    clock.advance(minutes=16)
    csrf = sign_in(client, clock, "agent")
    refused = client.post("/staff/assist/activation-code", data={"csrf_token": csrf, "ncid": "appuser01"})
    assert refused.status_code == 403


def test_unknown_ncid_is_refused_and_audited(client: Any, runtime: Any, agent_csrf: str) -> None:
    response = client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "ghost01",
                                                         "method": "security questions (two of four)",
                                                         "confirmed": "yes"})
    assert response.status_code == 404
    assert ("staff:agent", "caller_verified", "unknown_ncid") in _audit(runtime, "ghost01")


def test_verification_needs_the_confirmation_box(client: Any, agent_csrf: str) -> None:
    response = client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "appuser01",
                                                         "method": "security questions (two of four)"})
    assert response.status_code == 400


def test_articles_open_inside_the_console(client: Any, agent_csrf: str) -> None:
    page = client.get("/staff/kb/e05")
    assert page.status_code == 200 and "<h1" in page.text and "60 minutes" in page.text
    assert client.get("/staff/kb/nope").status_code == 404
