"""Faults: the database going away and coming back, Twilio answering 5xx or hanging.

(SMTP down is covered in tests/test_mail_outbox.py: the email stays in the outbox with
back-off and goes out once the server is back; Redis down in tests/test_ops_redis.py.)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.runtime import build_runtime
from bot.services import phone_calls
from bot.services.container import Services
from tests.conftest import make_settings
from tests.fakes.accounts import account_services
from tests.fakes.clock import FixedClock
from tests.fakes.scale import TcpProxy, pg_database, pg_proxy  # noqa: F401  (fixtures)
from tests.fakes.twilio_server import FakeTwilio

SID, TOKEN, FROM = "AC" + "1" * 32, "test-auth-token", "+18005550100"


@pytest.mark.postgres
def test_a_turn_while_postgresql_is_unreachable_gets_a_clear_503_and_nothing_is_lost(
        tmp_path: Path, nlu_model_path: Path, pg_proxy: tuple[TcpProxy, str]) -> None:
    proxy, url = pg_proxy
    settings = make_settings(tmp_path, nlu_model_path, database_url=url)
    runtime = build_runtime(settings, clock=FixedClock())
    turn = {"sender": "pg-1"}
    with TestClient(create_app(settings, runtime=runtime)) as client:
        assert client.post("/webhooks/rest/webhook", json={**turn, "message": "I got error E05"}).status_code == 200
        proxy.cut()  # the server restarts: every pooled connection dies, new ones are refused
        during = client.post("/webhooks/rest/webhook", json={**turn, "message": "thanks"})
        proxy.restore()
        after = client.post("/webhooks/rest/webhook", json={**turn, "message": "thanks"})
        tracker = client.get("/conversations/pg-1/tracker").json()
    assert during.status_code == 503
    assert "cannot reach its database" in during.json()["error"] and "800-688-6696" in during.json()["error"]
    assert after.status_code == 200  # pool pre-ping replaced the dead connections
    users = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert users == ["I got error E05", "thanks"]  # the accepted turn kept, the refused one not stored


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(account_sid=SID, auth_token=TOKEN).start()
    yield server
    server.stop()


def _services(tmp_path: Path, base_url: str) -> Services:
    return account_services(tmp_path, clock=FixedClock(), twilio_account_sid=SID, twilio_auth_token=TOKEN,
                            twilio_from_number=FROM, twilio_base_url=base_url,
                            public_url="https://helpdesk.example.org")


async def test_twilio_answering_5xx_ends_as_no_call_received_not_an_error(
        tmp_path: Path, twilio: FakeTwilio) -> None:
    services = _services(tmp_path, twilio.url)
    twilio.fail_next(status=500, code=20500)
    twilio.fail_next(status=503, code=20503)
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    call = services.phone_calls.get(placed.call_id)
    services.close()
    assert len(twilio.calls) == 2  # both numbers tried
    assert call.outcome == "no_call_received"


class HangingServer:
    """Accepts connections and never answers: Twilio timing out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


async def test_twilio_timing_out_fails_the_call_within_the_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phone_calls, "TWILIO_TIMEOUT_SECONDS", 0.5)
    hanging = HangingServer()
    services = _services(tmp_path, hanging.url)
    started = time.monotonic()
    placed = await services.phone_calls.place(ncid="phoneuser01", sender_id="s")
    elapsed = time.monotonic() - started
    call = services.phone_calls.get(placed.call_id)
    services.close()
    hanging.close()
    assert elapsed < 3  # two legs, half a second each, not forever
    assert call.outcome == "no_call_received"
