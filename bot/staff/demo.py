"""Demo staff for `make serve` (development mode only): one per role, authenticator already
enrolled with a published secret so a person can sign in (see README "Staff console")."""

from __future__ import annotations

from bot.errors import BadRequest, ConfigError
from bot.staff.service import StaffService

# (username, display name, role, password, TOTP secret) — public on purpose: demo only.
DEMO_STAFF = (
    ("agent", "Alex Agent", "agent", "agent-demo-2026", "AGENTDEMOAGENTDEMOAGENTDEMOAGENT"),
    ("supervisor", "Sam Supervisor", "supervisor", "supervisor-demo-2026", "SUPERVISRDEMOSUPERVISRDEMOSUPERV"),
    ("admin", "Ada Admin", "admin", "admin-demo-2026", "ADMINDEMOADMINDEMOADMINDEMOADMIN"),
)


def seed_demo_staff(*, staff: StaffService, development: bool) -> list[str]:
    """Create the demo staff that are missing; returns the usernames created."""
    if not development:
        raise ConfigError("demo staff are for development mode only")
    created = []
    for username, name, role, password, secret in DEMO_STAFF:
        if staff.by_username(username) is None:
            try:
                staff.add_user(username=username, display_name=name, role=role, password=password,
                               totp_secret=secret)
            except BadRequest:  # another worker created it first
                continue
            created.append(username)
    return created
