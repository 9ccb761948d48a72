"""Staff console helpers for tests: staff users with a cheap argon2 profile, and a sign-in
that goes through the real forms (CSRF token, password, TOTP code)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp

from tests.fakes.accounts import fast_hasher

PASSWORD = "correct-horse-battery"
SECRETS = {
    "agent": "AGENTTESTAGENTTESTAGENTTESTAGENT",
    "supervisor": "SUPERVISRTESTSUPERVISRTESTSUPER",
    "admin": "ADMINTESTADMINTESTADMINTESTADMIN",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_for(runtime: Any) -> Any:
    """The app's console (the client fixture builds it) with a cheap password hasher."""
    from bot.staff.views import build_console

    console = build_console(runtime)
    console.staff.hasher = fast_hasher()
    return console


def add_staff(runtime: Any, role: str, *, username: str | None = None, enrolled: bool = True) -> Any:
    console = console_for(runtime)
    return console.staff.add_user(username=username or role, display_name=f"{role.title()} Tester", role=role,
                                  password=PASSWORD, totp_secret=SECRETS[role] if enrolled else None)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def code_for(secret: str, clock: Any, *, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * offset_steps)


def password_step(client: Any, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.text), "next": "/staff/assist"},
                       follow_redirects=False)


def sign_in(client: Any, clock: Any, role: str, *, username: str | None = None) -> str:
    """Sign in through both forms; returns the CSRF token of the signed-in session."""
    response = password_step(client, username or role)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    done = client.post("/staff/login/code", data={"code": code_for(SECRETS[role], clock),
                                                  "csrf_token": csrf_of(page.text), "next": "/staff/assist"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/staff/assist").text) if _has_page(client) else ""


def _has_page(client: Any) -> bool:
    return client.get("/staff/assist", follow_redirects=False).status_code == 200


def start_staff_live_server(tmp: Any, model_path: Any) -> tuple[str, Any, Any]:
    """A real uvicorn server (real clock) with the console's staff users: (url, runtime, stop).
    Module-scoped in the browser tests, so staff users are created here, not per test."""
    import threading
    import time

    import uvicorn

    from bot.app import create_app
    from bot.runtime import build_runtime
    from tests.conftest import free_port, make_settings

    port = free_port()
    settings = make_settings(tmp, model_path, port=port, public_url=f"http://127.0.0.1:{port}")
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", runtime, stop


def postgres_engine(url: str) -> Iterator[Any]:
    """A fresh PostgreSQL database for one test (skipped when PostgreSQL is not reachable)."""
    import secrets

    import pytest
    import sqlalchemy as sa

    from bot.storage.db import make_engine

    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"t_staff_{secrets.token_hex(4)}"
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
