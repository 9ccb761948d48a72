"""Slack settings: secrets from the environment (via bot.config.Settings), the rest from the
``slack:`` section of config.yml. Read once; a bad value fails at start-up naming itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.errors import ConfigError

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_SCOPES = (
    "app_mentions:read", "channels:history", "groups:history", "im:history", "im:write",
    "chat:write", "commands", "files:write",
)


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str = field(repr=False)
    bot_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    socket_mode: bool = False
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # A Slack user linked to a NCID (operator command or identity check in a DM) counts as
    # verified for that NCID in their DM: Slack has already authenticated them.
    trust_links: bool = True
    public_url: str | None = None
    state_expiration_seconds: int = 600

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_settings(cls, settings: Settings) -> "SlackSettings | None":
        """None when Slack is not configured: the rest of the product runs without it."""
        raw = settings.raw.get("slack") or {}
        if not isinstance(raw, dict):
            raise ConfigError("config 'slack' must be a mapping")
        if raw.get("enabled") is False:
            return None
        secret = settings.slack_signing_secret
        token = settings.slack_bot_token
        oauth = bool(settings.slack_client_id and settings.slack_client_secret)
        if not secret and not token and not oauth:
            return None
        if not secret:
            raise ConfigError("SLACK_SIGNING_SECRET must be set when Slack is configured")
        if not token and not oauth:
            raise ConfigError("Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                              "SLACK_CLIENT_SECRET (OAuth installation)")
        socket_mode = _bool(raw.get("socket_mode", False), "slack.socket_mode")
        if socket_mode and not settings.slack_app_token:
            raise ConfigError("slack.socket_mode needs SLACK_APP_TOKEN (xapp-...)")
        api_url = settings.slack_api_url or str(raw.get("api_url") or DEFAULT_API_URL)
        if not api_url.endswith("/"):
            api_url += "/"  # slack_sdk joins method names onto it
        scopes = raw.get("scopes") or DEFAULT_SCOPES
        if not isinstance(scopes, (list, tuple)) or not all(isinstance(s, str) for s in scopes):
            raise ConfigError("config 'slack.scopes' must be a list of scope names")
        return cls(
            signing_secret=secret, bot_token=token, client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret, app_token=settings.slack_app_token,
            api_url=api_url, socket_mode=socket_mode, scopes=tuple(scopes),
            trust_links=_bool(raw.get("trust_links", True), "slack.trust_links"),
            public_url=settings.public_url,
        )


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"config '{name}' must be true or false")
    return value


def not_configured_routes() -> list[BaseRoute]:
    """/slack/* without Slack settings: a 404 that says so, and slack-bolt is never imported
    (it costs a third of a second at start-up)."""
    async def not_configured(request: Request) -> Response:
        return JSONResponse({"error": "Slack is not configured on this server (see docs/slack.md)"},
                            status_code=404)

    return [Route(path, not_configured, methods=["GET", "POST"]) for path in (EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH)]
