"""The audit log: one row per account action and identity check. Never secrets, codes,
answers or full phone numbers; ``mask_phone`` keeps the last two digits only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import AuditEntry

# Detail keys that must never reach the log, whatever a caller passes.
_FORBIDDEN = frozenset({"answer", "answers", "code", "secret", "phone", "number", "token", "otp"})


def mask_phone(number: str | None) -> str:
    if not number:
        return ""
    return "•" * max(len(number) - 2, 0) + number[-2:]


def record(
    session: Session,
    *,
    at: datetime,
    ncid: str | None,
    actor: str,
    action: str,
    outcome: str,
    channel: str = "rest",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    clean = {k: v for k, v in (detail or {}).items() if k not in _FORBIDDEN}
    entry = AuditEntry(
        at=at, ncid=ncid, actor=actor[:255], action=action, channel=channel or "rest",
        outcome=outcome, detail=clean,
    )
    session.add(entry)
    return entry


def entries(session: Session, *, ncid: str | None = None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if ncid is not None:
        query = query.where(AuditEntry.ncid == ncid)
    return list(session.scalars(query))
