"""The Services container: every outside capability, built once at start-up.

A plain record: bot/composition.py builds it and attaches the domain services (accounts,
test calls, tickets, mail, hours) and the shared state; nothing here imports a domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.knowledge.articles import KnowledgeBase
from bot.services.clock import Clock
from bot.services.conversation_bus import ConversationBus


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kb: KnowledgeBase
    clock: Clock
    bus: ConversationBus
    # Domain services are attached by bot.composition.create_services; typed loosely here so
    # that this module, below the domains, does not import them (they import Services).
    accounts: Any = None
    phone_calls: Any = None
    tickets: Any = None
    mail: Any = None
    hours: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.engine.dispose()
        if "shared_state" in self.extras:  # issue 7: the Redis clients
            self.extras["shared_state"].close()
