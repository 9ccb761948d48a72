"""Migration 0005_staff: branches from 0003_tickets, creates the staff tables, downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from bot.storage.db import make_engine
from bot.storage.migrate import alembic_config, upgrade

STAFF_TABLES = {"staff_users", "staff_sessions", "staff_ticket_work", "staff_ticket_notes", "staff_handoffs",
                "staff_nlu_reviews"}


def test_upgrade_creates_and_downgrade_removes_the_staff_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    assert STAFF_TABLES <= set(sa.inspect(engine).get_table_names())
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0005_staff-1")
    tables = set(sa.inspect(engine).get_table_names())
    assert not STAFF_TABLES & tables and "tickets" in tables
    upgrade(engine)
    assert STAFF_TABLES <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
