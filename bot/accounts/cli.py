"""`helpdesk users import FILE.csv` and `helpdesk users list` (wired by bot/cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.accounts.audit import mask_phone


def add_cli(subparsers: Any) -> None:
    users = subparsers.add_parser("users", help="MFA directory: import and list accounts")
    sub = users.add_subparsers(dest="users_command", required=True)
    imp = sub.add_parser("import", help="import accounts from a CSV file (see docs/accounts.md)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
    imp.set_defaults(handler=_import, func=_import)
    lst = sub.add_parser("list", help="list accounts (phone numbers masked)")
    lst.set_defaults(handler=_list, func=_list)


def _services() -> Any:
    from bot.config import Settings
    from bot.services.container import create_services
    from bot.storage.migrate import upgrade

    services = create_services(Settings.load())
    upgrade(services.engine)
    return services


def _import(args: argparse.Namespace) -> int:
    from bot.accounts.importer import import_users

    services = _services()
    try:
        report = import_users(sessions=services.sessions, path=args.file,
                              directory=services.accounts.directory, clock=services.clock,
                              dry_run=args.dry_run)
    finally:
        services.close()
    for line, message in report.errors:
        print(f"{args.file}:{line}: {message}", file=sys.stderr)
    verb = "checked" if args.dry_run else "imported"
    print(f"{verb}: {report.created} created, {report.updated} updated, {len(report.errors)} errors")
    return 0 if report.ok else 1


def _list(args: argparse.Namespace) -> int:
    services = _services()
    try:
        for a in services.accounts.directory.list():
            phones = " / ".join(mask_phone(p) for p in (a.primary_phone, a.secondary_phone) if p)
            print(f"{a.ncid:<20} {a.state:<15} {a.method or '-':<6} {a.first_name} {a.last_name}  {phones}")
    finally:
        services.close()
    return 0
