"""`helpdesk staff add | list | totp` (wired by bot/cli.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.errors import HelpdeskError


def add_cli(subparsers: Any) -> None:
    staff = subparsers.add_parser("staff", help="staff console accounts: add, list, current TOTP code (dev)")
    sub = staff.add_subparsers(dest="staff_command", required=True)
    add = sub.add_parser("add", help="add a staff member (the first admin, for instance)")
    add.add_argument("username")
    add.add_argument("--role", choices=["agent", "supervisor", "admin"], required=True)
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of prompting")
    add.set_defaults(func=_add)
    lst = sub.add_parser("list", help="list staff members")
    lst.set_defaults(func=_list)
    totp = sub.add_parser("totp", help="print the current authenticator code of a user (development mode only)")
    totp.add_argument("username")
    totp.set_defaults(func=_totp)


def _service() -> tuple[Any, Any]:
    from bot.config import Settings
    from bot.composition import create_services
    from bot.staff.views import staff_service
    from bot.storage.migrate import upgrade

    services = create_services(Settings.load())
    upgrade(services.engine)
    return services, staff_service(services)


def _add(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("helpdesk: the passwords differ", file=sys.stderr)
            return 2
    services, staff = _service()
    try:
        member = staff.add_user(username=args.username, display_name=args.name or args.username,
                                role=args.role, password=password)
    except HelpdeskError as exc:
        print(f"helpdesk: {exc}", file=sys.stderr)
        return 2
    finally:
        services.close()
    print(f"added {member.username} ({member.role}); the authenticator is set up at the first sign-in")
    return 0


def _list(args: argparse.Namespace) -> int:
    services, staff = _service()
    try:
        for member, enrolled, locked in staff.list_users():
            print(f"{member.username:<20} {member.role:<11} {'enrolled' if enrolled else 'not enrolled':<13}"
                  f" {'locked' if locked else ''} {member.display_name}")
    finally:
        services.close()
    return 0


def _totp(args: argparse.Namespace) -> int:
    services, staff = _service()
    try:
        if not services.settings.development:
            print("helpdesk: staff totp is for development mode only", file=sys.stderr)
            return 2
        code = staff.current_totp(args.username)
    finally:
        services.close()
    if code is None:
        print(f"helpdesk: {args.username} has no authenticator yet", file=sys.stderr)
        return 1
    print(code)
    return 0
