"""`helpdesk users import FILE.csv` and `helpdesk users list` (wired by bot/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.accounts.audit import mask_phone

if TYPE_CHECKING:
    from bot.accounts.service import AccountService


def add_cli(subparsers: Any) -> None:
    users = subparsers.add_parser("users", help="MFA directory: import and list accounts")
    sub = users.add_subparsers(dest="users_command", required=True)
    imp = sub.add_parser("import", help="import accounts from a CSV file (see docs/accounts.md)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
    imp.set_defaults(handler=_import, func=_import)
    lst = sub.add_parser("list", help="list accounts (phone numbers masked)")
    lst.set_defaults(handler=_list, func=_list)


@contextmanager
def _accounts() -> Iterator[AccountService]:
    """The account service over the configured database, migrated first; closed afterwards."""
    from bot.accounts.service import build_account_service
    from bot.config import Settings
    from bot.services.clock import SystemClock
    from bot.storage.db import make_engine, make_sessionmaker
    from bot.storage.migrate import upgrade

    settings = Settings.load()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        yield build_account_service(settings, sessions=make_sessionmaker(engine), clock=SystemClock())
    finally:
        engine.dispose()


def _import(args: argparse.Namespace) -> int:
    from bot.accounts.importer import import_users

    with _accounts() as accounts:
        report = import_users(sessions=accounts.sessions, path=args.file,
                              directory=accounts.directory, clock=accounts.clock,
                              dry_run=args.dry_run)
    for line, message in report.errors:
        print(f"{args.file}:{line}: {message}", file=sys.stderr)
    verb = "checked" if args.dry_run else "imported"
    print(f"{verb}: {report.created} created, {report.updated} updated, {len(report.errors)} errors")
    return 0 if report.ok else 1


def _list(args: argparse.Namespace) -> int:
    with _accounts() as accounts:
        for a in accounts.directory.list():
            phones = " / ".join(mask_phone(p) for p in (a.primary_phone, a.secondary_phone) if p)
            print(f"{a.ncid:<20} {a.state:<15} {a.method or '-':<6} {a.first_name} {a.last_name}  {phones}")
    return 0
