"""Services wired for account tests: fast argon2, demo accounts, a recording bus."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from rasa_sdk import Tracker

from bot.accounts.demo import seed_demo_accounts
from bot.composition import attach_account_services
from bot.services.container import Services
from tests.fakes import make_services

TEST_SECRET = "test-secret-key-for-accounts"
DEMO_ANSWERS = {
    "What is the name of the street you grew up on?": "Maple",
    "What was the name of your first pet?": "Rex",
    "In what city were you born?": "Raleigh",
    "What was the make of your first car?": "Ford",
}


def fast_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def account_services(tmp_path: Path, *, clock: Any, seed: bool = True, **overrides: Any) -> Services:
    overrides.setdefault("secret_key", TEST_SECRET)
    services = make_services(tmp_path, clock=clock, **overrides)
    attach_account_services(services, hasher=fast_hasher())
    if seed:
        seed_demo_accounts(directory=services.accounts.directory, clock=clock)
    return services


class RecordingBus:
    """Connects to services.bus and keeps every triggered intent."""

    def __init__(self, services: Services) -> None:
        self.triggers: list[dict[str, Any]] = []
        services.bus.connect(self._handle)

    async def _handle(self, *, sender_id: str, intent: str, entities: dict[str, Any],
                      metadata: dict[str, Any]) -> None:
        self.triggers.append({"sender_id": sender_id, "intent": intent, "entities": entities})

    @property
    def outcomes(self) -> list[str]:
        return [t["entities"]["call_outcome"] for t in self.triggers]


SESSION = "local:rest"  # issue 14: the channel session the test conversation's turns come from


def tracker(sender_id: str = "user-1", *, slots: dict[str, Any] | None = None, text: str = "",
            intent: str = "", entities: list[dict[str, Any]] | None = None,
            active_loop: str | None = None, session: str | None = SESSION) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
              "metadata": {"session": session} if session else {}}
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}]
    return Tracker(sender_id, dict(slots or {}), latest, events, False, None,
                   {"name": active_loop} if active_loop else {}, None)


def verify(services: Services, sender_id: str = "user-1", ncid: str = "phoneuser01") -> None:
    """Pass the identity check for ``sender_id`` with the demo answers."""
    identity = services.accounts.identity
    challenge = identity.begin(sender_id=sender_id, ncid_text=ncid)
    for index, question in enumerate(challenge.questions):
        identity.answer(sender_id=sender_id, index=index, text=DEMO_ANSWERS[question])
    identity.complete(sender_id=sender_id, session=SESSION)


@pytest.fixture
def scripted_accounts(runtime: Any) -> None:
    """Conversation scripts: the identity check asks questions 2 and 4 (first pet: Rex,
    first car: Ford) so a script knows what to answer; argon2 runs a cheap profile.
    List it before demo_accounts so the demo answers are hashed cheaply too."""
    runtime.services.accounts.identity.rng = random.Random(0)
    runtime.services.accounts.directory.hasher = fast_hasher()
