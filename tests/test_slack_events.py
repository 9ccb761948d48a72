"""/slack/events: Slack's signing scheme, retries and bad input; the app answers within the
request and does the turn later (lazy listener)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fakes.slack_driver import ALICE_DM, SlackDriver, fake_slack, settings, slack, text_of  # noqa: F401
from tests.fakes.slack_server import FakeSlack


def test_a_signed_dm_is_acknowledged_and_answered_in_the_dm(slack: SlackDriver) -> None:
    started = time.monotonic()
    response = slack.dm("hi")
    assert response.status_code == 200
    assert time.monotonic() - started < 3  # Slack's deadline for the acknowledgement
    [reply] = slack.replies(1)
    assert "NCTracks MFA help assistant" in reply.params["text"]
    assert reply.params["channel"] == ALICE_DM and reply.token == "xoxb-test-token"


def test_a_bad_signature_is_rejected_and_does_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    response = slack.dm("hi", secret="not-the-signing-secret")
    assert response.status_code == 401
    assert fake_slack.of("chat.postMessage") == []


def test_a_stale_timestamp_is_rejected_even_when_signed_correctly(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    response = slack.dm("hi", timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    assert fake_slack.of("chat.postMessage") == []


def test_an_unsigned_request_is_rejected(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "hi"}}).encode()
    assert slack.post(body, content_type="application/json", signed=False).status_code == 401


def test_a_retried_event_gets_no_second_reply(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.dm("hi", event_id="Ev0RETRY")
    slack.replies(1)
    assert slack.dm("hi", event_id="Ev0RETRY", retry=1).status_code == 200
    assert slack.dm("hi", event_id="Ev0RETRY").status_code == 200  # same event id, no header
    slack.dm("what is mfa")
    # Turns of one conversation run in arrival order, so once this one is answered a duplicate
    # "hi" would have been answered too.
    fake_slack.wait_for("chat.postMessage", where=lambda c: "multi-factor" in str(c.params.get("text")).lower())
    texts = fake_slack.posted_texts(ALICE_DM)
    assert sum("NCTracks MFA help assistant" in t for t in texts) == 1


def test_url_verification_is_answered_with_the_challenge(slack: SlackDriver) -> None:
    body = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"}).encode()
    response = slack.post(body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"challenge": "abc123"}


def test_malformed_bodies_get_a_clear_4xx(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert slack.post(b"{not json", content_type="application/json").status_code in (400, 401)
    assert slack.form({"payload": "{broken"}).status_code in (400, 401)
    assert slack.post(b"\xff\xfe", content_type="application/json", signed=False).status_code == 400
    big = b"x" * (300 * 1024)
    assert slack.post(big, content_type="application/json").status_code == 413
    assert fake_slack.of("chat.postMessage") == []


def test_the_bots_own_messages_and_edits_are_ignored(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    # Our own posts are dropped by bolt before any listener runs...
    assert slack.event({"type": "message", "channel_type": "im", "channel": ALICE_DM, "bot_id": "B0BOT",
                        "user": "UBOT", "text": "hello", "ts": slack.ts()}).status_code == 200
    # ...other bots' posts and edits by the listener.
    slack.ignored(lambda: slack.event({"type": "message", "channel_type": "im", "channel": ALICE_DM,
                                       "bot_id": "B0OTHER", "text": "hello", "ts": slack.ts()}))
    slack.ignored(lambda: slack.event({"type": "message", "subtype": "message_changed", "channel_type": "im",
                                       "channel": ALICE_DM, "ts": slack.ts()}))
    assert fake_slack.of("chat.postMessage") == [] and slack.channel.turns_done == 0



def test_a_rate_limited_post_is_sent_again_after_retry_after(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.rate_limited["chat.postMessage"] = 1
    replies = slack.say_dm("hi")
    attempts = fake_slack.of("chat.postMessage")
    assert [a.response.get("ok") for a in attempts] == [False, True]
    assert attempts[0].params["text"] == attempts[1].params["text"] and len(replies) == 2
