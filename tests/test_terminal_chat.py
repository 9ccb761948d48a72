"""`helpdesk chat`: the same conversation in a terminal, buttons picked by number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_terminal_chat_answers_and_numbered_buttons_work(tmp_path: Path, nlu_model_path: Path) -> None:
    env = {**os.environ, "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}",
           "HELPDESK_NLU_MODEL": str(nlu_model_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"], input="I got error e-05\nhello\n2\nquit\n",
        capture_output=True, text=True, env=env, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "60 minutes" in out
    assert "State MFA Portal (https://tmfamobile.nc.gov/userportal/)" in out  # links as text
    assert "[2] Register for MFA" in out
    assert "Which method would you like to set up?" in out  # button 2 of the greeting
