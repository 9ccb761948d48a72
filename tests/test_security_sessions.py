"""Issue 14, item 2: a sender id is not a credential.

The attacks, as the probe ran them: with only a victim's sender id, read their messages and
live stream, continue their conversation, and use their passed identity check (through
trigger_intent or a plain REST turn) to get a new activation secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.accounts.models import ActivationCode
from bot.config import Settings
from bot.errors import ConfigError
from bot.storage.db import session_scope
from tests.fakes import widget

VICTIM = "victim-web-1"
HEADER = "X-Conversation-Token"


def codes_issued(runtime: Any) -> int:
    with session_scope(runtime.services.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(ActivationCode)) or 0)


def verify_in_widget(client: Any, sender: str = VICTIM) -> str:
    for text in ("/change_phone_here", "appuser01", "rex", "ford"):
        reply = widget.say(client, sender, text, channel="web")
        assert reply.status_code == 200
    assert "verified" in reply.text
    return str(reply.text)


@pytest.fixture
def attacker(runtime: Any, settings: Settings) -> Iterator[TestClient]:
    """Another client, elsewhere, that knows only the victim's sender id."""
    from bot.app import create_app

    with TestClient(create_app(settings, runtime=runtime), client=("203.0.113.9", 40000)) as other:
        yield other


# --- production needs the API token --------------------------------------------------
def test_production_refuses_to_start_without_an_api_token() -> None:
    env = {"HELPDESK_MODE": "production", "HELPDESK_SECRET_KEY": "k" * 32}
    with pytest.raises(ConfigError, match="HELPDESK_API_TOKEN"):
        Settings.load(env=env)
    assert Settings.load(env={**env, "HELPDESK_API_TOKEN": "t" * 32}).api_token == "t" * 32
    opened = Settings.load(env={**env, "HELPDESK_INSECURE_NO_API_TOKEN": "1"})
    assert opened.api_token is None and opened.insecure_no_api_token


# --- the widget's credential ----------------------------------------------------------
def test_the_first_turn_returns_a_credential_that_history_and_stream_require(client: Any, attacker: Any) -> None:
    first = widget.say(client, VICTIM, "I got error E05", channel="web")
    credential = first.headers[HEADER]
    assert widget.say(client, VICTIM, "thanks", channel="web").headers.get(HEADER) is None  # only once
    for reader in (client, attacker):
        assert reader.get(f"/conversations/{VICTIM}/messages").status_code == 403
        assert reader.get(f"/conversations/{VICTIM}/messages", headers={HEADER: "forged"}).status_code == 403
        assert reader.get(f"/conversations/{VICTIM}/stream").status_code == 403
        assert reader.get(f"/conversations/{VICTIM}/stream?credential=forged").status_code == 403
    other = widget.say(client, "someone-else", "hello", channel="web").headers[HEADER]
    assert client.get(f"/conversations/{VICTIM}/messages", headers={HEADER: other}).status_code == 403
    mine = client.get(f"/conversations/{VICTIM}/messages", headers={HEADER: credential})
    assert mine.status_code == 200 and "E05" in mine.text


def test_a_widget_conversation_cannot_be_continued_with_its_sender_id_alone(client: Any, attacker: Any) -> None:
    widget.say(client, VICTIM, "I got error E05", channel="web")
    for body in ({"sender": VICTIM, "message": "what did I say?"},
                 {"sender": VICTIM, "message": "hi", "metadata": {"channel": "web"}}):
        assert attacker.post("/webhooks/rest/webhook", json=body).status_code == 403


# --- a passed identity check belongs to the session that passed it ---------------------
def test_trigger_intent_never_uses_a_passed_identity_check(client: Any, attacker: Any, runtime: Any,
                                                           scripted_accounts: None, demo_accounts: Any) -> None:
    verify_in_widget(client)
    before = codes_issued(runtime)
    reply = attacker.post(f"/conversations/{VICTIM}/trigger_intent", json={"name": "new_activation_code_here"})
    assert reply.status_code == 200
    texts = " ".join(str(m.get("text")) for m in reply.json()["messages"])
    assert "Activation code" not in texts and "otpauth" not in texts
    assert codes_issued(runtime) == before
    # The victim's own session still holds its check.
    own = widget.say(client, VICTIM, "cancel", channel="web")
    assert own.status_code == 200


def test_a_plain_rest_clients_check_does_not_carry_to_another_address(client: Any, attacker: Any, runtime: Any,
                                                                      scripted_accounts: None,
                                                                      demo_accounts: Any) -> None:
    sender = "rest-victim-1"
    for text in ("/change_phone_here", "appuser01", "rex", "ford"):
        reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert "verified" in reply.text  # a plain REST client (an evaluation runner) still works
    client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "cancel"})
    before = codes_issued(runtime)
    stolen = attacker.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/new_activation_code_here"})
    assert stolen.status_code == 200
    assert "Activation code" not in stolen.text and codes_issued(runtime) == before
    assert "NCID" in stolen.text  # asked to prove who they are instead
    assert attacker.get(f"/conversations/{sender}/messages").status_code == 403


def test_a_passed_check_expires_after_the_configured_time(tmp_path: Path, nlu_model_path: Path, clock: Any) -> None:
    from bot.accounts.demo import seed_demo_accounts
    from bot.app import create_app
    from bot.runtime import build_runtime
    from tests.conftest import make_settings
    from tests.fakes.accounts import fast_hasher

    settings = make_settings(tmp_path, nlu_model_path)
    settings = type(settings)(**{**settings.__dict__,
                                 "security": type(settings.security)(identity_verified_minutes=3)})
    runtime = build_runtime(settings, clock=clock)
    import random

    runtime.services.accounts.identity.rng = random.Random(0)
    runtime.services.accounts.directory.hasher = fast_hasher()
    seed_demo_accounts(directory=runtime.services.accounts.directory, clock=clock)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as local:
            verify_in_widget(local)
            widget.say(local, VICTIM, "cancel", channel="web")
            clock.advance(minutes=4)
            again = widget.say(local, VICTIM, "/new_activation_code_here", channel="web")
            assert "Activation code" not in again.text and "expired" in again.text
    finally:
        runtime.close()


async def test_a_slack_conversation_cannot_be_continued_or_used_over_rest(runtime: Any, client: Any,
                                                                        scripted_accounts: None,
                                                                        demo_accounts: Any) -> None:
    """A Slack DM's sender id is guessable (team and channel ids); over REST it gets nothing."""
    sender = "slack:T0TEAM:D0ALICE"
    slack = {"channel": "slack", "session": "slack:T0TEAM:U0ALICE"}
    for text in ("/change_phone_here", "appuser01", "rex", "ford"):
        said = await runtime.assistant.handle_message(sender_id=sender, text=text, metadata=dict(slack))
    assert "verified" in " ".join(str(m.text) for m in said)
    assert client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"}).status_code == 403
    assert runtime.services.accounts.identity.verified_ncid(sender_id=sender, session=slack["session"]) == "appuser01"
    assert runtime.services.accounts.identity.verified_ncid(sender_id=sender, session="slack:T0TEAM:U0BOB") is None
