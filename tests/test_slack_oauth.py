"""OAuth installation for several workspaces: slack_sdk's SQLAlchemy stores on our database,
the code exchanged with the fake Slack's oauth.v2.access, then events from that workspace
answered with its own bot token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Settings
from tests.conftest import make_settings
from tests.fakes.slack_driver import SIGNING_SECRET, SlackDriver, fake_slack, slack  # noqa: F401
from tests.fakes.slack_server import FakeSlack

STATE_COOKIE = "slack-app-oauth-state"
# slack_sdk's async oauth.v2.access still passes aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def settings(tmp_path: Path, nlu_model_path: Path, fake_slack: FakeSlack) -> Settings:
    return make_settings(tmp_path, nlu_model_path, slack_signing_secret=SIGNING_SECRET,
                         slack_client_id=fake_slack.client_id, slack_client_secret=fake_slack.client_secret,
                         slack_api_url=f"{fake_slack.url}/api/", public_url="https://helpdesk.example.org")


def start_install(client: Any) -> str:
    page = client.get("/slack/install")
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link is not None
    assert "redirect_uri=https://helpdesk.example.org/slack/oauth_redirect" in link.group(1)
    state = re.search(r"state=([\w-]+)", link.group(1))
    assert state is not None and page.cookies.get(STATE_COOKIE) == state.group(1)
    return state.group(1)


def finish_install(client: Any, *, state: str, code: str = "good-code") -> Any:
    return client.get("/slack/oauth_redirect", params={"code": code, "state": state},
                      headers={"Cookie": f"{STATE_COOKIE}={state}"})


def bots(runtime: Any) -> list[tuple[str, str]]:
    with runtime.services.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("select team_id, bot_token from slack_bots"))]


def test_installing_stores_the_workspace_bot_token(client: Any, fake_slack: FakeSlack, runtime: Any) -> None:
    state = start_install(client)
    done = finish_install(client, state=state)
    assert done.status_code == 200
    [exchange] = fake_slack.of("oauth.v2.access")
    assert exchange.params["code"] == "good-code" and exchange.params["client_id"] == fake_slack.client_id
    assert bots(runtime) == [("T0OTHER", "xoxb-installed-token")]


def test_a_forged_state_installs_nothing(client: Any, fake_slack: FakeSlack, runtime: Any) -> None:
    start_install(client)
    done = finish_install(client, state="not-a-state-we-issued")
    assert done.status_code >= 400
    assert fake_slack.of("oauth.v2.access") == [] and bots(runtime) == []


def test_a_state_is_used_once(client: Any, fake_slack: FakeSlack, runtime: Any) -> None:
    state = start_install(client)
    assert finish_install(client, state=state).status_code == 200
    assert finish_install(client, state=state).status_code >= 400
    assert len(fake_slack.of("oauth.v2.access")) == 1


def test_a_bad_code_installs_nothing(client: Any, fake_slack: FakeSlack, runtime: Any) -> None:
    state = start_install(client)
    assert finish_install(client, state=state, code="bad-code").status_code >= 400
    assert bots(runtime) == []


def test_events_from_an_installed_workspace_use_its_token(client: Any, slack: SlackDriver,
                                                         fake_slack: FakeSlack) -> None:
    finish_install(client, state=start_install(client))
    before = slack.channel.turns_done
    envelope_team = "T0OTHER"
    response = slack.post(
        ('{"type": "event_callback", "team_id": "%s", "api_app_id": "A0APP", "event_id": "Ev0OTHER", '
         '"event": {"type": "message", "channel_type": "im", "channel": "D0OTHER", "user": "U0DAN", '
         '"text": "hi", "ts": "1764340000.000001", "team": "%s"}}' % (envelope_team, envelope_team)).encode(),
        content_type="application/json")
    assert response.status_code == 200
    slack.wait_turns(before + 1)
    [reply] = fake_slack.of("chat.postMessage")
    assert reply.token == "xoxb-installed-token" and reply.params["channel"] == "D0OTHER"


def test_events_from_a_workspace_that_never_installed_are_not_answered(slack: SlackDriver,
                                                                      fake_slack: FakeSlack) -> None:
    response = slack.dm("hi")  # TEAM has no installation here
    # bolt stops at authorization, before any listener runs, and says why
    assert response.status_code == 200 and "reinstall" in response.text
    assert fake_slack.of("chat.postMessage") == []
