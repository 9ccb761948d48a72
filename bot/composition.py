"""Composition: builds the Services container and wires its parts to each other.

The one module that knows every domain. It builds the engine and sessions, the KB, the
account services and test calls (bot/accounts), tickets with the mail outbox, the call-center
hours, and chooses the shared state (bot/ops/shared_state.py: Redis when configured) whose
rate-limit gate the account services consult. The parts below it get what they need handed
in and never build each other.

It sits just above the domains and below actions/ (docs/architecture.md): bot/runtime.py
builds the running product on it, the CLIs use it, and so does the standalone rasa-sdk
action server, whose actions are built without arguments (``services_from_environment``).
"""

from __future__ import annotations

from argon2 import PasswordHasher

from bot.accounts.service import build_account_service
from bot.accounts.test_calls import TestCallService
from bot.config import Settings
from bot.knowledge.articles import KnowledgeBase
from bot.ops.shared_state import SharedState, build_shared_state
from bot.services.clock import Clock, SystemClock
from bot.services.container import Services
from bot.services.conversation_bus import ConversationBus
from bot.services.hours import CallCenterHours
from bot.services.mail import Outbox
from bot.storage.db import make_engine, make_sessionmaker
from bot.tickets.service import TicketService


def create_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    engine = make_engine(settings.database_url)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        kb=KnowledgeBase.load(settings.kb_path),
        clock=clock or SystemClock(),
        bus=ConversationBus(),
    )
    # --- issue 3: account services (directory, identity check, test calls, activation codes) ---
    attach_account_services(services)  # services.accounts, services.phone_calls
    # --- issue 4: escalation services (tickets, outbox mail, call-center hours) ---
    services.mail = Outbox(sessions=services.sessions, clock=services.clock, smtp_url=settings.smtp_url)
    services.tickets = TicketService(sessions=services.sessions, clock=services.clock, outbox=services.mail,
                                     security=settings.security)  # issue 14: Contact Us limits
    services.hours = CallCenterHours(settings.call_center, services.clock)
    # --- issue 7: shared state across workers (Redis when configured), metrics ---
    attach_shared_state(services)  # services.extras["shared_state"]
    return services


def services_from_environment() -> Services:
    """For the standalone rasa-sdk action server (`python -m rasa_sdk --actions actions`)."""
    return create_services(Settings.load())


def attach_account_services(services: Services, *, hasher: PasswordHasher | None = None) -> None:
    """The directory, the account service and test calls (tests attach them with a cheap hasher)."""
    services.accounts = build_account_service(
        services.settings, sessions=services.sessions, clock=services.clock, hasher=hasher
    )
    services.phone_calls = TestCallService.from_settings(
        services.settings, sessions=services.sessions, directory=services.accounts.directory,
        clock=services.clock, bus=services.bus,
    )


def attach_shared_state(services: Services) -> SharedState:
    shared = build_shared_state(settings=services.settings, sessions=services.sessions,
                                now=lambda: services.clock.now().timestamp())
    assert shared.throttle is not None
    # The services that count attempts consult the shared gate before their SQL check.
    accounts = services.accounts
    if accounts is not None:
        accounts.identity.limits = shared.limits
        accounts.activation.limits = shared.limits
        accounts.activation.once = shared.throttle  # issue 14: one-time QR links
        accounts.throttle = shared.throttle  # issue 14: registration-status look-ups
    if getattr(services, "tickets", None) is not None:
        services.tickets.throttle = shared.throttle  # issue 14: Contact Us tickets
    if services.phone_calls is not None:
        services.phone_calls.limits = shared.limits
    services.extras["shared_state"] = shared
    return shared


def shared_state(services: Services) -> SharedState:
    shared = services.extras.get("shared_state")
    if shared is None:  # a Services built without create_services (some tests)
        shared = attach_shared_state(services)
    return shared
