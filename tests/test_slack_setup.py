"""Slack is optional: without settings nothing changes; with half of them start-up says what is missing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.channels.slack.settings import SlackSettings
from bot.config import Settings
from bot.errors import ConfigError


def test_without_slack_settings_the_routes_say_so_and_the_rest_works(client: Any) -> None:
    for path in ("/slack/events", "/slack/install", "/slack/oauth_redirect"):
        response = client.post(path, content=b"{}") if path == "/slack/events" else client.get(path)
        assert response.status_code == 404 and "not configured" in response.json()["error"]
    assert client.get("/health").status_code == 200


def test_no_slack_settings_means_no_slack(settings: Settings) -> None:
    assert SlackSettings.from_settings(settings) is None


def test_a_token_without_a_signing_secret_fails_at_start_up(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackSettings.from_settings(dataclasses.replace(settings, slack_bot_token="xoxb-1"))


def test_a_signing_secret_alone_is_not_enough(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackSettings.from_settings(dataclasses.replace(settings, slack_signing_secret="s"))


def test_socket_mode_needs_an_app_token(settings: Settings) -> None:
    configured = dataclasses.replace(settings, slack_bot_token="xoxb-1", slack_signing_secret="s",
                                     raw={**settings.raw, "slack": {"socket_mode": True}})
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackSettings.from_settings(configured)


def test_settings_come_from_the_environment_and_hide_secrets(tmp_path: Path, nlu_model_path: Path) -> None:
    settings = Settings.load(env={"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "sig-secret",
                                  "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs-secret",
                                  "HELPDESK_SLACK_API_URL": "http://127.0.0.1:9/api"})
    slack = SlackSettings.from_settings(settings)
    assert slack is not None and slack.oauth and slack.api_url == "http://127.0.0.1:9/api/"
    assert "secret" not in repr(slack) and "secret" not in repr(settings)


def test_slack_can_be_switched_off_in_config(settings: Settings) -> None:
    configured = dataclasses.replace(settings, slack_bot_token="xoxb-1", slack_signing_secret="s",
                                     raw={**settings.raw, "slack": {"enabled": False}})
    assert SlackSettings.from_settings(configured) is None




def test_the_manifest_asks_for_what_the_app_uses() -> None:
    import yaml

    from bot.channels.slack.settings import DEFAULT_SCOPES
    from bot.config import PROJECT_ROOT

    manifest = yaml.safe_load((PROJECT_ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(DEFAULT_SCOPES)
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == {"/mfa", "/mfa-assist"}
    events = manifest["settings"]["event_subscriptions"]
    assert {"app_mention", "message.im", "message.channels"} <= set(events["bot_events"])
    urls = [events["request_url"], manifest["settings"]["interactivity"]["request_url"],
            *(c["url"] for c in manifest["features"]["slash_commands"])]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
