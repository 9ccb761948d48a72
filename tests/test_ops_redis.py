"""Shared state through a real Redis: conversation locks, live pushes, limits, outages."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.config import Settings
from bot.errors import ConfigError
from bot.services.redis_client import RedisSettings, sync_client
from bot.services.redis_limits import RedisLimits
from bot.services.redis_live import RedisLiveHub
from bot.services.redis_locks import RedisLocks
from tests.conftest import make_settings
from tests.fakes.scale import REDIS_URL, closed_port, redis_prefix  # noqa: F401  (fixture)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def config(prefix: str, url: str = REDIS_URL, **kw: Any) -> RedisSettings:
    return RedisSettings(url=url, prefix=prefix, **kw)


async def test_a_conversation_lock_lets_one_worker_in_at_a_time(redis_prefix: str) -> None:
    cfg = config(redis_prefix)
    worker_a, worker_b = sync_client(cfg), sync_client(cfg)
    locks_a, locks_b = RedisLocks(worker_a, cfg), RedisLocks(worker_b, cfg)
    inside: list[str] = []
    overlaps = 0

    async def turn(locks: RedisLocks, name: str) -> None:
        nonlocal overlaps
        async with locks.hold("s1"):
            inside.append(name)
            if len(inside) > 1:
                overlaps += 1
            await asyncio.sleep(0.01)
            inside.remove(name)

    await asyncio.gather(*(turn(locks_a if i % 2 else locks_b, f"t{i}") for i in range(20)))
    worker_a.close()
    worker_b.close()
    assert overlaps == 0


async def test_different_conversations_do_not_wait_for_each_other(redis_prefix: str) -> None:
    cfg = config(redis_prefix)
    client = sync_client(cfg)
    locks = RedisLocks(client, cfg)
    async with locks.hold("s1"):
        async with asyncio.timeout(1):
            async with locks.hold("s2"):
                pass
    client.close()


async def test_a_dead_workers_lock_expires_and_the_next_turn_proceeds(redis_prefix: str) -> None:
    # A worker killed mid-turn leaves its key behind with its own token and a ttl.
    client = redis.Redis.from_url(REDIS_URL)
    client.set(f"{redis_prefix}lock:s1", "dead-worker-token", px=300)
    client.close()
    cfg = config(redis_prefix, lock_ttl_seconds=0.3)
    worker = sync_client(cfg)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with RedisLocks(worker, cfg).hold("s1"):
        waited = loop.time() - started
    worker.close()
    assert 0.1 < waited < 2.0


async def test_a_held_lock_is_renewed_past_its_ttl_and_released_by_its_holder_only(redis_prefix: str) -> None:
    cfg = config(redis_prefix, lock_ttl_seconds=0.3)
    client = sync_client(cfg)
    key = f"{redis_prefix}lock:s1"
    async with RedisLocks(client, cfg).hold("s1"):
        await asyncio.sleep(0.6)  # twice the ttl: only renewal keeps it
        assert client.get(key) is not None
    assert client.get(key) is None
    client.close()


async def test_a_lock_that_never_frees_ends_in_a_clear_busy_error(redis_prefix: str) -> None:
    from bot.errors import ServiceUnavailable

    cfg = config(redis_prefix, lock_wait_seconds=0.2)
    client = sync_client(cfg)
    client.set(f"{redis_prefix}lock:s1", "someone-else", px=5000)
    with pytest.raises(ServiceUnavailable, match="busy"):
        async with RedisLocks(client, cfg).hold("s1"):
            pass
    client.close()


async def test_a_message_published_on_one_worker_reaches_a_listener_on_another(redis_prefix: str) -> None:
    cfg = config(redis_prefix)
    worker_a, worker_b = sync_client(cfg), sync_client(cfg)
    hub_a, hub_b = RedisLiveHub(worker_a, cfg), RedisLiveHub(worker_b, cfg)
    await hub_a.start()
    await hub_b.start()
    queue = hub_b.subscribe("s1")
    other = hub_b.subscribe("s2")
    await hub_a.publish("s1", [{"text": "Your test call was answered."}])
    message = await asyncio.wait_for(queue.get(), 5)
    assert message == {"text": "Your test call was answered."}
    assert other.empty()
    again = await asyncio.wait_for(queue.get(), 1) if not queue.empty() else None
    for hub in (hub_a, hub_b):
        await hub.stop()
    worker_a.close()
    worker_b.close()
    assert again is None  # delivered once


def test_the_rate_limit_gate_is_atomic_across_workers(redis_prefix: str) -> None:
    admitted: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        client = sync_client(config(redis_prefix))
        limits = RedisLimits(client, prefix=redis_prefix)
        barrier.wait()
        for _ in range(5):
            admitted.append(limits.admit("test_call:X", limit=3, window_seconds=3600, now=NOW) is None)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert admitted.count(True) == 3 and len(admitted) == 40


def test_a_refused_attempt_says_when_the_window_reopens(redis_prefix: str) -> None:
    client = sync_client(config(redis_prefix))
    limits = RedisLimits(client, prefix=redis_prefix)
    for _ in range(2):
        assert limits.admit("activation:X", limit=2, window_seconds=3600, now=NOW) is None
    retry = limits.admit("activation:X", limit=2, window_seconds=3600, now=NOW)
    client.close()
    assert retry == 3600  # NOW is on the hour


def test_failure_counts_add_up_across_workers_and_clear_on_success(redis_prefix: str) -> None:
    clients = [sync_client(config(redis_prefix)) for _ in range(2)]
    a, b = (RedisLimits(c, prefix=redis_prefix) for c in clients)
    assert [a.count_failure("identity:N", window_seconds=900), b.count_failure("identity:N", window_seconds=900),
            a.count_failure("identity:N", window_seconds=900)] == [1, 2, 3]
    b.clear("identity:N")
    assert a.count_failure("identity:N", window_seconds=900) == 1
    for c in clients:
        c.close()


def test_identity_failures_on_two_workers_lock_the_ncid_together(
        redis_prefix: str, tmp_path: Path, nlu_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.accounts.demo import seed_demo_accounts
    from bot.accounts.identity import Failed, Locked
    from bot.composition import shared_state
    from bot.runtime import build_runtime
    from tests.fakes.clock import FixedClock

    monkeypatch.setenv("HELPDESK_REDIS_PREFIX", redis_prefix)
    settings = make_settings(tmp_path, nlu_model_path, redis_url=REDIS_URL)
    clock = FixedClock("2026-12-02T15:00:00+00:00")
    first, second = build_runtime(settings, clock=clock), build_runtime(settings, clock=clock)
    assert shared_state(first.services).redis is not None
    ncid = seed_demo_accounts(directory=first.services.accounts.directory, clock=clock)[0]
    results = []
    for i in range(5):
        identity = (first if i % 2 else second).services.accounts.identity
        identity.begin(sender_id=f"s{i}", ncid_text=ncid)
        identity.answer(sender_id=f"s{i}", index=0, text="wrong")
        identity.answer(sender_id=f"s{i}", index=1, text="wrong")
        results.append(identity.complete(sender_id=f"s{i}", session="local:rest"))
    first.close()
    second.close()
    client = redis.Redis.from_url(REDIS_URL)
    shared_count = client.get(f"{redis_prefix}limit:identity:{ncid}")
    client.close()
    assert [type(r) for r in results] == [Failed] * 4 + [Locked]
    assert shared_count == b"5"  # every failure went through the shared counter


def test_redis_url_must_be_a_redis_url(tmp_path: Path, nlu_model_path: Path) -> None:
    settings = make_settings(tmp_path, nlu_model_path, redis_url="http://127.0.0.1:6379")
    with pytest.raises(ConfigError, match="HELPDESK_REDIS_URL"):
        RedisSettings.from_settings(settings, env={})


def test_without_redis_the_single_process_versions_are_used(tmp_path: Path, nlu_model_path: Path) -> None:
    from bot.services.live import LiveHub
    from bot.composition import shared_state
    from bot.runtime import build_runtime
    from bot.services.redis_limits import LocalLimits
    from bot.services.redis_locks import LocalLocks

    runtime = build_runtime(make_settings(tmp_path, nlu_model_path,
                                          database_url=f"sqlite:///{tmp_path / 'one.sqlite3'}"))
    shared = shared_state(runtime.services)
    runtime.close()
    assert type(shared.live) is LiveHub and isinstance(shared.locks, LocalLocks)
    assert isinstance(shared.limits, LocalLimits) and shared.redis is None


# ------------------------------------------------------------------ Redis down
async def test_with_redis_down_a_turn_still_runs_under_the_local_lock(redis_prefix: str) -> None:
    errors: list[str] = []
    cfg = config(redis_prefix, url=f"redis://127.0.0.1:{closed_port()}/0")
    client = sync_client(cfg)
    locks = RedisLocks(client, cfg, on_error=errors.append)
    async with locks.hold("s1"):
        pass
    async with locks.hold("s1"):  # the breaker is open: no second connection attempt
        pass
    client.close()
    assert errors == ["lock", "lock"]


async def test_with_redis_down_a_live_message_reaches_this_workers_listeners() -> None:
    errors: list[str] = []
    cfg = config("helpdesk-test:down:", url=f"redis://127.0.0.1:{closed_port()}/0")
    client = sync_client(cfg)
    hub = RedisLiveHub(client, cfg, on_error=errors.append)
    await hub.start()  # gives up waiting quickly; the reader keeps retrying
    queue = hub.subscribe("s1")
    await hub.publish("s1", [{"text": "hello"}])
    assert queue.get_nowait() == {"text": "hello"}
    assert "publish" in errors
    await hub.stop()
    client.close()


def test_with_redis_down_the_database_check_decides_the_rate_limit() -> None:
    errors: list[str] = []
    client = sync_client(config("x:", url=f"redis://127.0.0.1:{closed_port()}/0"))
    limits = RedisLimits(client, prefix="x:", on_error=errors.append)
    assert limits.admit("test_call:X", limit=1, window_seconds=3600, now=NOW) is None
    assert limits.count_failure("identity:X", window_seconds=900) == 0
    client.close()
    assert errors == ["limit", "limit"]
