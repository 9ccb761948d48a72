"""Agent assist: what a caller said -> the recognised problem, entities, the best KB articles
with their scores, the steps to read out, a suggested reply and next actions.

Everything comes from the running parts (the NLU interpreter, the KB and its BM25 index), so
the agent sees what the assistant would act on; the facts read to callers are the KB's own.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.articles import Article, KnowledgeBase
from bot.knowledge.render import render
from bot.nlu.interpreter import Interpreter
from bot.privacy.phi import scan

ASSIST_DATA = Path(__file__).resolve().parent / "assist.yml"
MAX_TEXT = 2000
_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.*)$")


@dataclass(frozen=True)
class ArticleMatch:
    id: str
    title: str
    score: float | None  # BM25 score; None when matched by an error code or call failure
    reason: str


@dataclass
class AssistResult:
    text: str  # what was analysed, PHI redacted
    redacted: tuple[str, ...]
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    entities: list[dict[str, Any]]
    articles: list[ArticleMatch]
    steps: list[str]
    suggested_reply: str
    actions: list[str]
    account_actions: bool
    milliseconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class AgentAssist:
    def __init__(self, *, interpreter: Interpreter, kb: KnowledgeBase, data_path: Path = ASSIST_DATA) -> None:
        self.interpreter, self.kb = interpreter, kb
        data = yaml.safe_load(data_path.read_text(encoding="utf-8")) or {}
        self._default = [str(a) for a in data.get("default_actions") or []]
        self._actions = {str(k): [str(a) for a in v] for k, v in (data.get("actions") or {}).items()}

    def analyze(self, text: str) -> AssistResult:
        started = time.perf_counter()
        finding = scan(text.strip()[:MAX_TEXT])
        clean = finding.text
        parse = self.interpreter.parse(clean)
        intent = str(parse["intent"]["name"])
        entities = [{"entity": e["entity"], "value": e["value"]} for e in parse.get("entities") or []]
        articles = self._articles(clean, intent, entities)
        top = self.kb.get(articles[0].id) if articles else None
        steps = _steps(top) if top else []
        reply = _first_paragraph(top) if top else ""
        actions = list(self._actions.get(intent, []))
        failures = {e["value"] for e in entities if e["entity"] == "call_failure"}
        if "no_call_received" in failures:
            actions += [a for a in self._actions.get("no_call_received", []) if a not in actions]
        actions += self._default
        result = AssistResult(
            text=clean, redacted=tuple(finding.kinds), intent=intent, confidence=float(parse["intent"]["confidence"]),
            ranking=[(str(r["name"]), float(r["confidence"])) for r in (parse.get("intent_ranking") or [])[:3]],
            entities=entities, articles=articles, steps=steps, suggested_reply=reply, actions=actions,
            account_actions=intent in {"call_problem", "test_call", "new_activation_code", "change_phone"}
            or bool(failures),
        )
        result.milliseconds = (time.perf_counter() - started) * 1000
        return result

    def _articles(self, text: str, intent: str, entities: list[dict[str, Any]]) -> list[ArticleMatch]:
        out: list[ArticleMatch] = []
        seen: set[str] = set()

        def add(article: Article | None, score: float | None, reason: str) -> None:
            if article is not None and article.id not in seen and len(out) < 3:
                seen.add(article.id)
                out.append(ArticleMatch(article.id, article.title, score, reason))

        for entity in entities:
            if entity["entity"] == "error_code":
                add(self.kb.for_error_code(str(entity["value"])), None, f"error code {entity['value']}")
            elif entity["entity"] == "call_failure":
                add(self.kb.for_call_failure(str(entity["value"])), None, f"call failure {entity['value']}")
        for hit in self.kb.search(text, limit=5):
            add(hit.article, round(hit.score, 2), "search")
        return out


def _plain_lines(article: Article) -> list[str]:
    return [line.rstrip() for line in render(article.body, "text").splitlines()]


def _steps(article: Article) -> list[str]:
    steps = []
    for line in _plain_lines(article):
        match = _STEP.match(line)
        if match:
            steps.append(match.group(1).strip())
    return steps


def _first_paragraph(article: Article) -> str:
    lines: list[str] = []
    for line in _plain_lines(article):
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return " ".join(lines)
