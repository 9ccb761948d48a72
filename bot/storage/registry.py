"""Every module that defines SQLAlchemy models, so Alembic and tests see the full schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "bot.storage.models",
    # issue 3: "bot.accounts.models", issue 4: "bot.tickets.models" (added as they land)
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
