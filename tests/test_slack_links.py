"""Slack user <-> NCID links: migration 0004_slack, the service, and `helpdesk slack link`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import os
import secrets

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from bot.channels.slack.links import SlackLinks
from bot.cli import main
from bot.errors import BadRequest
from bot.storage.db import Base, make_engine, make_sessionmaker
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.registry import import_all_models
from tests.fakes.clock import FixedClock
from tests.fakes.slack_server import TEAM, FakeSlack, fake_slack_fixture

TABLES = {"slack_user_links", "slack_installations", "slack_bots", "slack_oauth_states"}
PG_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres() -> Iterator[Engine]:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"t_slack_{secrets.token_hex(4)}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield from _postgres()
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'slack.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    yield from fake_slack_fixture()


def test_the_migration_creates_the_slack_tables_and_matches_the_model(engine: Engine) -> None:
    upgrade(engine, "0004_slack")
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    import_all_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "slack_user_links" in repr(d)] == []


def test_the_migration_downgrades_cleanly(engine: Engine) -> None:
    upgrade(engine, "0004_slack")
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_slack-1")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    assert "tickets" in sa.inspect(engine).get_table_names()


def test_links_are_kept_per_workspace_and_replaced_not_duplicated(engine: Engine) -> None:
    upgrade(engine)
    links = SlackLinks(sessions=make_sessionmaker(engine), clock=FixedClock())
    assert links.link(team_id="T1", user_id="U1", ncid_text=" PhoneUser01 ", linked_by="operator") == "phoneuser01"
    links.link(team_id="T1", user_id="U1", ncid_text="appuser01", linked_by="identity_check")
    assert links.ncid_for(team_id="T1", user_id="U1") == "appuser01"
    assert links.ncid_for(team_id="T2", user_id="U1") is None
    assert [(r.user_id, r.linked_by) for r in links.all()] == [("U1", "identity_check")]
    assert links.unlink(team_id="T1", user_id="U1") and not links.unlink(team_id="T1", user_id="U1")


def test_a_link_needs_a_ncid_and_slack_ids(engine: Engine) -> None:
    upgrade(engine)
    links = SlackLinks(sessions=make_sessionmaker(engine), clock=FixedClock())
    with pytest.raises(BadRequest):
        links.link(team_id="T1", user_id="U1", ncid_text="not an ncid!", linked_by="operator")
    with pytest.raises(BadRequest):
        links.link(team_id="T1", user_id="<script>", ncid_text="phoneuser01", linked_by="operator")


def test_the_operator_command_links_in_the_token_workspace(tmp_path: Path, fake_slack: FakeSlack,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    for name, value in {"HELPDESK_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test-token",
                        "SLACK_SIGNING_SECRET": "s", "HELPDESK_SLACK_API_URL": f"{fake_slack.url}/api/"}.items():
        monkeypatch.setenv(name, value)
    assert main(["slack", "link", "U0ALICE", "PhoneUser01"]) == 0
    assert fake_slack.of("auth.test")  # the workspace came from Slack
    assert main(["slack", "links"]) == 0
    out = capsys.readouterr().out
    assert f"linked Slack user U0ALICE in {TEAM} to NCID phoneuser01" in out
    assert f"{TEAM}" in out.splitlines()[-1] and "operator" in out.splitlines()[-1]
    assert main(["slack", "unlink", "U0ALICE", "--team", TEAM]) == 0
    assert main(["slack", "link", "U0ALICE", "bad ncid!", "--team", TEAM]) == 2


