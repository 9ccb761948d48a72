"""Every conversation script in tests/conversations/, through the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.conversation_scripts import Script, load_scripts, run_script

SCRIPTS = load_scripts(Path(__file__).parent / "conversations")


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{s.source}:{s.name}" for s in SCRIPTS])
async def test_conversation_script(script: Script, runtime: Any, request: pytest.FixtureRequest) -> None:
    for name in script.fixtures:
        request.getfixturevalue(name)
    result = await run_script(runtime.assistant, script)
    assert result.passed, "\n".join(result.failures + ["--- transcript ---"] + result.transcript)
