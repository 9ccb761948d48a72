"""Socket Mode: the same listeners over a WebSocket the app opens at start (apps.connections.open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.config import Settings
from tests.conftest import make_settings
from tests.fakes.slack_driver import ALICE_DM, BOT_TOKEN, SIGNING_SECRET, fake_slack  # noqa: F401
from tests.fakes.slack_server import TEAM, FakeSlack
from tests.fakes.slack_socket import FakeSocketMode


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    fake_slack.socket_url = server.url
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, nlu_model_path: Path, fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> Settings:
    base = make_settings(tmp_path, nlu_model_path)
    return make_settings(tmp_path, nlu_model_path, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                         slack_app_token=fake_slack.app_token, slack_api_url=f"{fake_slack.url}/api/",
                         raw={**base.raw, "slack": {"socket_mode": True}})


def test_a_dm_over_socket_mode_is_acknowledged_and_answered(client: Any, fake_slack: FakeSlack,
                                                            socket_mode: FakeSocketMode) -> None:
    socket_mode.wait_connected()
    [opened] = fake_slack.of("apps.connections.open")
    assert opened.token == fake_slack.app_token
    payload = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
               "event_id": "Ev0SOCKET", "event_time": 1,
               "event": {"type": "message", "channel_type": "im", "channel": ALICE_DM, "user": "U0ALICE",
                         "text": "hi", "ts": "1764340000.000001", "team": TEAM}}
    socket_mode.send({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                      "retry_attempt": 0, "retry_reason": "", "payload": payload})
    assert socket_mode.wait_ack("env-1") == {"envelope_id": "env-1"}
    [reply] = fake_slack.wait_for("chat.postMessage")
    assert reply.params["channel"] == ALICE_DM and "NCTracks MFA help assistant" in reply.params["text"]
    # Slack redelivering the same event (retry_attempt 1) gets an ack and no second reply.
    socket_mode.send({"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
                      "retry_attempt": 1, "retry_reason": "timeout", "payload": payload})
    socket_mode.wait_ack("env-2")
    assert len(fake_slack.of("chat.postMessage")) == 1
