"""The Services container: every outside capability, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.knowledge.articles import KnowledgeBase
from bot.services.clock import Clock, SystemClock
from bot.services.conversation_bus import ConversationBus
from bot.storage.db import make_engine, make_sessionmaker


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kb: KnowledgeBase
    clock: Clock
    bus: ConversationBus
    # Domain services are attached by create_services; typed loosely here so that this
    # module does not import every domain package (they import Services for typing).
    accounts: Any = None
    phone_calls: Any = None
    tickets: Any = None
    mail: Any = None
    hours: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> "Services":
        """For the standalone rasa-sdk action server (`python -m rasa_sdk --actions actions`)."""
        return create_services(Settings.load())

    def close(self) -> None:
        self.engine.dispose()
        if "shared_state" in self.extras:  # issue 7: the Redis clients
            self.extras["shared_state"].close()


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
    from bot.accounts.service import attach_account_services

    attach_account_services(services)  # services.accounts, services.phone_calls
    # --- issue 4: escalation services (tickets, outbox mail, call-center hours) ---
    from bot.services.hours import CallCenterHours
    from bot.services.mail import Outbox
    from bot.tickets.service import TicketService

    services.mail = Outbox(sessions=services.sessions, clock=services.clock, smtp_url=settings.smtp_url)
    services.tickets = TicketService(sessions=services.sessions, clock=services.clock, outbox=services.mail,
                                     security=settings.security)  # issue 14: Contact Us limits
    services.hours = CallCenterHours(settings.call_center, services.clock)
    # --- issue 7: shared state across workers (Redis when configured), metrics ---
    from bot.ops.shared_state import attach_shared_state

    attach_shared_state(services)  # services.extras["shared_state"]
    return services
