"""Insights for supervisors: tickets per day by error code, conversations solved without a
ticket, test-call outcomes, and the messages the assistant did not understand — each of which
a supervisor can turn into a reviewed training example (data/reviewed_examples.yml)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.accounts.models import TestCall, utc
from bot.errors import BadRequest, NotFound
from bot.staff.models import NluReview
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
    with_ticket: int
    call_outcomes: list[tuple[str, int]]
    not_understood: list[dict[str, Any]]

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

    @property
    def solved_share(self) -> float:
        if not self.conversations:
            return 0.0
        return 1 - self.with_ticket / self.conversations


def gather(*, session: Session, now: datetime, days: int, zone: ZoneInfo, threshold: float,
           limit: int = 50) -> Insights:
    since = now - timedelta(days=days)
    local_today = now.astimezone(zone).date()
    day_list = [local_today - timedelta(days=i) for i in range(days - 1, -1, -1)]
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    codes: set[str] = set()
    for created, code in session.execute(select(Ticket.created_at, Ticket.error_code)
                                         .where(Ticket.created_at >= since)):
        key = code or "none"
        per_day[utc(created).astimezone(zone).date()][key] += 1
        codes.add(key)
    conversations = session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.created_at >= since, ~Conversation.sender_id.startswith("staff:"))) or 0
    with_ticket = session.scalar(select(func.count(func.distinct(Ticket.sender_id))).join(
        Conversation, Conversation.sender_id == Ticket.sender_id).where(Conversation.created_at >= since)) or 0
    outcomes = Counter(o or "in progress" for o in session.scalars(select(TestCall.outcome)
                                                                   .where(TestCall.created_at >= since)))
    return Insights(
        days=day_list, codes=sorted(codes), per_day=per_day,
        max_per_day=max((sum(c.values()) for c in per_day.values()), default=0),
        conversations=conversations, with_ticket=with_ticket, call_outcomes=outcomes.most_common(),
        not_understood=not_understood(session=session, since=since, threshold=threshold, limit=limit),
    )


def not_understood(*, session: Session, since: datetime, threshold: float, limit: int) -> list[dict[str, Any]]:
    """User messages below the fallback threshold or classed out_of_scope, newest first, not yet reviewed."""
    reviewed = set(session.scalars(select(NluReview.event_id)))
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
                    "sender_id": row.sender_id})
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
