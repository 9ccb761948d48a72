"""Fixtures for the scale-out and fault tests: Redis key spaces, PostgreSQL databases,
a TCP proxy that can cut connections, and real `helpdesk serve` processes."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from tests.conftest import free_port

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROJECT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key space of its own on the shared Redis server, emptied afterwards."""
    prefix = f"helpdesk-test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    name = f"helpdesk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def closed_port() -> int:
    """A loopback port with nothing listening: a server that is down."""
    return free_port()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses
    new ones (the server "restarts"), `restore()` accepts again. Lets a test take the shared
    PostgreSQL or Redis away from one app without touching the real server."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> "TcpProxy":
        self._listen()
        self._thread.start()
        return self

    def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.settimeout(0.05)
        self._listener = sock

    def _serve(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            source.settimeout(None)
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self._lock:
                self._conns.discard(source)
                self._conns.discard(sink)

    def cut(self) -> None:
        """Close the listening socket (new connections are refused) and every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self._listen()

    def close(self) -> None:
        self.cut()
        self._stop.set()
        self._thread.join(timeout=2)


@pytest.fixture
def pg_proxy(pg_database: str) -> Iterator[tuple[TcpProxy, str]]:
    """The test database reached through a proxy the test can cut: (proxy, url via proxy)."""
    proxy = TcpProxy("127.0.0.1", 5432).start()
    head, tail = pg_database.split("@", 1)
    url = f"{head}@127.0.0.1:{proxy.port}/{tail.split('/', 1)[1]}"
    yield proxy, url
    proxy.close()


@dataclass
class ServerProcess:
    """One `helpdesk serve` worker process."""

    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, locks and connections left as they were."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def server_env(*, database_url: str, nlu_model_path: Path, redis_url: str | None,
               redis_prefix: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "TWILIO_", "SLACK_"))}
    env.update({
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_NLU_MODEL": str(nlu_model_path),
        "HELPDESK_MODE": "development",
        "PYTHONUNBUFFERED": "1",
    })
    if redis_url:
        env["HELPDESK_REDIS_URL"] = redis_url
    if redis_prefix:
        env["HELPDESK_REDIS_PREFIX"] = redis_prefix
    env.update(extra or {})
    return env


def start_server(env: dict[str, str], log_dir: Path, *, args: tuple[str, ...] = ()) -> ServerProcess:
    port = free_port()
    log_path = log_dir / f"serve-{port}.log"
    out = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--log-level", "warning", *args],
        cwd=PROJECT, env={**env, "HELPDESK_PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT,
    )
    out.close()
    return ServerProcess(port=port, proc=proc, log_path=log_path, env=env)


def wait_ready(server: ServerProcess, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log()[-3000:]}")


# ---------------------------------------------------------------------------------------------
# HELPDESK_TEST_BACKEND=postgres-redis: the integration suite on PostgreSQL + Redis.
# make_settings (tests/conftest.py) and make_services (tests/fakes) ask `backend_overrides`
# for their database; in that mode each call gets a fresh PostgreSQL database, copied from a
# template migrated once per run (CREATE DATABASE ... TEMPLATE is fast), and Redis shared state
# under a key prefix of its own. The databases are dropped when the test process exits.
BACKEND = os.environ.get("HELPDESK_TEST_BACKEND", "sqlite")
_created: list[str] = []
_template: list[str] = []


def _admin() -> Any:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _fresh_postgres_database() -> str:
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade

    admin = _admin()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        if not _template:
            name = f"helpdesk_tmpl_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            _template.append(name)
            atexit.register(_drop_all)
            engine = make_engine(f"{base}/{name}")
            upgrade(engine)
            engine.dispose()
        name = f"helpdesk_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template[0]}"'))
        _created.append(name)
    finally:
        admin.dispose()
    return f"{base}/{name}"


def _drop_all() -> None:
    admin = _admin()
    with admin.connect() as conn:
        for name in _created + _template:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def backend_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Settings overrides for the configured test backend (unchanged on SQLite)."""
    if BACKEND != "postgres-redis" or "database_url" in overrides:
        return overrides
    from bot.config import Settings

    raw = dict(overrides.get("raw") or Settings.load(env={}).raw)
    raw["redis"] = {**(raw.get("redis") or {}), "prefix": f"helpdesk-test:{uuid.uuid4().hex[:10]}:"}
    return {"redis_url": REDIS_URL, **overrides, "database_url": _fresh_postgres_database(), "raw": raw}
