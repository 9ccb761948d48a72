"""Migration 0005_staff: branches from 0003_tickets, creates the staff tables, downgrades cleanly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from bot.storage.db import make_engine
from bot.storage.migrate import alembic_config, upgrade
from tests.fakes.staff import postgres_engine

PG_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STAFF_TABLES = {"staff_users", "staff_sessions", "staff_ticket_work", "staff_ticket_notes", "staff_handoffs",
                "staff_nlu_reviews"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
        yield sqlite
        sqlite.dispose()
    else:
        yield from postgres_engine(PG_URL)


def test_upgrade_creates_and_downgrade_removes_the_staff_tables(engine: Engine) -> None:
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
