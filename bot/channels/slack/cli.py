"""`helpdesk slack link|unlink|links` (wired by bot/cli.py): operators link Slack users to NCIDs."""

from __future__ import annotations

import argparse
from typing import Any


def add_cli(subparsers: Any) -> None:
    slack = subparsers.add_parser("slack", help="Slack: link Slack users to NCIDs")
    sub = slack.add_subparsers(dest="slack_command", required=True)
    link = sub.add_parser("link", help="link a Slack user (U...) to a NCID")
    link.add_argument("user_id")
    link.add_argument("ncid")
    link.add_argument("--team", help="workspace id (T...); default: the SLACK_BOT_TOKEN workspace")
    link.set_defaults(func=_link)
    unlink = sub.add_parser("unlink", help="remove a Slack user's link")
    unlink.add_argument("user_id")
    unlink.add_argument("--team")
    unlink.set_defaults(func=_unlink)
    links = sub.add_parser("links", help="list the links")
    links.set_defaults(func=_list)


def _services() -> Any:
    from bot.config import Settings
    from bot.composition import create_services
    from bot.storage.migrate import upgrade

    services = create_services(Settings.load())
    upgrade(services.engine)
    return services


def _links(services: Any) -> Any:
    from bot.channels.slack.links import SlackLinks

    return SlackLinks(sessions=services.sessions, clock=services.clock)


def _team(args: argparse.Namespace, services: Any) -> str:
    """The --team given, or the workspace of the single-workspace token (asked with auth.test)."""
    if args.team:
        return str(args.team)
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.channels.slack.settings import SlackSettings
    from bot.errors import ConfigError

    settings = SlackSettings.from_settings(services.settings)
    if settings is None or not settings.bot_token:
        raise ConfigError("give --team T... (no SLACK_BOT_TOKEN to ask Slack which workspace this is)")
    try:
        return str(WebClient(token=settings.bot_token, base_url=settings.api_url).auth_test()["team_id"])
    except SlackApiError as exc:
        raise ConfigError(f"Slack auth.test failed: {exc.response.get('error')}") from exc


def _link(args: argparse.Namespace) -> int:
    services = _services()
    try:
        team = _team(args, services)
        ncid = _links(services).link(team_id=team, user_id=args.user_id, ncid_text=args.ncid, linked_by="operator")
    finally:
        services.close()
    print(f"linked Slack user {args.user_id} in {team} to NCID {ncid}")
    return 0


def _unlink(args: argparse.Namespace) -> int:
    services = _services()
    try:
        team = _team(args, services)
        removed = _links(services).unlink(team_id=team, user_id=args.user_id)
    finally:
        services.close()
    print(f"unlinked Slack user {args.user_id} in {team}" if removed else f"no link for {args.user_id} in {team}")
    return 0 if removed else 1


def _list(args: argparse.Namespace) -> int:
    services = _services()
    try:
        for row in _links(services).all():
            print(f"{row.team_id:<12} {row.user_id:<12} {row.ncid:<20} {row.linked_by:<15} "
                  f"{row.linked_at.isoformat(timespec='seconds')}")
    finally:
        services.close()
    return 0
