"""Throughput and latency for 1 and 2 workers on PostgreSQL + Redis, beside one SQLite process.

Each setup gets fresh state (a new PostgreSQL database, a Redis key prefix of its own, or a
new SQLite file), real `helpdesk serve` processes, and the same load: C concurrent
conversations of a six-turn ticket journey whose turns alternate between the workers.
Prints one JSON document; progress goes to stderr.

    .venv/bin/python bench/scale.py            # 100 conversations per setup
    .venv/bin/python bench/scale.py --quick    # 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.nlu.model import train_from_files  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402

POSTGRES = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def journey(i: int) -> list[str]:
    return ['/report_error{"error_code":"E05"}', "I need to talk to a person", "/affirm", "1234567893",
            f"I'm Jane Smith, 919-555-0134, jane.{i}@clinic.org", "/affirm"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str], logdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    out = (logdir / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env={**env, "HELPDESK_PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def load(urls: list[str], conversations: int, tag: str) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def converse(client: httpx.AsyncClient, i: int) -> None:
        nonlocal errors
        for n, message in enumerate(journey(i)):
            started = time.perf_counter()
            response = await client.post(urls[(i + n) % len(urls)] + "/webhooks/rest/webhook",
                                         json={"sender": f"{tag}-{i}", "message": message})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    limits = httpx.Limits(max_connections=conversations * 2, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(converse(client, i) for i in range(conversations)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    return {"conversations": conversations, "turns": len(latencies), "errors": errors,
            "seconds": round(elapsed, 2), "turns_per_second": round(len(latencies) / elapsed, 1),
            "latency_p50_ms": pct(0.50), "latency_p95_ms": pct(0.95), "latency_p99_ms": pct(0.99)}


def run_setup(name: str, workers: int, *, postgres: bool, conversations: int, model: Path, tmp: Path) -> dict[str, Any]:
    print(f"{name}: starting", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "TWILIO_", "SLACK_"))}
    env.update({"HELPDESK_NLU_MODEL": str(model), "PYTHONUNBUFFERED": "1"})
    cleanup: list[Any] = []
    if postgres:
        db = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        url = POSTGRES.rsplit("/", 1)[0] + f"/{db}"
        prefix = f"helpdesk-bench:{uuid.uuid4().hex[:8]}:"
        env.update({"HELPDESK_DATABASE_URL": url, "HELPDESK_REDIS_URL": REDIS, "HELPDESK_REDIS_PREFIX": prefix})

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{db}" WITH (FORCE)'))
            admin.dispose()
            client = redis.Redis.from_url(REDIS)
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)
            client.close()
        cleanup.append(drop)
    else:
        url = f"sqlite:///{tmp / (name + '.sqlite3')}"
        env["HELPDESK_DATABASE_URL"] = url
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    servers = [start(env, tmp) for _ in range(workers)]
    try:
        figures = asyncio.run(load([u for _, u in servers], conversations, name))
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=15)
        for step in cleanup:
            step()
    print(f"{name}: {figures}", file=sys.stderr)
    return {"setup": name, "workers": workers, **figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--conversations", type=int)
    args = parser.parse_args()
    conversations = args.conversations or (20 if args.quick else 100)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        model = tmp / "nlu.json"
        train_from_files(Settings.load(env={}).nlu).save(model)
        results = [
            run_setup("sqlite_1_process", 1, postgres=False, conversations=conversations, model=model, tmp=tmp),
            run_setup("postgres_redis_1_worker", 1, postgres=True, conversations=conversations, model=model, tmp=tmp),
            run_setup("postgres_redis_2_workers", 2, postgres=True, conversations=conversations, model=model, tmp=tmp),
        ]
    print(json.dumps({"journey_turns": 6, "cpu_count": os.cpu_count(), "loadavg": os.getloadavg(),
                      "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
