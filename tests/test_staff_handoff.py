"""Live handoff: take over a conversation, reply into the user's chat, hand back; queueing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import widget
from tests.fakes.staff import add_staff, sign_in


def _say(client: Any, sender: str, text: str) -> list[dict[str, Any]]:
    response = widget.say(client, sender, text, channel="web")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def agent_csrf(client: Any, runtime: Any, clock: Any) -> str:
    add_staff(runtime, "agent")
    return sign_in(client, clock, "agent")


def test_active_conversations_are_listed(client: Any, agent_csrf: str) -> None:
    _say(client, "web-user-1", "I got error E05")
    page = client.get("/staff/conversations").text
    assert "web-user-1" in page and "report_error" in page


def test_take_over_pauses_the_assistant_and_the_agent_reply_reaches_the_widget(
        client: Any, runtime: Any, agent_csrf: str) -> None:
    _say(client, "web-user-2", "hello")
    listener = runtime.live.subscribe("web-user-2")
    assert client.post("/staff/conversations/web-user-2/take-over", data={"csrf_token": agent_csrf}).status_code == 200
    joined = listener.get_nowait()
    assert "has joined this chat" in joined["text"]

    assert _say(client, "web-user-2", "I still get E05") == []  # the assistant stays quiet
    seen = client.get("/staff/conversations/web-user-2/messages", params={"after": "0"}).json()
    assert seen["state"] == "active"
    assert seen["messages"][-1] == {**seen["messages"][-1], "role": "user", "text": "I still get E05"}

    sent = client.post("/staff/conversations/web-user-2/reply", data={"text": "Let me check your NCID."},
                       headers={"X-CSRF-Token": agent_csrf, "Accept": "application/json"})
    assert sent.json() == {"sent": True}
    pushed = listener.get_nowait()
    assert "Let me check your NCID." in pushed["text"] and pushed["custom"]["agent"] == "Agent Tester"
    history = widget.history(client, "web-user-2").json()["messages"]
    assert any("Let me check your NCID." in (m.get("text") or "") for m in history)


def test_hand_back_resumes_the_assistant(client: Any, runtime: Any, agent_csrf: str) -> None:
    _say(client, "web-user-3", "hello")
    client.post("/staff/conversations/web-user-3/take-over", data={"csrf_token": agent_csrf})
    client.post("/staff/conversations/web-user-3/hand-back", data={"csrf_token": agent_csrf})
    answer = _say(client, "web-user-3", "I got error E05")
    assert any("60 minutes" in (m.get("text") or "") for m in answer)
    assert client.get("/staff/conversations/web-user-3/messages").json()["state"] is None


def test_agent_replies_are_redacted(client: Any, runtime: Any, agent_csrf: str) -> None:
    _say(client, "web-user-4", "hello")
    client.post("/staff/conversations/web-user-4/take-over", data={"csrf_token": agent_csrf})
    client.post("/staff/conversations/web-user-4/reply", data={"text": "Is your SSN 123-45-6789?",
                                                               "csrf_token": agent_csrf})
    history = widget.history(client, "web-user-4").json()["messages"]
    assert all("123-45-6789" not in (m.get("text") or "") for m in history)


def test_another_agent_cannot_reply_into_a_held_conversation(client: Any, runtime: Any, clock: Any,
                                                              agent_csrf: str) -> None:
    _say(client, "web-user-5", "hello")
    client.post("/staff/conversations/web-user-5/take-over", data={"csrf_token": agent_csrf})
    add_staff(runtime, "supervisor")
    csrf = sign_in(client, clock, "supervisor")
    response = client.post("/staff/conversations/web-user-5/reply", data={"text": "hi", "csrf_token": csrf})
    assert response.status_code == 409
    add_staff(runtime, "agent", username="agent2")
    csrf = sign_in(client, clock, "agent", username="agent2")
    assert client.post("/staff/conversations/web-user-5/take-over", data={"csrf_token": csrf}).status_code == 409


def test_a_supervisor_can_take_over_from_an_agent(client: Any, runtime: Any, clock: Any, agent_csrf: str) -> None:
    _say(client, "web-user-9", "hello")
    client.post("/staff/conversations/web-user-9/take-over", data={"csrf_token": agent_csrf})
    add_staff(runtime, "supervisor")
    csrf = sign_in(client, clock, "supervisor")
    assert client.post("/staff/conversations/web-user-9/take-over", data={"csrf_token": csrf}).status_code == 200
    assert client.post("/staff/conversations/web-user-9/reply", data={"text": "Supervisor here.",
                                                                      "csrf_token": csrf}).status_code == 200


def test_a_place_in_the_queue_lapses_after_two_hours(client: Any, runtime: Any, clock: Any,
                                                     agent_csrf: str) -> None:
    _say(client, "web-user-10", "I want to talk to a real person")
    clock.advance(minutes=121)
    sign_in(client, clock, "agent")
    assert "waiting for an agent" not in client.get("/staff/conversations").text


def test_asking_for_a_person_while_open_joins_the_queue(client: Any, runtime: Any, agent_csrf: str) -> None:
    answer = _say(client, "web-user-6", "I want to talk to a real person")
    assert any("number 1 in line" in (m.get("text") or "") for m in answer)
    page = client.get("/staff/conversations").text
    assert "waiting for an agent" in page
    assert page.index("web-user-6") < page.index("waiting for an agent") + 200
    client.post("/staff/conversations/web-user-6/take-over", data={"csrf_token": agent_csrf})
    assert client.get("/staff/conversations/web-user-6/messages").json()["state"] == "active"
    assert "waiting for an agent" not in client.get("/staff/conversations").text


def test_nobody_is_queued_when_no_agent_is_signed_in(client: Any, runtime: Any) -> None:
    answer = _say(client, "web-user-7", "I want to talk to a real person")
    assert not any("in line" in (m.get("text") or "") for m in answer)


def test_nobody_is_queued_after_hours(client: Any, runtime: Any, clock: Any, agent_csrf: str) -> None:
    clock.advance(hours=10)  # 20:00 in Raleigh
    sign_in(client, clock, "agent")
    answer = _say(client, "web-user-8", "I want to talk to a real person")
    assert not any("in line" in (m.get("text") or "") for m in answer)


def test_unknown_conversation_is_404(client: Any, agent_csrf: str) -> None:
    assert client.get("/staff/conversations/nobody-here").status_code == 404


def test_bad_after_parameter_gets_400(client: Any, agent_csrf: str) -> None:
    _say(client, "web-user-11", "hello")
    for after in ("x", "99999999999999999999999"):
        response = client.get("/staff/conversations/web-user-11/messages", params={"after": after})
        assert response.status_code == 400
