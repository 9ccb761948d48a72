"""Migration 0003_tickets on SQLite and PostgreSQL: tables, unique tracking numbers, downgrade."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import make_engine
from bot.storage.migrate import alembic_config, upgrade

PG_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres() -> Iterator[Engine]:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"t_tickets_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        pytest.skip("PostgreSQL is not reachable")
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres()


def _ticket(tracking_number: str) -> dict[str, object]:
    now = sa.func.now()
    return dict(tracking_number=tracking_number, status="new", npi="1234567893", phone="(919) 555-0134",
                last_name="Smith", first_name="Jane", subject="MFA Issue", email="j@x.org", message="m",
                diagnosis={}, transcript=[], created_at=now, updated_at=now)


def test_upgrade_creates_the_ticket_tables(engine: Engine) -> None:
    upgrade(engine)
    assert {"tickets", "ticket_events", "outbox_emails"} <= set(sa.inspect(engine).get_table_names())


def test_tracking_numbers_are_unique_in_the_database(engine: Engine) -> None:
    upgrade(engine)
    tickets = sa.Table("tickets", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(tickets.insert().values(**_ticket("MFA-7K4P-9QXD-2MWA")))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(tickets.insert().values(**_ticket("MFA-7K4P-9QXD-2MWA")))


def test_downgrade_removes_the_ticket_tables(engine: Engine) -> None:
    upgrade(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002_accounts")
    assert "tickets" not in set(sa.inspect(engine).get_table_names())
