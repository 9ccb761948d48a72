"""Structured JSON logs carrying the request id, with personal data scrubbed.

Every record becomes one JSON line: time, level, logger, message, request_id (from the
request being served, if any) and whatever was passed as ``extra``. Messages go through
the PHI scanner (SSNs, dates of birth, Medicaid ids...) and through masks for e-mail
addresses, phone numbers and credential-looking values, because a log line is read by
more people than a ticket is.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from typing import Any

from bot.privacy import phi

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-])")
_SECRET = re.compile(r"(?i)\b(password|passwd|token|secret|api[_-]?key|authorization|auth_token)"
                     r"(\s*[=:]\s*|\s+)(bearer\s+)?[^\s,;&\"']+")
_URL_CREDENTIALS = re.compile(r"(\w+://)[^/\s:@]+:[^/\s@]+@")
_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def scrub(text: str) -> str:
    """The text with personal data and credentials replaced by labels."""
    text = _URL_CREDENTIALS.sub(r"\1[redacted]@", text)
    text = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _EMAIL.sub("[email]", text)
    text = phi.scan(text).text
    return _PHONE.sub("[phone]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            # Exception text can quote user input: scrubbed like the message.
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Replace the root handlers; uvicorn's own loggers are routed through the same ones."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
