"""Migration 0002_accounts on SQLite and PostgreSQL: tables match the models, downgrade."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Base, make_engine
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.registry import import_all_models

PG_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = {"mfa_accounts", "mfa_security_answers", "mfa_activation_codes", "mfa_identity_lockouts",
          "mfa_identity_checks", "mfa_test_calls", "mfa_audit_log"}


def _postgres() -> Iterator[Engine]:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"t_accounts_{secrets.token_hex(4)}"
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


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_upgrade_creates_the_account_tables(engine: Engine) -> None:
    upgrade(engine, "0002_accounts")
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def test_migration_matches_the_models(engine: Engine) -> None:
    upgrade(engine, "0006_identity_session")  # 0002_accounts and issue 14's session binding
    import_all_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in TABLES)]
    assert ours == []


def test_one_answer_per_question_position(engine: Engine) -> None:
    upgrade(engine, "0002_accounts")
    meta = sa.MetaData()
    accounts = sa.Table("mfa_accounts", meta, autoload_with=engine)
    answers = sa.Table("mfa_security_answers", meta, autoload_with=engine)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(accounts.insert().values(ncid="a1", first_name="A", last_name="B", ncid_created_at=now,
                                              state="registered", updated_at=now))
        conn.execute(answers.insert().values(ncid="a1", position=1, question="q", answer_hash="h"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(answers.insert().values(ncid="a1", position=1, question="q", answer_hash="h"))


def test_downgrade_removes_the_account_tables(engine: Engine) -> None:
    upgrade(engine, "0002_accounts")
    _downgrade(engine, "0001_core")
    assert not TABLES & set(sa.inspect(engine).get_table_names())


def test_identity_session_migration_adds_and_removes_its_column(engine: Engine) -> None:
    upgrade(engine, "0006_identity_session")
    assert "session_key" in {c["name"] for c in sa.inspect(engine).get_columns("mfa_identity_checks")}
    _downgrade(engine, "0002_accounts")
    assert "session_key" not in {c["name"] for c in sa.inspect(engine).get_columns("mfa_identity_checks")}
