"""Linking a Slack user to a NCID, and what a link allows.

A link is made once: by an operator (``helpdesk slack link``) or by a successful identity
check in the user's DM. With ``slack.trust_links`` a linked user's DM counts as verified for
that NCID (Slack already authenticated the user); the account actions still ask
IdentityService, which is what this writes to, and every use is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import audit
from bot.accounts.directory import normalize_ncid
from bot.accounts.identity import IdentityService
from bot.channels.slack.models import SlackUserLink
from bot.errors import BadRequest
from bot.services.clock import Clock
from bot.storage.db import session_scope

_USER_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class SlackLinks:
    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions, self._clock = sessions, clock

    def link(self, *, team_id: str, user_id: str, ncid_text: str, linked_by: str) -> str:
        ncid = normalize_ncid(ncid_text)
        if ncid is None:
            raise BadRequest(f"{ncid_text!r} is not a NCID")
        for name, value in (("team id", team_id), ("user id", user_id)):
            if not value or not set(value) <= _USER_ID_CHARS or len(value) > 32:
                raise BadRequest(f"{value!r} is not a Slack {name} (like T0123ABCD / U0123ABCD)")
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            row = session.get(SlackUserLink, (team_id, user_id))
            if row is None:
                session.add(SlackUserLink(team_id=team_id, user_id=user_id, ncid=ncid,
                                          linked_by=linked_by, linked_at=now))
            else:
                row.ncid, row.linked_by, row.linked_at = ncid, linked_by, now
            audit.record(session, at=now, ncid=ncid, actor=f"slack:{team_id}:{user_id}", action="slack_link",
                         channel="slack", outcome=linked_by)
        return ncid

    def unlink(self, *, team_id: str, user_id: str) -> bool:
        with session_scope(self._sessions) as session:
            row = session.get(SlackUserLink, (team_id, user_id))
            if row is None:
                return False
            audit.record(session, at=self._clock.now(), ncid=row.ncid, actor=f"slack:{team_id}:{user_id}",
                         action="slack_unlink", channel="slack", outcome="removed")
            session.delete(row)
            return True

    def ncid_for(self, *, team_id: str, user_id: str) -> str | None:
        with session_scope(self._sessions) as session:
            row = session.get(SlackUserLink, (team_id, user_id))
            return row.ncid if row is not None else None

    def all(self) -> list[SlackUserLink]:
        with session_scope(self._sessions) as session:
            return list(session.scalars(select(SlackUserLink).order_by(SlackUserLink.team_id,
                                                                        SlackUserLink.user_id)))

    def verify_dm(self, *, sender_id: str, ncid: str, identity: IdentityService, session: str) -> bool:
        """Marks a linked user's DM conversation verified for their NCID, for that Slack user
        only (issue 14), unless it already is."""
        return identity.verify_session(sender_id=sender_id, ncid=ncid, session=session, channel="slack",
                                       outcome="verified_by_slack_link")
