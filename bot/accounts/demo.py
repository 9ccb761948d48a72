"""Demo accounts for `make serve`, one per situation the assistant handles.

Idempotent: accounts that exist are left alone (no re-hashing on every start), except
that the brand-new NCID is kept 15 minutes old so the "wait N more minutes" case always
shows. Every demo account has the same four security answers (see docs/accounts.md).
"""

from __future__ import annotations

from datetime import timedelta

from bot.accounts.directory import Directory, NewAccount
from bot.services.clock import Clock

DEMO_SECURITY = (
    ("What is the name of the street you grew up on?", "Maple"),
    ("What was the name of your first pet?", "Rex"),
    ("In what city were you born?", "Raleigh"),
    ("What was the make of your first car?", "Ford"),
)


def demo_accounts(clock: Clock) -> list[NewAccount]:
    now = clock.now()
    old = now - timedelta(days=400)
    return [
        NewAccount(ncid="newuser01", first_name="Nia", last_name="Newcomer", email="nia@example.org",
                   ncid_created_at=now - timedelta(minutes=15), state="not_registered"),
        NewAccount(ncid="notreg01", first_name="Noah", last_name="Unregistered", email="noah@example.org",
                   ncid_created_at=old, state="not_registered"),
        NewAccount(ncid="phoneuser01", first_name="Pat", last_name="Phone", email="pat@example.org",
                   ncid_created_at=old, state="registered", method="phone",
                   primary_phone="+19195550101", secondary_phone="+19195550102", security=DEMO_SECURITY),
        NewAccount(ncid="appuser01", first_name="Ana", last_name="App", email="ana@example.org",
                   ncid_created_at=old, state="registered", method="app",
                   security=DEMO_SECURITY),
        NewAccount(ncid="disabled01", first_name="Dana", last_name="Disabled", email="dana@example.org",
                   ncid_created_at=old, state="disabled", method="phone",
                   primary_phone="+19195550103", security=DEMO_SECURITY),
    ]


def seed_demo_accounts(*, directory: Directory, clock: Clock) -> list[str]:
    """Create the demo accounts that are missing; returns the NCIDs created or refreshed."""
    touched = []
    for account in demo_accounts(clock):
        if directory.lookup(account.ncid) is None or account.ncid == "newuser01":
            directory.upsert(account, at=clock.now())
            touched.append(account.ncid)
    return touched
