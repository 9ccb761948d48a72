"""The SQL tracker store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, text

from bot.runtime import build_runtime
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from bot.storage.tracker_store import SqlTrackerStore
from tests.conftest import make_settings
from tests.fakes.clock import FixedClock

POSTGRES_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own on the shared server, dropped afterwards."""
    name = f"helpdesk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def test_migrations_upgrade_an_empty_database_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert version and version.startswith("000")


def test_events_come_back_in_order_with_their_data(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    store = SqlTrackerStore(engine)
    store.append("s1", [{"event": "user", "text": "hi", "timestamp": 1.0},
                        {"event": "bot", "text": "hello", "timestamp": 1.0}], channel="rest", latest_intent="greet")
    store.append("s1", [{"event": "slot", "name": "error_code", "value": "E05", "timestamp": 2.0}],
                 channel="rest", latest_intent="report_error")
    events = store.load("s1")
    engine.dispose()
    assert [e["event"] for e in events] == ["user", "bot", "slot"]
    assert [e["_seq"] for e in events] == [1, 2, 3]
    assert events[2]["value"] == "E05"


def test_writers_of_one_conversation_side_by_side_never_share_a_sequence_number(database_url: str) -> None:
    """An agent's reply can be stored while the assistant stores a turn of the same conversation
    (only the assistant's turns are serialised by the conversation lock)."""
    engine = make_engine(database_url)
    upgrade(engine)
    store = SqlTrackerStore(engine)
    store.append("c1", [{"event": "session_started", "timestamp": 0.0}], channel="rest", latest_intent=None)

    def write(writer: int) -> None:
        for n in range(25):
            store.append("c1", [{"event": "bot", "text": f"{writer}-{n}-a", "timestamp": 1.0},
                                {"event": "bot", "text": f"{writer}-{n}-b", "timestamp": 1.0}],
                         channel="rest", latest_intent="greet")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    events = store.load("c1")
    with engine.connect() as conn:
        turns = conn.execute(text("SELECT turn_count FROM conversations WHERE sender_id = 'c1'")).scalar()
    engine.dispose()
    assert [e["_seq"] for e in events] == list(range(1, 202))
    texts = [e["text"] for e in events[1:]]
    assert sorted(texts) == sorted(f"{w}-{n}-{part}" for w in range(4) for n in range(25) for part in "ab")
    # A batch is stored contiguously: each "a" is followed by its "b".
    assert all(texts[i + 1] == texts[i][:-1] + "b" for i in range(0, len(texts), 2))
    assert turns == 101


def test_a_restart_in_the_middle_of_a_walkthrough_resumes_it(database_url: str, tmp_path: Path,
                                                             nlu_model_path: Path) -> None:
    import asyncio

    settings = make_settings(tmp_path, nlu_model_path, database_url=database_url)
    first = build_runtime(settings, clock=FixedClock())
    asyncio.run(first.assistant.handle_message(sender_id="r1", text="set up the phone call option"))
    asyncio.run(first.assistant.handle_message(sender_id="r1", text="done"))
    first.close()

    second = build_runtime(settings, clock=FixedClock())  # a new process, same database
    messages = asyncio.run(second.assistant.handle_message(sender_id="r1", text="done"))
    second.close()
    assert "step 3 of 7" in (messages[0].text or "")


def test_phi_is_stored_redacted_and_never_echoed(runtime: Any) -> None:
    import asyncio

    replies = asyncio.run(runtime.assistant.handle_message(
        sender_id="p1", text="my SSN is 123-45-6789 and I got E05"))
    stored = runtime.assistant.store.load("p1")
    user = next(e for e in stored if e["event"] == "user")
    assert "123-45-6789" not in user["text"]
    assert all("123-45-6789" not in (m.text or "") for m in replies)
    assert any("PHI" in (m.text or "") or "personal" in (m.text or "").lower() for m in replies)
