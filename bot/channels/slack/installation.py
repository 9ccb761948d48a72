"""Installation: one workspace from SLACK_BOT_TOKEN, or OAuth for several with slack_sdk's
SQLAlchemy stores on the app's own database (tables from migration 0004_slack).

slack_sdk's SQLAlchemy stores are synchronous; the adapters below give them the async
interface AsyncApp wants. Their queries are as short as the rest of our SQL, which also
runs on the event loop.
"""

from __future__ import annotations

import logging
from logging import Logger
from typing import Any

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from bot.channels.slack.settings import INSTALL_PATH, REDIRECT_PATH, SlackSettings

log = logging.getLogger(__name__)



class InstallationStore(AsyncInstallationStore):
    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        self._store = store

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        self._store.save(installation)

    async def async_save_bot(self, bot: Bot) -> None:
        self._store.save_bot(bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return self._store.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                    is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        return self._store.find_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                             is_enterprise_install=is_enterprise_install)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        self._store.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


class StateStore(AsyncOAuthStateStore):
    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self._store = store

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return self._store.issue()

    async def async_consume(self, state: str) -> bool:
        return self._store.consume(state)


def oauth_flow(settings: SlackSettings, *, engine: Engine, client: AsyncWebClient) -> AsyncOAuthFlow:
    assert settings.client_id and settings.client_secret
    installations = InstallationStore(SQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine))
    states = StateStore(SQLAlchemyOAuthStateStore(expiration_seconds=settings.state_expiration_seconds,
                                                  engine=engine))
    redirect_uri = f"{settings.public_url.rstrip('/')}{REDIRECT_PATH}" if settings.public_url else None
    return AsyncOAuthFlow(client=client, settings=AsyncOAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret, scopes=list(settings.scopes),
        redirect_uri=redirect_uri, install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        installation_store=installations, state_store=states,
        state_expiration_seconds=settings.state_expiration_seconds,
    ))


class Tokens:
    """The bot token for a workspace, for messages nobody asked for (test-call outcomes)."""

    def __init__(self, *, settings: SlackSettings, flow: AsyncOAuthFlow | None) -> None:
        self._settings, self._flow = settings, flow

    async def bot_token(self, team_id: str) -> str | None:
        if self._flow is None:
            return self._settings.bot_token
        bot = await self._flow.settings.installation_store.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None
