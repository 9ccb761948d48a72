"""The one rule for a conversation's sender id, shared by every channel and the staff console."""

from __future__ import annotations

import re
from typing import Any

from bot.errors import BadRequest

# fullmatch: "$" with re.match would let a trailing newline through (issue 14).
_SENDER = re.compile(r"[\w.@:+\-]{1,255}")


def validate_sender(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("'sender' is required and must be a non-empty string", status=422)
    if not _SENDER.fullmatch(value):
        raise BadRequest("'sender' may hold letters, digits and . _ - @ : + (at most 255)", status=422)
    return value
