"""The Rasa-compatible HTTP contract and what bad input gets back."""

from __future__ import annotations

import json
from typing import Any

import pytest


def post(client: Any, body: Any, **kwargs: Any) -> Any:
    return client.post("/webhooks/rest/webhook", json=body, **kwargs)


def test_webhook_replies_with_a_list_addressed_to_the_sender(client: Any) -> None:
    reply = post(client, {"sender": "u1", "message": "I got error E05"})
    assert reply.status_code == 200
    messages = reply.json()
    assert isinstance(messages, list) and messages
    assert all(m["recipient_id"] == "u1" for m in messages)
    assert "60 minutes" in messages[0]["text"]


def test_buttons_have_title_and_payload_and_a_payload_works_as_a_message(client: Any) -> None:
    buttons = post(client, {"sender": "u2", "message": "hello"}).json()[0]["buttons"]
    assert all(set(b) == {"title", "payload"} for b in buttons)
    enroll = next(b for b in buttons if b["payload"] == "/enroll")
    reply = post(client, {"sender": "u2", "message": enroll["payload"]}).json()
    assert any(b["payload"] == "/enroll_phone" for m in reply for b in m.get("buttons", []))


def test_web_channel_gets_sanitised_html(client: Any) -> None:
    reply = post(client, {"sender": "w1", "message": "I got error E05", "metadata": {"channel": "web"}})
    html = reply.json()[0]["custom"]["html"]
    assert '<a href="https://tmfamobile.nc.gov/userportal/"' in html
    assert "<script" not in html


def test_user_markup_is_never_rendered_as_html(client: Any) -> None:
    reply = post(client, {"sender": "w2", "message": "<script>alert(1)</script> E05",
                          "metadata": {"channel": "web"}})
    assert reply.status_code == 200
    assert all("<script" not in (m.get("custom") or {}).get("html", "") for m in reply.json())


def test_model_parse_follows_the_rasa_shape(client: Any) -> None:
    reply = client.post("/model/parse", json={"text": "my npi is 1234567893 and I got eo6"})
    body = reply.json()
    assert set(body) >= {"text", "intent", "entities", "intent_ranking"}
    assert set(body["intent"]) == {"name", "confidence"}
    found = {(e["entity"], e["value"]) for e in body["entities"]}
    assert {("npi", "1234567893"), ("error_code", "E06")} <= found
    assert all({"entity", "value", "start", "end"} <= set(e) for e in body["entities"])


def test_tracker_holds_slots_events_and_latest_message(client: Any) -> None:
    post(client, {"sender": "t1", "message": "I got error e-05"})
    tracker = client.get("/conversations/t1/tracker").json()
    assert tracker["sender_id"] == "t1"
    assert tracker["slots"]["error_code"] == "E05"
    assert tracker["latest_message"]["intent"]["name"] == "report_error"
    assert {e["event"] for e in tracker["events"]} >= {"user", "bot", "slot"}


def test_tracker_of_an_unknown_conversation_is_404(client: Any) -> None:
    assert client.get("/conversations/nobody/tracker").status_code == 404


def test_tracker_needs_the_api_token_when_one_is_configured(tmp_path: Any, nlu_model_path: Any) -> None:
    from starlette.testclient import TestClient

    from bot.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, nlu_model_path, api_token="s3cret")
    with TestClient(create_app(settings)) as secured:
        post(secured, {"sender": "t2", "message": "hi"})
        assert secured.get("/conversations/t2/tracker").status_code == 401
        assert secured.get("/conversations/t2/tracker?token=wrong").status_code == 401
        assert secured.get("/conversations/t2/tracker?token=s3cret").status_code == 200
        ok = secured.get("/conversations/t2/tracker", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_history_returns_both_sides_of_the_conversation(client: Any) -> None:
    credential = post(client, {"sender": "h1", "message": "I got error E05"}).headers["X-Conversation-Token"]
    history = client.get("/conversations/h1/messages", headers={"X-Conversation-Token": credential}).json()["messages"]
    assert history[0]["from"] == "user" and history[0]["text"] == "I got error E05"
    assert history[1]["from"] == "bot" and "html" in history[1]["custom"]
    later = client.get(f"/conversations/h1/messages?after={history[-1]['id']}&credential={credential}").json()["messages"]
    assert later == []


def test_health_answers_200(client: Any) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_the_widget_page_is_served_at_the_root(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "NCTracks MFA Help Desk" in page.text
    assert client.get("/static/widget.js").status_code == 200


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe\x00garbage", 400),
        (b"[1, 2, 3]", 400),
        (b'{"message": "hi"}', 422),
        (b'{"sender": "", "message": "hi"}', 422),
        (b'{"sender": 42, "message": "hi"}', 422),
        (b'{"sender": "u", "message": 42}', 422),
        (b'{"sender": "u", "message": null}', 422),
        (b'{"sender": "u", "message": "hi", "metadata": "x"}', 422),
        (b'{"sender": "../../etc/passwd", "message": "hi"}', 422),
    ],
)
def test_bad_requests_get_a_clear_4xx(client: Any, raw: bytes, status: int) -> None:
    reply = client.post("/webhooks/rest/webhook", content=raw, headers={"Content-Type": "application/json"})
    assert reply.status_code == status
    assert reply.json()["error"]


def test_an_oversized_body_is_refused_with_413(client: Any) -> None:
    reply = post(client, {"sender": "big", "message": "x" * 70_000})
    assert reply.status_code == 413


def test_a_20000_character_message_gets_a_polite_reply_and_leaves_the_conversation_intact(client: Any) -> None:
    post(client, {"sender": "long", "message": "I got error E06"})
    reply = post(client, {"sender": "long", "message": "E05 " * 5_000})
    assert reply.status_code == 200
    assert "characters" in reply.json()[0]["text"]
    tracker = client.get("/conversations/long/tracker").json()
    assert tracker["slots"]["error_code"] == "E06"


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_empty_messages_get_a_polite_reply(client: Any, message: str) -> None:
    reply = post(client, {"sender": "empty", "message": message})
    assert reply.status_code == 200 and "empty" in reply.json()[0]["text"]


@pytest.mark.parametrize("message", ["\u0000", "I got \u0000error E05", "E05 \ud800\udfff\ud800", "\x07\x1b[31mE05"])
def test_control_characters_and_lone_surrogates_are_dropped_not_a_server_error(client: Any, message: str) -> None:
    # Raw JSON text, so the escapes reach the server as JSON wrote them (NUL, lone surrogates).
    post(client, {"sender": "controls", "message": "hi"})
    raw = json.dumps({"sender": "controls", "message": message}, ensure_ascii=True)
    reply = client.post("/webhooks/rest/webhook", content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 200 and reply.json()
    events = client.get("/conversations/controls/tracker").json()["events"]
    stored = [e["text"] for e in events if e["event"] == "user"][-1] or ""
    assert "\x00" not in stored and "\x1b" not in stored
    assert not any("\ud800" <= ch <= "\udfff" for ch in stored)


def test_unknown_routes_answer_json_404(client: Any) -> None:
    reply = client.get("/no/such/thing")
    assert reply.status_code == 404 and "error" in reply.json()
