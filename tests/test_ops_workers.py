"""`helpdesk serve --workers 2`: one port, two worker processes, shared PostgreSQL + Redis,
metrics merged across workers, JSON log lines carrying the request id."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.fakes.scale import (REDIS_URL, pg_database, redis_prefix, server_env,  # noqa: F401  (fixtures)
                               start_server, wait_ready)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def test_two_workers_on_one_port_share_conversations_and_merge_their_metrics(
        tmp_path: Path, nlu_model_path: Path, pg_database: str, redis_prefix: str) -> None:
    engine = make_engine(pg_database)
    upgrade(engine)
    engine.dispose()
    env = server_env(database_url=pg_database, nlu_model_path=nlu_model_path, redis_url=REDIS_URL,
                     redis_prefix=redis_prefix)
    server = start_server(env, tmp_path, args=("--workers", "2", "--log-format", "json", "--log-level", "info"))
    try:
        wait_ready(server, timeout=90)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(30):
                # A fresh connection each time, so the kernel spreads them over both workers.
                response = httpx.post(server.url + "/webhooks/rest/webhook",
                                      json={"sender": "w-1", "message": "hello" if i % 2 else "what is MFA"},
                                      headers={"X-Request-ID": f"req-{i}"}, timeout=30)
                assert response.status_code == 200
                assert response.headers["x-request-id"] == f"req-{i}"
            tracker = client.get("/conversations/w-1/tracker").json()
            metrics = client.get("/metrics").text
        users = [e["text"] for e in tracker["events"] if e["event"] == "user"]
        assert users == ["what is MFA" if i % 2 == 0 else "hello" for i in range(30)]
        assert _metric(metrics, 'helpdesk_turns_total{channel="rest"}') == 30  # both workers' turns
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    workers = {r["message"] for r in records if r["message"].startswith("worker ")}
    access = [r for r in records if r.get("logger") == "helpdesk.access" and r.get("route") == "/webhooks/rest/webhook"]
    assert len(workers) == 2, server.log()[-2000:]
    assert {r["request_id"] for r in access} >= {f"req-{i}" for i in range(30)}
