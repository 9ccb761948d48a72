"""Issue 14, item 1: an authenticator secret reaches its user once, in the live reply only.

The attack: ask for a new activation code, then read the conversation back through every
place that keeps or shows it (history, tracker, the events table, the staff console, the
live stream) and fetch the QR link again."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text as sql

from tests.fakes import widget
from tests.fakes.staff import add_staff, sign_in

SENDER = "app-user-1"


def say(client: Any, sender: str, text: str) -> Any:
    reply = widget.say(client, sender, text)
    assert reply.status_code == 200, reply.text
    return reply


@pytest.fixture
def issued(client: Any, scripted_accounts: None, demo_accounts: Any) -> dict[str, Any]:
    """A verified app user's new activation code, as the live reply showed it."""
    for text in ("/new_activation_code_here", "appuser01", "rex"):
        say(client, SENDER, text)
    reply = say(client, SENDER, "ford")
    live = "\n".join(str(m.get("text") or "") for m in reply.json())
    code = re.search(r"Activation code: ([A-Z2-7 ]+)", live)
    url = re.search(r"otpauth://\S+", live)
    image = next(m["image"] for m in reply.json() if m.get("image"))
    assert code and url and image.startswith("/activation/qr/")
    return {"code": code.group(1).strip(), "secret": code.group(1).replace(" ", "").strip(),
            "url": url.group(0), "image": image}


def leaks(blob: str, issued: dict[str, Any]) -> list[str]:
    return [name for name in ("code", "secret", "url", "image") if issued[name] in blob]


def test_history_tracker_and_stored_events_hold_only_a_placeholder(client: Any, runtime: Any,
                                                                  issued: dict[str, Any]) -> None:
    history = widget.history(client, SENDER).text
    tracker = client.get(f"/conversations/{SENDER}/tracker").text
    with runtime.services.sessions() as session:
        rows = session.execute(sql("select data, text from conversation_events")).all()
    stored = json.dumps([[str(r[0]), str(r[1])] for r in rows])
    for blob in (history, tracker, stored):
        assert leaks(blob, issued) == []
        assert "[activation code shown, expires " in blob
    assert "data:image" not in stored


def test_the_staff_console_shows_the_placeholder(client: Any, runtime: Any, clock: Any,
                                                 issued: dict[str, Any]) -> None:
    add_staff(runtime, "agent")
    sign_in(client, clock, "agent")
    page = client.get(f"/staff/conversations/{SENDER}").text
    as_json = client.get(f"/staff/conversations/{SENDER}/messages", headers={"Accept": "application/json"}).text
    for blob in (page, as_json):
        assert leaks(blob, issued) == []
        assert "activation code shown" in blob


def test_the_qr_link_works_once_and_only_while_the_code_is_valid(client: Any, clock: Any,
                                                                 issued: dict[str, Any]) -> None:
    first = client.get(issued["image"])
    assert first.status_code == 200 and first.content.startswith(b"\x89PNG")
    assert first.headers["cache-control"] == "no-store"
    assert client.get(issued["image"]).status_code == 404  # a second fetch: nothing
    row_id = issued["image"].rsplit("/", 1)[1].split(".")[0]
    assert client.get(f"/activation/qr/{row_id}.forged").status_code == 404
    assert client.get(f"/activation/qr/{int(row_id) + 1}.{issued['image'].rsplit('.', 1)[1]}").status_code == 404


def test_a_qr_link_not_yet_used_dies_with_its_code(client: Any, clock: Any, issued: dict[str, Any]) -> None:
    clock.advance(minutes=11)
    assert client.get(issued["image"]).status_code == 404


def test_a_newer_code_retires_the_older_qr_link(client: Any, issued: dict[str, Any]) -> None:
    say(client, SENDER, "cancel")
    newer = say(client, SENDER, "/new_activation_code_here").json()
    assert any(m.get("image") for m in newer)
    assert client.get(issued["image"]).status_code == 404


def test_live_listeners_get_the_placeholder_not_the_secret(runtime: Any) -> None:
    from bot.dialogue.responses import BotMessage

    secret = BotMessage(text="Activation code: ABCD EFGH", image="/activation/qr/1.x", stored="[shown]")
    assert secret.as_stored().as_dict() == {"text": "[shown]"}
    assert secret.as_event(0.0)["text"] == "[shown]" and secret.as_event(0.0)["data"]["image"] is None
    assert secret.as_dict()["text"].startswith("Activation code:")  # the live reply itself
