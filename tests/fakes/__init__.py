"""Fakes for tests: fixed clock, loopback servers speaking real protocols."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services.container import Services


def make_services(tmp_path: Path, *, clock: Any, smtp_url: str | None = None, **overrides: Any) -> "Services":
    """Services over a fresh SQLite file with every table created."""
    # Imported here so `tests.fakes.clock` stays light for other test modules.
    from bot.config import Settings
    from bot.composition import create_services
    from bot.storage.db import Base
    from bot.storage.registry import import_all_models

    from tests.fakes.scale import backend_overrides  # issue 7: HELPDESK_TEST_BACKEND=postgres-redis

    overrides = dict(backend_overrides(overrides))
    overrides.setdefault("database_url", f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}")
    settings = Settings.load(env={}, smtp_url=smtp_url, **overrides)
    services = create_services(settings, clock=clock)
    import_all_models()
    Base.metadata.create_all(services.engine)
    return services
