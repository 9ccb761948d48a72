"""Prometheus metrics, one registry per app (tests build many apps in one process).

Counted from what a turn stores (intents, fallbacks, actions) and from what a unit of
work inserts (tickets, queued emails), so no domain module needs to know about metrics.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter("helpdesk_turns_total", "Conversation turns taken", ["channel"], registry=r)
        self.turn_seconds = Histogram("helpdesk_turn_seconds", "Time to take one turn (NLU, dialogue, "
                                      "actions, storage)", buckets=_LATENCY_BUCKETS, registry=r)
        self.intents = Counter("helpdesk_intents_total", "Intents recognised in user turns", ["intent"],
                               registry=r)
        self.fallbacks = Counter("helpdesk_fallbacks_total", "Turns the assistant was unsure of", registry=r)
        self.actions = Counter("helpdesk_actions_total", "Custom actions run", ["action"], registry=r)
        self.tickets = Counter("helpdesk_tickets_total", "Tickets created", registry=r)
        self.emails = Counter("helpdesk_emails_queued_total", "Emails put in the outbox", registry=r)
        self.http = Histogram("helpdesk_http_request_seconds", "HTTP requests by route and status",
                              ["route", "method", "status"], buckets=_LATENCY_BUCKETS, registry=r)
        self.redis_errors = Counter("helpdesk_redis_errors_total", "Redis operations that failed and fell "
                                    "back to the single-process path", ["operation"], registry=r)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several workers (`serve --workers N`): merge what every worker wrote.
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)

    def observe_turn(self, *, channel: str, events: Iterable[dict[str, Any]], seconds: float) -> None:
        self.turns.labels(channel=channel).inc()
        self.turn_seconds.observe(seconds)
        fallback = False
        for item in events:
            kind = item.get("event")
            if kind == "user":
                intent = ((item.get("parse_data") or {}).get("intent") or {}).get("name")
                if intent:
                    self.intents.labels(intent=str(intent)[:64]).inc()
            elif kind == "action":
                self.actions.labels(action=str(item.get("name"))[:64]).inc()
            elif kind == "slot" and item.get("name") == "fallback_count" and item.get("value"):
                fallback = True
        if fallback:
            self.fallbacks.inc()

    def watch_sessions(self, sessions: sessionmaker[Session]) -> None:
        """Count tickets and queued emails as they are flushed by any unit of work."""
        from bot.storage.outbox import OutboxEmail
        from bot.tickets.models import Ticket

        def after_flush(session: Session, _context: Any) -> None:
            for obj in session.new:
                if isinstance(obj, Ticket):
                    self.tickets.inc()
                elif isinstance(obj, OutboxEmail):
                    self.emails.inc()

        event.listen(sessions, "after_flush", after_flush)
