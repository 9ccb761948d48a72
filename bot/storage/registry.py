"""Every module that defines SQLAlchemy models, so Alembic and tests see the full schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "bot.storage.models",
    "bot.storage.outbox",
    "bot.accounts.models",
    "bot.tickets.models",
    "bot.staff.models",  # issue 6: staff console
    "bot.channels.slack.models",  # issue 5: Slack user links
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
