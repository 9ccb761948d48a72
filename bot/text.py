"""Text as people send it, made safe to store: no NUL or other control characters, valid UTF-8.

JSON may carry "\\u0000" or a lone surrogate ("\\ud800"); PostgreSQL refuses NUL in text columns
and psycopg cannot encode a lone surrogate, so either would turn a message into a server error.
Every free-text input (chat messages, Slack, staff forms) passes through `clean_text` first.
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return, plus DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Drop control characters and replace lone surrogates with U+FFFD; everything else is kept."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))
