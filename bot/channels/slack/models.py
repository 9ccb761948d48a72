"""Slack user <-> NCID links (migration 0004_slack; the OAuth installation tables in the same
migration belong to slack_sdk's SQLAlchemy stores)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base


class SlackUserLink(Base):
    __tablename__ = "slack_user_links"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ncid: Mapped[str] = mapped_column(String(64), index=True)
    linked_by: Mapped[str] = mapped_column(String(32))  # operator | identity_check
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
