"""Shared fixtures: settings over a scratch database, the real runtime, app and live server."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from bot.config import Settings
from bot.nlu.model import train_from_files
from tests.fakes.accounts import scripted_accounts  # noqa: F401  (fixture used by conversation scripts)
from tests.fakes.clock import FixedClock

# Property tests (hypothesis, schemathesis) are derandomised by default so a CI run is
# reproducible; HYPOTHESIS_PROFILE=explore draws fresh random inputs on every run, to hunt.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Wednesday 2 December 2026, 10:00 in Raleigh: the call center is open.
OPEN_HOURS = "2026-12-02T15:00:00+00:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def nlu_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train once per test session; every runtime loads this file."""
    settings = Settings.load(env={})
    path = tmp_path_factory.mktemp("nlu") / "nlu.json"
    train_from_files(settings.nlu).save(path)
    return path


def make_settings(tmp_path: Path, model_path: Path, **overrides: Any) -> Settings:
    from tests.fakes.scale import backend_overrides  # issue 7: HELPDESK_TEST_BACKEND=postgres-redis

    overrides = backend_overrides(overrides)
    base = Settings.load(env={})
    return Settings.load(
        env={},
        database_url=overrides.pop("database_url", f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}"),
        nlu=dataclasses.replace(base.nlu, model_path=model_path),
        **overrides,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(OPEN_HOURS)


@pytest.fixture
def settings(tmp_path: Path, nlu_model_path: Path) -> Settings:
    return make_settings(tmp_path, nlu_model_path)


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Any]:
    from bot.runtime import build_runtime

    rt = build_runtime(settings, clock=clock)
    yield rt
    rt.close()


@pytest.fixture
def client(settings: Settings, runtime: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from bot.app import create_app

    with TestClient(create_app(settings, runtime=runtime)) as test_client:
        yield test_client


@pytest.fixture
def demo_accounts(runtime: Any) -> list[str]:
    from bot.accounts.demo import seed_demo_accounts

    return seed_demo_accounts(directory=runtime.services.accounts.directory, clock=runtime.services.clock)


@pytest.fixture(scope="session")
def live_server_url(tmp_path_factory: pytest.TempPathFactory, nlu_model_path: Path) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, with demo data (browser tests)."""
    import uvicorn

    from bot.accounts.demo import seed_demo_accounts
    from bot.app import create_app
    from bot.runtime import build_runtime

    port = free_port()
    tmp = tmp_path_factory.mktemp("live")
    settings = make_settings(tmp, nlu_model_path, port=port,
                             public_url=f"http://127.0.0.1:{port}")
    runtime = build_runtime(settings)
    seed_demo_accounts(directory=runtime.services.accounts.directory, clock=runtime.services.clock)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, runtime=runtime), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
