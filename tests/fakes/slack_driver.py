"""Drives the Slack channel the way Slack does: signed Events API, interactivity and slash
command requests to /slack/events, with the app's Web API calls going to FakeSlack.

Import the fixtures into a test module: ``from tests.fakes.slack_driver import fake_slack,
settings, slack  # noqa: F401``; ``settings`` overrides the shared one, so ``runtime``,
``client``, ``demo_accounts`` and ``scripted_accounts`` all run with Slack configured.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from tests.conftest import make_settings
from tests.fakes.slack_server import TEAM, Call, FakeSlack, fake_slack_fixture

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
ALICE, ALICE_DM = "U0ALICE", "D0ALICE"
GENERAL = "C0GENERAL"


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends: X-Slack-Request-Timestamp and the v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": str(signature)}


class SlackDriver:
    def __init__(self, client: Any, fake: FakeSlack) -> None:
        self.client, self.fake = client, fake
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        route = next(r for r in client.app.routes if getattr(r, "path", None) == "/slack/events")
        self.channel: Any = route.endpoint.__self__  # the SlackChannel serving this app

    def wait_turns(self, done: int, *, timeout: float = 15.0) -> None:
        """Waits until ``done`` turns have posted all their replies (they run after the ack)."""
        deadline = time.monotonic() + timeout
        while self.channel.turns_done < done:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.channel.turns_done} of {done} Slack turns finished")
            time.sleep(0.005)

    def ignored(self, send: Callable[[], Any]) -> None:
        """Sends a message event the assistant must not answer, and waits until it has decided so."""
        before = self.channel.messages_ignored
        assert send().status_code == 200
        deadline = time.monotonic() + 15.0
        while self.channel.messages_ignored <= before:
            if time.monotonic() > deadline:
                raise AssertionError("the message event was not ignored")
            time.sleep(0.005)

    def turn(self, send: Callable[[], Any]) -> list[Call]:
        """Sends one user act and returns every message the app posted for it."""
        before_turns, before_posts = self.channel.turns_done, len(self.fake.of("chat.postMessage"))
        response = send()
        assert response.status_code == 200, response.text
        self.wait_turns(before_turns + 1)
        return self.fake.of("chat.postMessage")[before_posts:]

    def ts(self) -> str:
        return f"1764340000.{next(self._ts):06d}"

    # ------------------------------------------------------------- transport
    def post(self, body: bytes, *, content_type: str, headers: dict[str, str] | None = None,
             signed: bool = True, **sign_args: Any) -> Any:
        all_headers = {"Content-Type": content_type, **(sign(body, **sign_args) if signed else {}),
                       **(headers or {})}
        return self.client.post("/slack/events", content=body, headers=all_headers)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None,
              **sign_args: Any) -> Any:
        envelope = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
                    "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
                    "event": event}
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(envelope).encode(), content_type="application/json", headers=headers,
                         **sign_args)

    def form(self, fields: dict[str, str], **sign_args: Any) -> Any:
        return self.post(urlencode(fields).encode(), content_type="application/x-www-form-urlencoded",
                         **sign_args)

    # ------------------------------------------------------------ user acts
    def dm(self, text: str, *, user: str = ALICE, channel: str = ALICE_DM, **kwargs: Any) -> Any:
        return self.event({"type": "message", "channel_type": "im", "channel": channel, "user": user,
                           "text": text, "ts": self.ts(), "team": TEAM}, **kwargs)

    def mention(self, text: str, *, user: str = ALICE, channel: str = GENERAL, ts: str | None = None,
                thread_ts: str | None = None) -> Any:
        event = {"type": "app_mention", "channel": channel, "user": user, "text": f"<@UBOT> {text}",
                 "ts": ts or self.ts(), "team": TEAM}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event)

    def thread_reply(self, text: str, *, thread_ts: str, user: str = ALICE, channel: str = GENERAL) -> Any:
        return self.event({"type": "message", "channel_type": "channel", "channel": channel, "user": user,
                           "text": text, "ts": self.ts(), "thread_ts": thread_ts, "team": TEAM})

    def click(self, post: Call, title: str, *, user: str = ALICE) -> Any:
        """Clicks the button called ``title`` on a message the app posted."""
        params = post.params
        ts = str(post.response["ts"])
        element = next(e for b in params.get("blocks") or [] if b["type"] == "actions"
                       for e in b["elements"] if e["text"]["text"] == title)
        message = {"type": "message", "ts": ts, "text": params.get("text"), "blocks": params.get("blocks")}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        payload = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "fake"}, "user": {"id": user},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
            "container": {"type": "message", "message_ts": ts, "channel_id": params["channel"]},
            "channel": {"id": params["channel"]}, "message": message,
            "response_url": f"{self.fake.url}/response/click",
            "actions": [{**element, "block_id": "b", "action_ts": "1.0"}],
        }
        return self.form({"payload": json.dumps(payload)})

    def command(self, name: str, text: str, *, user: str = ALICE, channel: str = GENERAL) -> Any:
        return self.form({"token": "legacy", "team_id": TEAM, "team_domain": "fake", "channel_id": channel,
                          "user_id": user, "user_name": "alice", "command": name, "text": text,
                          "api_app_id": "A0APP", "response_url": f"{self.fake.url}/response/{next(self._ids)}",
                          "trigger_id": "1.2.3"})

    def submit_view(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = ALICE) -> Any:
        """Submits a modal the app opened, with ``values`` as {block_id: {action_id: {"value": ...}}}."""
        payload = {"type": "view_submission", "team": {"id": TEAM, "domain": "fake"}, "user": {"id": user},
                   "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.4",
                   "view": {**view, "id": "V0VIEW", "team_id": TEAM, "state": {"values": values}}}
        return self.form({"payload": json.dumps(payload)})

    # ------------------------------------------------------------ app's acts
    def replies(self, count: int, *, channel: str = ALICE_DM, after: int = 0,
                thread_ts: str | None = None) -> list[Call]:
        """Waits for ``count`` more posts in ``channel`` (and thread) after the first ``after``."""
        def here(c: Call) -> bool:
            return c.params.get("channel") == channel and (thread_ts is None or c.params.get("thread_ts") == thread_ts)

        return self.fake.wait_for("chat.postMessage", after + count, where=here)[after:]

    def count(self, *, channel: str = ALICE_DM) -> int:
        return len([c for c in self.fake.of("chat.postMessage") if c.params.get("channel") == channel])

    def say_dm(self, text: str, **kwargs: Any) -> list[Call]:
        return self.turn(lambda: self.dm(text, **kwargs))


def text_of(calls: list[Call]) -> str:
    return "\n".join(str(c.params.get("text") or "") for c in calls)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    yield from fake_slack_fixture()


@pytest.fixture
def settings(tmp_path: Path, nlu_model_path: Path, fake_slack: FakeSlack) -> Settings:
    return make_settings(tmp_path, nlu_model_path, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                         slack_api_url=f"{fake_slack.url}/api/")


@pytest.fixture
def slack(client: Any, fake_slack: FakeSlack) -> SlackDriver:
    return SlackDriver(client, fake_slack)
