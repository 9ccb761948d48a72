"""Insights for supervisors: how conversations ended (bot/staff/outcomes.py) with the trend,
the top unresolved topics, tickets per day by error code, test-call outcomes, and the messages
the assistant did not understand — each of which a supervisor can turn into a reviewed
training example (data/reviewed_examples.yml). Everything can be narrowed to one error code."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import TestCall, utc
from bot.errors import BadRequest, NotFound
from bot.staff.models import Handoff, NluReview
from bot.staff.outcomes import OUTCOMES, Outcome, classify
from bot.tickets.diagnosis import split_turns
from bot.staff.service import StaffMember
from bot.storage.models import Conversation, ConversationEvent
from bot.tickets.models import Ticket

HEADER = """\
# Training examples reviewed by supervisors in the staff console (Insights -> "not understood").
# Rasa 3 NLU format, like data/nlu.yml, but NOT read by `helpdesk train` on its own: a data
# maintainer checks these in review and moves them into data/nlu.yml (see docs/staff.md).
"""
MAX_SCAN = 5000
# Colour-blind-safe (Okabe-Ito) colours for the error codes in the chart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass
class Insights:
    days: list[date]
    codes: list[str]
    per_day: dict[date, Counter[str]]
    max_per_day: int
    conversations: int
    outcomes: Counter[str]
    previous: Counter[str]  # the period of the same length just before
    outcome_days: dict[date, Counter[str]]
    by_code: dict[str, Counter[str]]
    topics: list[tuple[str, int, Counter[str]]]
    call_outcomes: list[tuple[str, int]]
    not_understood: list[dict[str, Any]]
    code: str = ""
    classes: tuple[str, ...] = OUTCOMES

    def chart(self, *, width: int = 720, height: int = 180) -> dict[str, Any]:
        """Stacked bars (one per day, one colour per error code) as SVG rectangles."""
        top = max(self.max_per_day, 1)
        slot = width / max(len(self.days), 1)
        colours = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(self.codes)}
        bars = []
        for i, day in enumerate(self.days):
            y = float(height)
            for code in self.codes:
                n = self.per_day.get(day, Counter()).get(code, 0)
                if not n:
                    continue
                h = height * n / top
                y -= h
                bars.append({"x": round(i * slot + slot * 0.15, 1), "y": round(y, 1), "w": round(slot * 0.7, 1),
                             "h": round(h, 1), "fill": colours[code],
                             "title": f"{day.strftime('%a %m/%d')}: {n} × {code}"})
        return {"width": width, "height": height, "bars": bars, "legend": list(colours.items()), "top": top}

    def share(self, outcome: str) -> float:
        return self.outcomes.get(outcome, 0) / self.conversations if self.conversations else 0.0

    def change(self, outcome: str) -> int:
        """How many more (or fewer) than in the previous period."""
        return self.outcomes.get(outcome, 0) - self.previous.get(outcome, 0)


def gather(*, session: Session, now: datetime, days: int, zone: ZoneInfo, threshold: float,
           idle_minutes: int, fallbacks: frozenset[str], code: str = "", limit: int = 50,
           topics: int = 10) -> Insights:
    since = now - timedelta(days=days)
    local_today = now.astimezone(zone).date()
    day_list = [local_today - timedelta(days=i) for i in range(days - 1, -1, -1)]
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    codes: set[str] = set()
    tickets = select(Ticket.created_at, Ticket.error_code).where(Ticket.created_at >= since)
    for created, ticket_code in session.execute(tickets.where(Ticket.error_code == code) if code else tickets):
        key = ticket_code or "none"
        per_day[utc(created).astimezone(zone).date()][key] += 1
        codes.add(key)
    idle_before = now - timedelta(minutes=idle_minutes)
    answers: set[int] = set()
    ended = conversation_outcomes(session=session, since=since, until=now, idle_before=idle_before,
                                  fallbacks=fallbacks, answers=answers)
    before = conversation_outcomes(session=session, since=since - timedelta(days=days), until=since,
                                   idle_before=idle_before, fallbacks=fallbacks)
    current = {sender: found for sender, found in ended.items() if _has_code(found[0], code)}
    outcome_days: dict[date, Counter[str]] = defaultdict(Counter)
    by_code: dict[str, Counter[str]] = defaultdict(Counter)
    unresolved: dict[str, Counter[str]] = defaultdict(Counter)
    for found, at in current.values():
        outcome_days[at.astimezone(zone).date()][found.outcome] += 1
        by_code[found.error_code or "none"][found.outcome] += 1
        if found.outcome in ("escalated", "abandoned", "unconfirmed") and found.topic:
            unresolved[found.topic][found.outcome] += 1
    calls = Counter(o or "in progress" for o in session.scalars(select(TestCall.outcome)
                                                                .where(TestCall.created_at >= since)))
    codes_of = {sender: found.error_code for sender, (found, _) in ended.items()}
    return Insights(
        days=day_list, codes=sorted(codes), per_day=per_day,
        max_per_day=max((sum(c.values()) for c in per_day.values()), default=0),
        conversations=len(current), outcomes=Counter(found.outcome for found, _ in current.values()),
        previous=Counter(found.outcome for found, _ in before.values() if _has_code(found, code)),
        outcome_days=outcome_days, by_code=dict(sorted(by_code.items())),
        topics=sorted(((topic, sum(c.values()), c) for topic, c in unresolved.items()),
                      key=lambda item: (-item[1], item[0]))[:topics],
        call_outcomes=calls.most_common(),
        not_understood=[m for m in not_understood(session=session, since=since, threshold=threshold,
                                                  limit=MAX_SCAN if code else limit, codes=codes_of,
                                                  skip=answers)
                        if not code or m["error_code"] == code][:limit],
        code=code,
    )


def _has_code(found: Outcome, code: str) -> bool:
    return not code or found.error_code == code


def conversation_outcomes(*, session: Session, since: datetime, until: datetime, idle_before: datetime,
                          fallbacks: frozenset[str], answers: set[int] | None = None,
                          ) -> dict[str, tuple[Outcome, datetime]]:
    """How each conversation last active in (since, until] ended, with when it was last active.
    Staff conversations (sender ids "staff:...") are not users' conversations. ``answers``
    collects the ids of user messages that answered a form (they were not requests)."""
    window = select(Conversation.sender_id).where(
        Conversation.updated_at > since, Conversation.updated_at <= until,
        ~Conversation.sender_id.startswith("staff:"))
    last_active = {sender: utc(at) for sender, at in session.execute(
        select(Conversation.sender_id, Conversation.updated_at).where(Conversation.sender_id.in_(window)))}
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row_id, sender, data in session.execute(
            select(ConversationEvent.id, ConversationEvent.sender_id, ConversationEvent.data)
            .where(ConversationEvent.sender_id.in_(window))
            .order_by(ConversationEvent.sender_id, ConversationEvent.seq)):
        events[sender].append(dict(data or {}, _row=row_id))
    if answers is not None:
        for conversation in events.values():
            answers |= {int(span.user["_row"]) for span in split_turns(conversation)
                        if span.user is not None and span.kind != "request"}
    escalated: set[str] = {s for s in session.scalars(select(Ticket.sender_id).where(Ticket.sender_id.in_(window)))
                           if s}
    # A person who took the conversation over; a place in the queue nobody took up is not one.
    escalated |= set(session.scalars(select(Handoff.sender_id).where(Handoff.sender_id.in_(window),
                                                                     Handoff.started_at.is_not(None))))
    # A form moved out of a Slack thread into the DM: the thread's conversation went on there.
    for sender in list(escalated):
        escalated |= {str(e["value"]) for e in events.get(sender, ())
                      if e.get("event") == "slot" and e.get("name") == "continued_from" and e.get("value")}
    return {sender: (classify(events.get(sender, []), escalated=sender in escalated,
                              idle=at <= idle_before, fallbacks=fallbacks), at)
            for sender, at in last_active.items()}


def not_understood(*, session: Session, since: datetime, threshold: float, limit: int,
                   codes: dict[str, str | None] | None = None, skip: set[int] | None = None) -> list[dict[str, Any]]:
    """User messages below the fallback threshold or classed out_of_scope, newest first, not yet
    reviewed. ``skip``: answers to a form, which the form understood whatever the NLU said."""
    reviewed = set(session.scalars(select(NluReview.event_id))) | (skip or set())
    rows = session.scalars(
        select(ConversationEvent).where(ConversationEvent.type == "user",
                                        ConversationEvent.timestamp >= since.timestamp())
        .order_by(ConversationEvent.id.desc()).limit(MAX_SCAN)
    )
    out = []
    for row in rows:
        data = row.data or {}
        text = (row.text or "").strip()
        metadata = data.get("metadata") or {}
        if row.id in reviewed or not text or text.startswith("/") or text == "[hidden]" \
                or metadata.get("is_external") or metadata.get("handoff"):
            continue
        intent = (data.get("parse_data") or {}).get("intent") or {}
        confidence = float(intent.get("confidence") or 0.0)
        # Gibberish and off-topic questions land on out_of_scope with high confidence: a
        # supervisor decides whether it was really off-topic.
        if confidence >= threshold and intent.get("name") != "out_of_scope":
            continue
        out.append({"id": row.id, "text": text, "guess": intent.get("name"), "confidence": confidence,
                    "sender_id": row.sender_id, "error_code": (codes or {}).get(row.sender_id)})
        if len(out) >= limit:
            break
    return out


def review(*, session: Session, event_id: int, intent: str | None, known_intents: frozenset[str],
           reviewer: StaffMember, now: datetime, examples_path: Path) -> str:
    """Turn a not-understood message into a training example for ``intent`` (or dismiss it
    when ``intent`` is None). Returns the example text."""
    row = session.get(ConversationEvent, event_id)
    if row is None or row.type != "user" or not (row.text or "").strip():
        raise NotFound(f"no user message {event_id}")
    if session.get(NluReview, event_id) is not None:
        raise BadRequest("this message was already reviewed", status=409)
    if intent is not None and intent not in known_intents:
        raise BadRequest(f"unknown intent {intent!r}")
    text = " ".join((row.text or "").split())
    session.add(NluReview(event_id=event_id, decision="example" if intent else "dismissed", intent=intent,
                          reviewer_id=reviewer.id, decided_at=now))
    if intent is not None:
        append_example(examples_path, intent=intent, text=text)
    return text


def append_example(path: Path, *, intent: str, text: str) -> None:
    doc: dict[str, Any] = {"version": "3.1", "nlu": []}
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(loaded, dict) and isinstance(loaded.get("nlu"), list):
            doc = loaded
    blocks: list[dict[str, Any]] = doc["nlu"]
    block = next((b for b in blocks if isinstance(b, dict) and b.get("intent") == intent), None)
    if block is None:
        block = {"intent": intent, "examples": ""}
        blocks.append(block)
    lines = [line for line in str(block.get("examples") or "").splitlines() if line.strip()]
    entry = f"- {text}"
    if entry not in lines:
        lines.append(entry)
    block["examples"] = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump(doc, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=1000)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + body, encoding="utf-8")
    tmp.replace(path)


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as | blocks, the way Rasa NLU files hold examples."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _literal)
