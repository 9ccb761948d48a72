"""The public multi-turn development set (../shared/eval), measured the way its runner does.

`helpdesk test conversations` prints its figures beside our own conversation scripts. The
set is written independently of this code and never trained on: the runner is its own
(`run_eval.py`, standard library only), run as a separate process against a real server on a
free loopback port, with a scratch database and the demo accounts.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from bot.accounts.demo import seed_demo_accounts
from bot.app import create_app
from bot.config import Settings
from bot.runtime import build_runtime

RUNNER = "run_eval.py"
_TIMEOUT = 600


def available(directory: Path) -> bool:
    return (directory / RUNNER).is_file() and (directory / "conversations.json").is_file()


def run_conversations(directory: Path) -> dict[str, Any]:
    """The runner's summary of the multi-turn scenarios ({"passed", "scenarios", "turns", ...})."""
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        settings = Settings.load(database_url=f"sqlite:///{tmp}/dev-set.sqlite3", host="127.0.0.1", port=port)
        runtime = build_runtime(settings)
        seed_demo_accounts(directory=runtime.services.accounts.directory, clock=runtime.services.clock)
        server = uvicorn.Server(uvicorn.Config(create_app(settings, runtime=runtime), host="127.0.0.1",
                                               port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        logging.getLogger("helpdesk.access").setLevel(logging.WARNING)  # 150 request lines say nothing here
        thread.start()
        try:
            _wait_for(port)
            done = subprocess.run(
                [sys.executable, str(directory / RUNNER), "--data-dir", str(directory),
                 "--base", f"http://127.0.0.1:{port}", "--conversations"],
                capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            runtime.close()
    last = (done.stdout.strip().splitlines() or ["{}"])[-1]
    summary: dict[str, Any] = json.loads(last).get("conversations", {}) if last.startswith("{") else {}
    if not summary:
        raise RuntimeError(f"the dev-set runner printed no summary: {done.stderr[-500:]}")
    return summary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the dev-set server did not start on port {port}")
