"""A ticket's diagnosis, gathered over the whole conversation (its Rasa-style events).

What counts is what the user *asked* and *reported*, plus what the assistant did:

- error codes, call failures and the MFA method: entities of the user's requests, and
  slots that actions set (the "which error?" question, a form moved from a Slack thread);
- steps the user says they tried: patterns in ``diagnosis.yml`` over the requests' text;
- articles shown, each with the user's verdict when the next request gave one;
- test-call outcomes the phone service pushed back into the conversation.

Answers to a form (a message sent while a form was active that the form took as the
answer to its question: NPI, name, NCID, security answers, the ticket message...) are not
requests: they never enter the diagnosis, however the NLU happened to classify them.
The same turn split (``split_turns``) lets the insights classify how a conversation ended.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml

DATA = Path(__file__).resolve().parent / "diagnosis.yml"
FACT_SLOTS = ("error_code", "call_failure", "mfa_method")
# Engine commands: they steer the conversation, they do not ask for anything.
COMMANDS = frozenset({"cancel", "restart", "back", "next", "resume"})
_CLAUSE = re.compile(r"[.;!?\n]+|\bbut\b|\bhowever\b", re.I)
_NEGATION_WINDOW = 3  # words before a step that can negate it ("I have not yet waited")
_HELPED, _NOT_HELPED = frozenset({"affirm"}), frozenset({"deny", "walkthrough_error"})

TurnKind = Literal["start", "request", "form_answer", "command", "external", "handoff"]


@dataclass
class TurnSpan:
    """One user message (None for what precedes the first) and the events it caused."""

    kind: TurnKind
    user: dict[str, Any] | None
    events: list[dict[str, Any]]
    loop: str | None  # the form active when the message arrived

    @property
    def intent(self) -> str | None:
        if self.user is None:
            return None
        name = ((self.user.get("parse_data") or {}).get("intent") or {}).get("name")
        return str(name) if name else None

    @property
    def text(self) -> str:
        return str((self.user or {}).get("text") or "")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(((self.user or {}).get("parse_data") or {}).get("entities") or [])


def split_turns(events: Iterable[dict[str, Any]]) -> list[TurnSpan]:
    """The conversation as turns, each classed as a request, a form answer, a command..."""
    spans: list[TurnSpan] = [TurnSpan("start", None, [], None)]
    loop: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            spans.append(TurnSpan("request", event, [], loop))
        else:
            spans[-1].events.append(event)
        if kind == "active_loop":
            loop = event.get("name")
        elif kind in ("session_started", "restart"):
            loop = None
    for span in spans[1:]:
        span.kind = _kind(span)
    return spans


def _kind(span: TurnSpan) -> TurnKind:
    metadata = (span.user or {}).get("metadata") or {}
    if metadata.get("handoff"):
        return "handoff"
    if metadata.get("is_external") or (span.intent or "").startswith("EXTERNAL_"):
        return "external"
    if span.intent in COMMANDS:
        return "command"
    if span.loop:
        for event in span.events:
            if event.get("event") == "action" and event.get("name") == f"validate_{span.loop}":
                return "form_answer"
            if event.get("event") == "active_loop" and event.get("name") is None:
                return "command"  # "cancel" typed inside the form closed it before anything ran
            if event.get("event") in ("action", "bot"):
                break
    return "request"


@dataclass
class Diagnosis:
    error_codes: list[str] = field(default_factory=list)
    call_failures: list[str] = field(default_factory=list)
    mfa_method: str | None = None
    tried: list[str] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    test_calls: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def error_code(self) -> str | None:
        """The latest one reported: the one the user is stuck on now."""
        return self.error_codes[-1] if self.error_codes else None

    @property
    def call_failure(self) -> str | None:
        return self.call_failures[-1] if self.call_failures else None

    def as_dict(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "call_failure": self.call_failure, **asdict(self)}

    def _fact(self, slot: str, value: Any) -> None:
        if value in (None, ""):
            return
        text = str(value)
        if slot == "mfa_method":
            self.mfa_method = text
            return
        values = self.error_codes if slot == "error_code" else self.call_failures
        if text in values:
            values.remove(text)  # moved to the end: the latest report decides
        values.append(text)


@dataclass(frozen=True)
class Patterns:
    steps: dict[str, tuple[re.Pattern[str], ...]]
    labels: dict[str, str]
    negation: re.Pattern[str]
    helped: tuple[re.Pattern[str], ...]
    not_helped: tuple[re.Pattern[str], ...]
    field_labels: dict[str, str]


@lru_cache(maxsize=4)
def load_patterns(path: Path = DATA) -> Patterns:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    steps = data.get("tried_steps") or {}

    def compiled(items: Iterable[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(str(p), re.I) for p in items)

    return Patterns(
        steps={str(k): compiled(v.get("patterns") or []) for k, v in steps.items()},
        labels={str(k): str(v.get("label") or k) for k, v in steps.items()},
        negation=re.compile(str(data.get("negations") or r"\bnot\b"), re.I),
        helped=compiled(data.get("helped") or []),
        not_helped=compiled(data.get("not_helped") or []),
        field_labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
    )


def steps_in(text: str, patterns: Patterns | None = None) -> list[str]:
    """Keys of the steps ``text`` says were tried, in data-file order, negations skipped."""
    patterns = patterns or load_patterns()
    found: list[str] = []
    clauses = _CLAUSE.split(text or "")
    for key, regexes in patterns.steps.items():
        if any(_affirmed(regex, clause, patterns.negation) for regex in regexes for clause in clauses):
            found.append(key)
    return found


def _affirmed(regex: re.Pattern[str], clause: str, negation: re.Pattern[str]) -> bool:
    for match in regex.finditer(clause):
        before = " ".join(clause[:match.start()].split()[-_NEGATION_WINDOW:])
        if not negation.search(before):
            return True
    return False


def verdict(span: TurnSpan, patterns: Patterns | None = None) -> bool | None:
    """Did this request say the fix just shown helped (True), did not (False), or neither?"""
    patterns = patterns or load_patterns()
    text = span.text if not span.text.startswith("/") else ""
    if span.intent in _NOT_HELPED or any(p.search(text) for p in patterns.not_helped):
        return False
    if span.intent in _HELPED or any(p.search(text) for p in patterns.helped):
        return True
    return None


def build_diagnosis(events: Iterable[dict[str, Any]], *, patterns: Patterns | None = None) -> Diagnosis:
    patterns = patterns or load_patterns()
    found = Diagnosis()
    awaiting: list[dict[str, Any]] = []  # the articles the next request may judge
    for span in split_turns(events):
        if span.kind == "request":
            found.requests.append(span.intent or "unknown")
            judged = verdict(span, patterns) if awaiting else None
            if judged is not None:
                for article in awaiting:
                    article["helped"] = judged
            awaiting = []
            for entity in span.entities:
                if entity.get("entity") in FACT_SLOTS:
                    found._fact(str(entity["entity"]), entity.get("value"))
            if not span.text.startswith("/"):
                found.tried += [step for step in steps_in(span.text, patterns) if step not in found.tried]
        acted = span.kind in ("start", "request", "external")
        latest_action: str | None = None
        shown: list[dict[str, Any]] = []
        for event in span.events:
            kind = event.get("event")
            if kind == "action":
                latest_action = str(event.get("name") or "")
                acted = acted or not latest_action.startswith("validate_")
            elif kind == "slot" and event.get("name") in FACT_SLOTS and acted:
                found._fact(str(event["name"]), event.get("value"))
            elif kind == "slot" and event.get("name") == "call_outcome" and event.get("value") \
                    and latest_action == "action_explain_test_call_outcome":
                found.test_calls.append(str(event["value"]))
            elif kind == "bot":
                article_id = ((event.get("data") or {}).get("custom") or {}).get("article")
                if article_id:
                    shown.append(_shown(found, str(article_id)))
        if shown:
            awaiting = shown
    return found


def _shown(found: Diagnosis, article_id: str) -> dict[str, Any]:
    for article in found.articles:
        if article["id"] == article_id:
            # Shown again (say after "it still says E05"): the earlier verdict stands until
            # the user gives a new one.
            found.articles.remove(article)
            found.articles.append(article)
            return article
    article = {"id": article_id, "helped": None}
    found.articles.append(article)
    return article


def describe(diagnosis: dict[str, Any], *, titles: dict[str, str] | None = None,
             patterns: Patterns | None = None) -> list[tuple[str, str]]:
    """(label, text) rows for staff, in a fixed order; empty fields are left out."""
    patterns = patterns or load_patterns()
    labels = patterns.field_labels
    rows: list[tuple[str, str]] = []
    for key in ("error_code", "call_failure", "mfa_method"):
        if diagnosis.get(key):
            rows.append((labels.get(key, key), str(diagnosis[key])))
    for key in ("error_codes", "call_failures"):
        values = [str(v) for v in diagnosis.get(key) or []]
        if len(values) > 1:
            rows.append((labels.get(key, key), ", ".join(values)))
    tried = [patterns.labels.get(str(step), str(step)) for step in diagnosis.get("tried") or []]
    if tried:
        rows.append((labels.get("tried", "tried"), "; ".join(tried)))
    articles = []
    for article in diagnosis.get("articles") or []:
        if not isinstance(article, dict):  # tickets filed before the diagnosis had verdicts
            articles.append(str(article))
            continue
        title = (titles or {}).get(str(article.get("id")), str(article.get("id")))
        verdict_text = {True: "helped", False: "did not help", None: "no answer"}[article.get("helped")]
        articles.append(f"{title} ({verdict_text})")
    if articles:
        rows.append((labels.get("articles", "articles"), "; ".join(articles)))
    if diagnosis.get("test_calls"):
        rows.append((labels.get("test_calls", "test_calls"), ", ".join(map(str, diagnosis["test_calls"]))))
    if diagnosis.get("requests"):
        rows.append((labels.get("requests", "requests"), ", ".join(map(str, diagnosis["requests"]))))
    return rows
