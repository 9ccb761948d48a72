"""Issue 14, item 5: bad input that used to give a 500 now gets a clear 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import widget

DEEP = 3000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/model/parse",
                                  "/conversations/deep1/trigger_intent"])
def test_deeply_nested_json_is_a_400_not_a_500(client: Any, path: str) -> None:
    for body in (nested(DEEP), '{"sender": "deep1", "message": "hi", "metadata": ' + nested(DEEP) + "}"):
        reply = client.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
        assert "nests deeper" in reply.json()["error"]


def test_a_payload_nested_deep_inside_the_message_text_is_not_a_500(client: Any) -> None:
    text = "/greet{\"a\":" + nested(990) + "}"
    reply = client.post("/webhooks/rest/webhook", json={"sender": "deep2", "message": text})
    assert reply.status_code == 200


def test_a_flat_body_with_brackets_inside_strings_is_accepted(client: Any) -> None:
    reply = client.post("/webhooks/rest/webhook", json={"sender": "flat1", "message": "[" * 60 + " hello"})
    assert reply.status_code == 200


@pytest.mark.parametrize("after", ["1" * 25, "9" * 19, "²", "１２"])
def test_history_after_a_huge_or_odd_number_is_a_400(client: Any, after: str) -> None:
    widget.say(client, "hist1", "hi")
    reply = widget.history(client, "hist1", after=after)
    assert reply.status_code == 400


@pytest.mark.parametrize("sender", ["user1\n", "user1\r\n", "\nuser1"])
def test_a_sender_id_with_a_newline_is_refused(client: Any, sender: str) -> None:
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
    assert reply.status_code == 422
