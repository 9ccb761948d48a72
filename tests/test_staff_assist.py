"""Agent assist: analysis of a caller's words, and audited account actions after verification."""

from __future__ import annotations

import re
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


def _questions(client: Any, csrf: str, ncid: str) -> tuple[str, str]:
    page = client.post("/staff/assist/verify/questions", data={"csrf_token": csrf, "ncid": ncid}).text
    return (re.search(r'name="question_1" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
            re.search(r'name="question_2" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]


def _verify(client: Any, csrf: str, ncid: str, answers: tuple[str, str] = ("Rex", "ford")) -> Any:
    asked = _questions(client, csrf, ncid)
    return client.post("/staff/assist/verify", data={
        "csrf_token": csrf, "ncid": ncid, "question_1": asked[0], "question_2": asked[1],
        "answer_1": answers[0], "answer_2": answers[1]})


def test_account_actions_need_a_verified_caller(client: Any, runtime: Any, agent_csrf: str) -> None:
    refused = client.post("/staff/assist/test-call", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert refused.status_code == 403
    assert runtime.services.phone_calls.simulator.active() == []
    # The old checkbox is gone: posting it verifies nothing.
    client.post("/staff/assist/verify", data={"csrf_token": agent_csrf, "ncid": "phoneuser01",
                                              "method": "security questions (two of four)", "confirmed": "yes"})
    again = client.post("/staff/assist/activation-code", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert again.status_code == 403


def test_the_system_picks_two_of_the_callers_questions(client: Any, agent_csrf: str) -> None:
    assert _questions(client, agent_csrf, "PhoneUser01") == ("What was the name of your first pet?",
                                                             "What was the make of your first car?")


def test_verified_caller_gets_a_test_call_audited_with_the_agent(client: Any, runtime: Any, agent_csrf: str) -> None:
    verified = _verify(client, agent_csrf, "PhoneUser01")
    assert verified.status_code == 200 and 'id="verified-note"' in verified.text
    placed = client.post("/staff/assist/test-call", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert placed.status_code == 200 and "Test call placed to" in placed.text
    assert len(runtime.services.phone_calls.simulator.active()) == 1
    trail = _audit(runtime, "phoneuser01")
    assert ("staff:agent", "caller_verified", "verified") in trail
    assert ("assist/staff:agent", "identity_check", "verified") in trail
    assert ("staff:agent", "test_call", "placed") in trail
    with session_scope(runtime.services.sessions) as session:
        details = [e.detail for e in audit.entries(session, ncid="phoneuser01")]
    assert "rex" not in str(details).lower() and "ford" not in str(details).lower()


def test_verified_caller_gets_a_new_activation_code(client: Any, runtime: Any, agent_csrf: str) -> None:
    _verify(client, agent_csrf, "appuser01")
    page = client.post("/staff/assist/activation-code", data={"csrf_token": agent_csrf, "ncid": "appuser01"}).text
    assert 'id="activation-result"' in page and "data:image/svg+xml" in page
    assert ("staff:agent", "activation_code", "issued") in _audit(runtime, "appuser01")


def test_the_verification_covers_that_caller_only(client: Any, runtime: Any, agent_csrf: str) -> None:
    _verify(client, agent_csrf, "appuser01")
    other = client.post("/staff/assist/test-call", data={"csrf_token": agent_csrf, "ncid": "phoneuser01"})
    assert other.status_code == 403


def test_verification_lasts_the_configured_minutes(client: Any, runtime: Any, clock: Any, agent_csrf: str) -> None:
    _verify(client, agent_csrf, "appuser01")
    clock.advance(minutes=9)
    csrf = sign_in(client, clock, "agent")
    assert client.post("/staff/assist/activation-code", data={"csrf_token": csrf, "ncid": "appuser01"}).status_code == 200
    clock.advance(minutes=2)  # config.yml: staff.assist_verified_minutes = 10
    refused = client.post("/staff/assist/activation-code", data={"csrf_token": csrf, "ncid": "appuser01"})
    assert refused.status_code == 403


def test_wrong_answers_lock_the_ncid_like_the_chat_check(client: Any, runtime: Any, agent_csrf: str) -> None:
    for tries_left in (4, 3, 2, 1):
        wrong = _verify(client, agent_csrf, "appuser01", answers=("Rex", "Toyota"))
        assert wrong.status_code == 403 and f"{tries_left} more wrong" in wrong.text
    locked = _verify(client, agent_csrf, "appuser01", answers=("Rex", "Toyota"))
    assert locked.status_code == 423 and "locked for 15 more minutes" in locked.text
    # Locked means locked: the right answers do not get through, here or in the chat.
    right = client.post("/staff/assist/verify/questions", data={"csrf_token": agent_csrf, "ncid": "appuser01"})
    assert right.status_code == 423
    client.post("/webhooks/rest/webhook", json={"sender": "c1", "message": "/new_activation_code_here"})
    chat = client.post("/webhooks/rest/webhook", json={"sender": "c1", "message": "appuser01"}).json()
    assert "identity checks for this NCID are paused" in " ".join(m.get("text") or "" for m in chat)
    assert ("staff:agent", "caller_verified", "failed_locked") in _audit(runtime, "appuser01")
    assert client.post("/staff/assist/activation-code", data={"csrf_token": agent_csrf,
                                                              "ncid": "appuser01"}).status_code == 403


def test_chat_failures_count_towards_the_agents_lock(client: Any, runtime: Any, agent_csrf: str) -> None:
    identity = runtime.services.accounts.identity
    for _ in range(5):
        identity.begin(sender_id="chat-1", ncid_text="appuser01")
        identity.answer(sender_id="chat-1", index=0, text="wrong")
        identity.answer(sender_id="chat-1", index=1, text="wrong")
        identity.complete(sender_id="chat-1", session="chat-1-session")
    response = client.post("/staff/assist/verify/questions", data={"csrf_token": agent_csrf, "ncid": "appuser01"})
    assert response.status_code == 423


def test_unknown_ncid_looks_like_a_real_one_and_never_verifies(client: Any, runtime: Any, agent_csrf: str) -> None:
    asked = _questions(client, agent_csrf, "ghost01")
    assert len(set(asked)) == 2
    response = _verify(client, agent_csrf, "ghost01", answers=("Rex", "ford"))
    assert response.status_code == 403 and "4 more wrong" in response.text
    assert ("staff:agent", "caller_verified", "failed") in _audit(runtime, "ghost01")


def test_a_chat_user_cannot_borrow_the_agents_verification(client: Any, runtime: Any, agent_csrf: str) -> None:
    _verify(client, agent_csrf, "appuser01")
    # The REST channel accepts "staff:agent" as a sender id; the agent's check is not keyed by it.
    for sender in ("staff:agent", "assist"):
        assert runtime.services.accounts.identity.verified_ncid(sender_id=sender, session=sender) is None


def test_articles_open_inside_the_console(client: Any, agent_csrf: str) -> None:
    page = client.get("/staff/kb/e05")
    assert page.status_code == 200 and "<h1" in page.text and "60 minutes" in page.text
    assert client.get("/staff/kb/nope").status_code == 404
