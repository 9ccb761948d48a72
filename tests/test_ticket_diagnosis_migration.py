"""Migration 0006_ticket_diagnosis: the queue's diagnosis columns, filled from older tickets'
diagnosis, matching the models, and removed cleanly on downgrade."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from bot.storage.db import Base
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.registry import import_all_models
from tests.test_staff_migration import engine  # noqa: F401  (the SQLite + PostgreSQL fixture)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, direction)(cfg, revision)


def test_older_tickets_get_their_call_failure_and_method_from_the_diagnosis(engine: Engine) -> None:
    _migrate(engine, "upgrade", "0003_tickets")
    tickets = sa.Table("tickets", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(tickets.insert().values(
            tracking_number="MFA-AAAA-BBBB-CCCC", status="new", npi="1234567893", phone="(919) 555-0134",
            last_name="Smith", first_name="Jane", subject="MFA Issue", email="j@x.org", message="m",
            diagnosis={"call_failure": "call_disconnected", "mfa_method": "phone"}, transcript=[],
            created_at=sa.func.now(), updated_at=sa.func.now()))
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT call_failure, mfa_method FROM tickets")).one()
    assert tuple(row) == ("call_disconnected", "phone")
    import_all_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "tickets" in repr(d)] == []
    _migrate(engine, "downgrade", "0006_ticket_diagnosis-1")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("tickets")}
    assert "call_failure" not in columns and "mfa_method" not in columns and "error_code" in columns
