"""The Slack channel's own wording, kept in messages.yml beside this module."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

_FILE = Path(__file__).with_name("messages.yml")


@cache
def _messages() -> dict[str, str]:
    data = yaml.safe_load(_FILE.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{_FILE} must map names to strings")
    return data


def say(name: str, **values: Any) -> str:
    try:
        template = _messages()[name]
    except KeyError as exc:
        raise ConfigError(f"no Slack message named {name!r} in {_FILE}") from exc
    return template.format(**values) if values else template
