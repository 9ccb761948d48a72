"""Builds the running product once: services, NLU, dialogue engine and the Assistant.

Shared by the HTTP server, the terminal chat and the tests, so all three run the same parts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actions import build_actions
from bot.assistant import Assistant
from bot.services.live import LiveHub
from bot.composition import create_services, shared_state
from bot.config import Settings
from bot.dialogue.action_runner import ActionRunner, InProcessActionRunner, RemoteActionRunner
from bot.dialogue.domain import load_domain
from bot.dialogue.engine import DialogueEngine
from bot.nlu.interpreter import Interpreter
from bot.nlu.model import load_or_train
from bot.privacy import phi
from bot.services.clock import Clock
from bot.services.container import Services
from bot.storage.migrate import upgrade
from bot.storage.tracker_store import SqlTrackerStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    services: Services
    assistant: Assistant
    interpreter: Interpreter
    live: LiveHub

    def close(self) -> None:
        self.services.close()


def build_runtime(settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> Runtime:
    services = create_services(settings, clock=clock)
    if migrate:
        upgrade(services.engine)
    model, data = load_or_train(settings.nlu)
    interpreter = Interpreter(model, data)
    domain = load_domain(settings.dialogue.flows, settings.dialogue.responses)
    runner: ActionRunner
    if settings.action_endpoint:
        runner = RemoteActionRunner(settings.action_endpoint)
    else:
        runner = InProcessActionRunner(build_actions(services))
    engine = DialogueEngine(
        domain=domain, kb=services.kb, runner=runner, known_intents=frozenset(model.intents.labels),
        fallback_threshold=settings.nlu.fallback_threshold,
        ambiguity_threshold=settings.nlu.ambiguity_threshold,
    )
    # --- issue 7: locks, live pushes and metrics shared across workers (Redis when configured) ---
    shared = shared_state(services)
    live: LiveHub = shared.live
    assistant = Assistant(
        interpreter=interpreter, engine=engine, store=SqlTrackerStore(services.engine), live=live,
        clock=services.clock, max_message_chars=settings.dialogue.max_message_chars,
        session_expiry_minutes=settings.dialogue.session_expiry_minutes,
        phi_scanner=phi.scan,
        locks=shared.locks, observer=shared.metrics.observe_turn,  # issue 7
    )
    services.bus.connect(assistant.trigger_intent)
    return Runtime(settings=settings, services=services, assistant=assistant,
                   interpreter=interpreter, live=live)
