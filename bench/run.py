"""Benchmark: NLU training time, parse latency and model size, cold start, turn latency/throughput over HTTP, memory.

Run as `.venv/bin/python bench/run.py [--quick]`. Prints one JSON document to stdout and
exits 0: the figures are reported against their bars, never asserted. Progress goes to
stderr. Only loopback traffic; every server it starts is stopped, every temp file removed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from figures import log, summarise_ms
from understanding import measure_parse, measure_passages, measure_training

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HELPDESK = Path(sys.executable).with_name("helpdesk")
WEBHOOK = "/webhooks/rest/webhook"

# One realistic journey: an error code, a walkthrough, a side question, resume, a call failure.
SCRIPT: tuple[str, ...] = (
    "hi",
    "I got error e-05",
    "/deny",
    "set up the phone call method",
    "done",
    "what is mfa",
    "/resume",
    "it hung up on me",
    "thanks",
    "bye",
)

# Latency bars apply to 20 conversations held by people who read the answer before typing the
# next message (THINK_SECONDS between turns). With no pause at all every worker re-queues at once,
# and latency is concurrency x service time by Little's law, whatever the code does; those
# "saturated" figures are reported beside, with the throughput they buy.
THINK_SECONDS = 0.5

BARS: dict[str, tuple[str, float]] = {
    # issue 17's budgets for the scikit-learn NLU
    "nlu_training_seconds": ("<=", 3.0),
    "nlu_training_seconds_median": ("<=", 3.0),
    "nlu_parse_p50_ms": ("<=", 2.0),
    "cold_start_seconds": ("<=", 2.0),
    "turn_latency_p50_ms": ("<=", 10.0),
    # issue 13: conversation in context must not make turns slower
    "turn_latency_p99_ms": ("<=", 20.0),
    "turn_latency_sequential_p50_ms": ("<=", 4.0),
    "rss_mb_after_1000_conversations": ("<=", 200.0),
}


@dataclass(frozen=True)
class Sizes:
    training_runs: int
    cold_starts: int
    concurrency: int
    script_rounds: int  # each worker runs the script this many times, a fresh sender each time
    paced_rounds: int  # the same with THINK_SECONDS (exponential, seeded) between turns
    memory_conversations: int
    memory_turns: int
    sequential_rounds: int  # the concurrency-1 diagnostic
    parse_rounds: int  # in-process Interpreter.parse over PARSE_TEXTS


FULL = Sizes(training_runs=3, cold_starts=3, concurrency=20, script_rounds=10, paced_rounds=5,
             memory_conversations=1000, memory_turns=3, sequential_rounds=20, parse_rounds=100)
QUICK = Sizes(training_runs=1, cold_starts=1, concurrency=20, script_rounds=1, paced_rounds=1,
              memory_conversations=100, memory_turns=3, sequential_rounds=2, parse_rounds=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)  # kB -> MB
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the server under test ---------------------------------------------------------------

class Server:
    """One `helpdesk serve` subprocess on a free loopback port with its own fresh database."""

    def __init__(self, *, workdir: Path, model_path: Path, name: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.db_path = workdir / f"{name}.sqlite3"
        self.log_path = workdir / f"{name}.log"
        self.env = {
            **os.environ,
            "HELPDESK_DATABASE_URL": f"sqlite:///{self.db_path}",  # absolute: sqlite:////tmp/...
            "HELPDESK_NLU_MODEL": str(model_path),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.launched_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with self.log_path.open("wb") as out:
            self.launched_at = time.perf_counter()
            self.proc = subprocess.Popen(
                [str(HELPDESK), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=PROJECT_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_first_answer(self, *, timeout: float = 60.0) -> float:
        """Seconds from launch to the first 200 JSON-list answer of the webhook (10 ms polls)."""
        assert self.proc is not None
        body = {"sender": "cold-start", "message": "hi"}
        deadline = self.launched_at + timeout
        with httpx.Client(trust_env=False, timeout=5.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.tail()}")
                try:
                    response = client.post(self.base_url + WEBHOOK, json=body)
                    if response.status_code == 200 and isinstance(response.json(), list):
                        return time.perf_counter() - self.launched_at
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"server not answering after {timeout}s; see {self.tail()}")

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# --- 2. cold start -----------------------------------------------------------------------

def measure_cold_start(*, launches: int, workdir: Path, model_path: Path,
                       servers: list[Server]) -> dict[str, Any]:
    times: list[float] = []
    for i in range(launches):
        server = Server(workdir=workdir, model_path=model_path, name=f"cold{i}")
        servers.append(server)
        server.start()
        try:
            times.append(server.wait_first_answer())
        finally:
            server.stop()
        log(f"cold start {i + 1}/{launches}: {times[-1]:.3f}s")
    return {
        "cold_start_seconds": round(statistics.median(times), 3),
        "cold_start_runs_seconds": [round(t, 3) for t in times],
    }


# --- 3 + 4. turn latency and throughput ----------------------------------------------------

@dataclass
class Tally:
    latencies: list[float]
    errors: int = 0


async def _post_turn(client: httpx.AsyncClient, sender: str, text: str, tally: Tally,
                     *, record: bool) -> None:
    started = time.perf_counter()
    try:
        response = await client.post(WEBHOOK, json={"sender": sender, "message": text})
        ok = response.status_code == 200 and isinstance(response.json(), list)
    except httpx.HTTPError:
        ok = False
    elapsed = time.perf_counter() - started
    if not ok:
        tally.errors += 1
    elif record:
        tally.latencies.append(elapsed)


async def _conversations(client: httpx.AsyncClient, *, tag: str, concurrency: int, rounds: int,
                         script: tuple[str, ...], tally: Tally, record: bool,
                         think: float = 0.0) -> float:
    """`concurrency` workers, each running `rounds` conversations in turn; returns wall seconds.

    With `think` > 0 each worker pauses an exponentially distributed time of that mean
    (seeded per worker) before each turn, the way a person reads before answering."""

    async def worker(w: int) -> None:
        rng = random.Random(w)
        for r in range(rounds):
            sender = f"bench-{tag}-{w}-{r}"
            for text in script:
                if think:
                    await asyncio.sleep(rng.expovariate(1 / think))
                await _post_turn(client, sender, text, tally, record=record)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - started


async def _health(client: httpx.AsyncClient, *, concurrency: int, per_worker: int,
                  tally: Tally) -> float:
    async def worker() -> None:
        for _ in range(per_worker):
            started = time.perf_counter()
            try:
                ok = (await client.get("/health")).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                tally.latencies.append(time.perf_counter() - started)
            else:
                tally.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def _client(server: Server, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=30.0, limits=limits)


async def _load(server: Server, sizes: Sizes) -> dict[str, Any]:
    c = sizes.concurrency
    async with _client(server, c) as client:
        log("load: warm-up (not measured)")
        warm = Tally([])
        await _conversations(client, tag="warm", concurrency=c, rounds=1, script=SCRIPT,
                             tally=warm, record=False)
        await _health(client, concurrency=c, per_worker=20, tally=Tally([]))

        turns = Tally([])
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        turn_wall = await _conversations(client, tag="load", concurrency=c,
                                         rounds=sizes.script_rounds, script=SCRIPT, tally=turns,
                                         record=True)
        turn_server_cpu = cpu_seconds(server.pid) - server_cpu
        turn_client_cpu = time.process_time() - client_cpu
        n_turns = len(turns.latencies) + turns.errors
        log(f"load: {n_turns} turns in {turn_wall:.2f}s")

        paced = Tally([])
        paced_wall = await _conversations(client, tag="paced", concurrency=c,
                                          rounds=sizes.paced_rounds, script=SCRIPT, tally=paced,
                                          record=True, think=THINK_SECONDS)
        log(f"load: {len(paced.latencies)} paced turns in {paced_wall:.2f}s")

        health = Tally([])
        per_worker = max(1, n_turns // c)
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        health_wall = await _health(client, concurrency=c, per_worker=per_worker, tally=health)
        health_server_cpu = cpu_seconds(server.pid) - server_cpu
        health_client_cpu = time.process_time() - client_cpu
        log(f"load: {per_worker * c} health requests in {health_wall:.2f}s")

        # Diagnostic, not a bar: one conversation at a time, so no request waits behind another.
        sequential = Tally([])
        await _conversations(client, tag="seq", concurrency=1, rounds=sizes.sequential_rounds,
                             script=SCRIPT, tally=sequential, record=True)

    turn_ms = summarise_ms(turns.latencies)
    paced_ms = summarise_ms(paced.latencies)
    health_ms = summarise_ms(health.latencies)
    n_health = per_worker * c
    turns_per_s = n_turns / turn_wall
    health_rps = n_health / health_wall
    return {
        # 20 conversations, people pausing THINK_SECONDS on average between messages.
        "turn_latency_p50_ms": paced_ms["p50"],
        "turn_latency_p95_ms": paced_ms["p95"],
        "turn_latency_p99_ms": paced_ms["p99"],
        "turn_latency_mean_ms": paced_ms["mean"],
        "turn_latency_max_ms": paced_ms["max"],
        "think_seconds_mean": THINK_SECONDS,
        "paced_turns_measured": len(paced.latencies) + paced.errors,
        "paced_turns_per_second": round((len(paced.latencies) + paced.errors) / paced_wall, 1),
        # 20 conversations with no pause at all: the server's capacity, and queueing latency.
        "saturated_turn_latency_ms": turn_ms,
        "turns_measured": n_turns,
        "turn_errors": turns.errors + warm.errors + paced.errors,
        "concurrency": c,
        "turns_per_second": round(turns_per_s, 1),
        "health_requests_per_second": round(health_rps, 1),
        "health_latency_ms": health_ms,
        "health_errors": health.errors,
        "turns_to_health_throughput_ratio": round(turns_per_s / health_rps, 4),
        # Where the wall time went: CPU of the server process and of this (client) process.
        "server_cpu_ms_per_turn": round(turn_server_cpu * 1000 / n_turns, 3),
        "client_cpu_ms_per_turn": round(turn_client_cpu * 1000 / n_turns, 3),
        "server_cpu_ms_per_health_request": round(health_server_cpu * 1000 / n_health, 3),
        "client_cpu_ms_per_health_request": round(health_client_cpu * 1000 / n_health, 3),
        "turn_latency_sequential_ms": summarise_ms(sequential.latencies),
        "turn_latency_sequential_p50_ms": summarise_ms(sequential.latencies)["p50"],
        "turn_errors_sequential": sequential.errors,
    }


# --- 5. memory ---------------------------------------------------------------------------

async def _memory(server: Server, sizes: Sizes) -> dict[str, Any]:
    c = sizes.concurrency
    rounds = math.ceil(sizes.memory_conversations / c)
    before = rss_mb(server.pid)
    tally = Tally([])
    async with _client(server, c) as client:
        wall = await _conversations(client, tag="mem", concurrency=c, rounds=rounds,
                                    script=SCRIPT[: sizes.memory_turns], tally=tally, record=True)
    after = rss_mb(server.pid)
    log(f"memory: {rounds * c} conversations in {wall:.1f}s, VmRSS {after.get('VmRSS')} MB")
    return {
        "rss_mb_after_1000_conversations": after.get("VmRSS"),
        "rss_mb_peak_VmHWM": after.get("VmHWM"),
        "rss_mb_before_conversations": before.get("VmRSS"),
        "memory_conversations": rounds * c,
        "memory_turns_each": sizes.memory_turns,
        "memory_errors": tally.errors,
    }


def measure_server(*, sizes: Sizes, workdir: Path, model_path: Path,
                   servers: list[Server]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    load_server = Server(workdir=workdir, model_path=model_path, name="load")
    servers.append(load_server)
    load_server.start()
    load_server.wait_first_answer()
    out.update(asyncio.run(_load(load_server, sizes)))
    load_server.stop()

    # A fresh server, so the memory figure counts exactly these conversations.
    mem_server = Server(workdir=workdir, model_path=model_path, name="memory")
    servers.append(mem_server)
    mem_server.start()
    mem_server.wait_first_answer()
    out.update(asyncio.run(_memory(mem_server, sizes)))
    mem_server.stop()
    return out


# --- report ------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "httpx": httpx.__version__,
        "loadavg_at_start": loadavg(),
    }


def loadavg() -> list[float]:
    """Other work on the machine skews every figure; the report says how busy it was."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def bars_met(figures: dict[str, Any]) -> dict[str, bool | None]:
    met: dict[str, bool | None] = {}
    for name, (_, limit) in BARS.items():
        value = figures.get(name)
        met[name] = None if value is None else bool(value <= limit)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a smoke run (< 30 s)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL

    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "sizes": sizes.__dict__,
        "script": list(SCRIPT),
    }
    figures: dict[str, Any] = {}
    servers: list[Server] = []
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    started = time.perf_counter()
    try:
        model_path = workdir / "nlu.json"
        figures.update(measure_training(runs=sizes.training_runs, model_out=model_path))
        figures.update(measure_parse(model_path=model_path, rounds=sizes.parse_rounds))
        figures.update(measure_passages(rounds=sizes.parse_rounds))
        figures.update(measure_cold_start(launches=sizes.cold_starts, workdir=workdir,
                                          model_path=model_path, servers=servers))
        figures.update(measure_server(sizes=sizes, workdir=workdir, model_path=model_path,
                                      servers=servers))
    except Exception as exc:  # report what we have; the error is part of the result
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    report["machine"]["loadavg_at_end"] = loadavg()
    report["figures"] = figures
    report["bars"] = {name: f"{op} {limit}" for name, (op, limit) in BARS.items()}
    report["bars_met"] = bars_met(figures)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
