"""Operations endpoints and request context: /ready, /metrics, /openapi.json, request ids, logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.ops import logs
from bot.runtime import build_runtime
from tests.conftest import make_settings
from tests.fakes.scale import TcpProxy, closed_port, pg_database, pg_proxy  # noqa: F401  (fixtures)


def test_ready_says_ok_for_each_part(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and set(body["checks"].values()) == {"ok"}
    # "redis" too when the suite runs with HELPDESK_TEST_BACKEND=postgres-redis
    assert {"database", "migrations", "nlu_model"} <= set(body["checks"])


def test_ready_is_503_with_the_reason_when_migrations_are_missing(tmp_path: Path, nlu_model_path: Path) -> None:
    settings = make_settings(tmp_path, nlu_model_path, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    runtime = build_runtime(settings, migrate=False)  # an empty database
    with TestClient(create_app(settings, runtime=runtime)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("not at heads")


@pytest.mark.postgres
def test_ready_follows_the_database_going_away_and_coming_back(
        tmp_path: Path, nlu_model_path: Path, pg_proxy: tuple[TcpProxy, str]) -> None:
    proxy, url = pg_proxy
    settings = make_settings(tmp_path, nlu_model_path, database_url=url)
    runtime = build_runtime(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        before = client.get("/ready")
        proxy.cut()
        during = client.get("/ready")
        alive = client.get("/health")
        proxy.restore()
        after = client.get("/ready")
    assert before.status_code == 200 and after.status_code == 200
    assert during.status_code == 503 and alive.status_code == 200
    assert during.json()["checks"]["database"].startswith("unreachable")


def test_with_redis_down_the_worker_is_unready_but_still_takes_turns(tmp_path: Path, nlu_model_path: Path) -> None:
    settings = make_settings(tmp_path, nlu_model_path, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    runtime = build_runtime(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        response = client.get("/ready")
        turn = client.post("/webhooks/rest/webhook", json={"sender": "r1", "message": "I got error E05"})
        metrics = client.get("/metrics").text
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("unreachable")
    assert turn.status_code == 200 and "E05" in json.dumps(turn.json())
    assert _metric(metrics, 'helpdesk_redis_errors_total{operation="lock"}') == 1


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_turns_intents_fallbacks_and_latency(client: TestClient) -> None:
    for text in ("hello", "I got error E05", "the thing with the stuff"):
        assert client.post("/webhooks/rest/webhook", json={"sender": "m1", "message": text}).status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert _metric(body, 'helpdesk_turns_total{channel="rest"}') == 3
    assert _metric(body, 'helpdesk_intents_total{intent="greet"}') == 1
    assert _metric(body, 'helpdesk_intents_total{intent="report_error"}') == 1
    assert _metric(body, "helpdesk_fallbacks_total") == 1
    assert _metric(body, "helpdesk_turn_seconds_count") == 3
    assert _metric(body, 'helpdesk_http_request_seconds_count{method="POST",route="/webhooks/rest/webhook"') == 3


def test_metrics_count_tickets_and_queued_emails(runtime: Any, client: TestClient) -> None:
    from bot.tickets.service import TicketForm

    before = client.get("/metrics").text
    runtime.services.tickets.create(form=TicketForm(
        npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
        subject="MFA Issue", email="jane@clinic.org", message="E05 again after 60 minutes."))
    after = client.get("/metrics").text
    assert _metric(after, "helpdesk_tickets_total") == _metric(before, "helpdesk_tickets_total") + 1
    assert _metric(after, "helpdesk_emails_queued_total") == _metric(before, "helpdesk_emails_queued_total") + 1


def test_a_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-ID": "lb-1234.abc"})
    made = client.get("/health")
    bad = client.get("/health", headers={"X-Request-ID": "no spaces <allowed>"})
    assert given.headers["x-request-id"] == "lb-1234.abc"
    assert len(made.headers["x-request-id"]) == 32
    assert bad.headers["x-request-id"] != "no spaces <allowed>"


def test_log_lines_are_json_with_the_request_id_and_no_personal_data(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    formatter = logs.JsonFormatter()
    with caplog.at_level(logging.INFO):
        client.post("/webhooks/rest/webhook", headers={"X-Request-ID": "req-42"},
                    json={"sender": "jane.doe@example.org", "message": "my SSN is 123-45-6789"})
        logging.getLogger("helpdesk.test").info(
            "user jane.doe@example.org called from 919-555-0123 token=abc123 ssn 123-45-6789")
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    access = [line for line in lines if line["logger"] == "helpdesk.access"]
    assert access and access[0]["request_id"] == "req-42"
    assert access[0]["route"] == "/webhooks/rest/webhook" and access[0]["status"] == 200
    text = json.dumps(lines)
    for secret in ("jane.doe@example.org", "123-45-6789", "919-555-0123", "abc123"):
        assert secret not in text


def test_the_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/webhooks/rest/webhook" in schema["paths"] and "/ready" in schema["paths"]
