"""`helpdesk users import FILE.csv`: load accounts from the system of record's export.

Columns: ncid, first_name, last_name, email, ncid_created_at (ISO 8601; default now),
state (not_registered | registered | disabled), method (phone | app | empty),
primary_phone, secondary_phone, question1, answer1, ... question4, answer4.
Each row is checked on its own; bad rows are reported by line and skipped. Answers are
hashed on the way in and never printed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.directory import Directory, NewAccount, SqlDirectory, normalize_ncid
from bot.accounts.phones import to_e164
from bot.errors import BadRequest
from bot.services.clock import Clock, SystemClock

REQUIRED = ("ncid", "first_name", "last_name")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_users(
    *, sessions: sessionmaker[Session], path: Path | str, directory: Directory | None = None,
    clock: Clock | None = None, dry_run: bool = False,
) -> ImportReport:
    clock = clock or SystemClock()
    if directory is None:
        from bot.accounts.crypto import secret_box
        from bot.config import Settings

        directory = SqlDirectory(sessions=sessions, box=secret_box(Settings.load()))
    report = ImportReport()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            report.errors.append((1, f"missing columns: {', '.join(missing)}"))
            return report
        for line, row in enumerate(reader, start=2):
            try:
                account = _account(row, clock)
            except BadRequest as exc:
                report.errors.append((line, str(exc)))
                continue
            if dry_run:
                continue
            try:
                created = directory.upsert(account, at=clock.now())
            except BadRequest as exc:
                report.errors.append((line, str(exc)))
                continue
            report.created += created
            report.updated += not created
    return report


def _account(row: dict[str, str | None], clock: Clock) -> NewAccount:
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    ncid = normalize_ncid(get("ncid"))
    if ncid is None:
        raise BadRequest("ncid is missing or not a valid NCID")
    if not get("first_name") or not get("last_name"):
        raise BadRequest("first_name and last_name are required")
    created = clock.now()
    if get("ncid_created_at"):
        try:
            created = datetime.fromisoformat(get("ncid_created_at"))
        except ValueError as exc:
            raise BadRequest("ncid_created_at must be an ISO 8601 date/time") from exc
        created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
    phones = []
    for column in ("primary_phone", "secondary_phone"):
        try:
            phones.append(to_e164(get(column)) if get(column) else None)
        except BadRequest as exc:
            raise BadRequest(f"{column}: {exc}") from exc
    security = tuple((get(f"question{i}"), get(f"answer{i}")) for i in range(1, 5))
    if not any(q or a for q, a in security):
        security = ()
    elif not all(q and a for q, a in security):
        raise BadRequest("give all four questions and answers, or none")
    return NewAccount(
        ncid=ncid, first_name=get("first_name"), last_name=get("last_name"), email=get("email") or None,
        ncid_created_at=created, state=get("state") or "not_registered", method=get("method") or None,
        primary_phone=phones[0], secondary_phone=phones[1], security=security,
    )
