"""Load KB articles (Markdown + YAML front matter) and look them up by key."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.errors import ConfigError, NotFound
from bot.knowledge.passages import Passage, plain, split_passages
from bot.knowledge.render import render
from bot.knowledge.embeddings import TextEmbeddings, model as embedding_model
from bot.knowledge.search import Bm25Index, Document, tokenize

# libyaml's safe loader when PyYAML has it (ten times faster): read at every start.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
_ID = re.compile(r"[a-z0-9][a-z0-9_]*")
_ERROR_CODE = re.compile(r"E[0-9]{2}")
_TOP_LEVEL = frozenset({"id", "title", "keys", "symptoms", "related"})
_KEYS = frozenset({"error_codes", "call_failures", "intents"})
# A word in the title or a symptom says more about an article than one in its body.
TITLE_WEIGHT, SYMPTOM_WEIGHT, BODY_WEIGHT = 3, 2, 1
# Passages of the conversation's topic are preferred: a follow-up is about what was just said;
# the topic's own article more than the ones it names as related.
TOPIC_BOOST, RELATED_BOOST = 2.0, 1.5
# An answer is the passage's whole section when the section is at most this long.
SECTION_WORDS = 80
# "not new", "never got": the negated word is what the user is not asking about.
_NEGATED = re.compile(r"\b(?:not|never|no longer)\s+(?:a\s+|an\s+|the\s+)?\w+", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    error_codes: tuple[str, ...]
    call_failures: tuple[str, ...]
    intents: tuple[str, ...]
    symptoms: tuple[str, ...]
    related: tuple[str, ...]
    body: str  # Markdown without the front matter

    @property
    def passages(self) -> tuple[Passage, ...]:
        return split_passages(article_id=self.id, title=self.title, body=self.body)


@dataclass(frozen=True)
class SearchHit:
    article: Article
    score: float


@dataclass(frozen=True)
class PassageHit:
    passage: Passage
    title: str        # the article's
    score: float
    in_topic: bool    # from one of the topic articles asked for


class KnowledgeBase:
    """An immutable set of articles with lookups by id, error code, call failure and intent."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self._articles = {article.id: article for article in articles}
        if len(self._articles) != len(articles):
            ids = [article.id for article in articles]
            raise ConfigError(f"duplicate article ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        self._by_code = {code: a for a in articles for code in a.error_codes}
        self._by_failure = {failure: a for a in articles for failure in a.call_failures}
        self._index = Bm25Index([Document(key=a.id, fields=(
            (TITLE_WEIGHT, a.title), *((SYMPTOM_WEIGHT, symptom) for symptom in a.symptoms), (BODY_WEIGHT, a.body),
        )) for a in articles])
        # Split once: follow-up answers read an article's passages on every question.
        self._passages_of = {article.id: article.passages for article in articles}
        self._passages = [passage for article in articles for passage in self._passages_of[article.id]]
        self._passage_index = Bm25Index([Document(key=p.key, fields=(
            (2, p.text), (2, p.heading), (1, self._articles[p.article_id].title))) for p in self._passages])
        # Sentence embeddings find "how long is it good for?" in "expires in 10 minutes", which
        # shares no word with it; they are added to the BM25 score.
        self._embeddings = TextEmbeddings([f"{p.heading}. {plain(p.text)}" for p in self._passages])

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        """Read every ``*.md`` under ``path``; any malformed article fails start-up, naming its file."""
        if not path.is_dir():
            raise ConfigError(f"knowledge base directory not found: {path}")
        files = sorted(path.rglob("*.md"))
        if not files:
            raise ConfigError(f"knowledge base directory has no *.md articles: {path}")
        articles = [parse_article(file) for file in files]
        _check_unique(articles, files)
        _check_related(articles, files)
        return cls(articles)

    def get(self, article_id: str) -> Article:
        try:
            return self._articles[article_id]
        except KeyError:
            raise NotFound(f"no knowledge base article {article_id!r}") from None

    def for_error_code(self, code: str) -> Article | None:
        return self._by_code.get(code.strip().upper())

    def for_call_failure(self, failure: str) -> Article | None:
        return self._by_failure.get(failure.strip().lower())

    def for_intent(self, intent: str) -> list[Article]:
        return [article for article in self._articles.values() if intent in article.intents]

    def search(self, query: str, *, limit: int = 5) -> list[SearchHit]:
        """Articles ranked by BM25 against the query (agent assist, /kb/search)."""
        return [SearchHit(article=self._articles[hit.key], score=hit.score)
                for hit in self._index.search(query, limit=limit)]

    def passages(self, query: str, *, topics: Sequence[str] = (), limit: int = 3,
                 lexical_only: bool = False) -> list[PassageHit]:
        """Passages ranked for a question (BM25 plus sentence similarity); those of ``topics``
        weigh more (the first ``TOPIC_BOOST`` times, the others ``RELATED_BOOST`` times)."""
        query = _NEGATED.sub(" ", query)
        lexical = self._passage_index.scores(query)
        # With ``lexical_only`` similarity only re-ranks passages sharing a word with the query:
        # for a message that is no question, similarity alone finds "APPROVE" in "appuser01".
        similar = self._embeddings.scores(query)
        scores = lexical + (np.where(lexical > 0, similar, 0.0) if lexical_only else similar)
        boosts = {topic: RELATED_BOOST for topic in topics[1:]} | ({topics[0]: TOPIC_BOOST} if topics else {})
        hits = []
        for passage, score in zip(self._passages, scores, strict=True):
            if score <= 0:
                continue
            boost = boosts.get(passage.article_id)
            hits.append(PassageHit(passage=passage, title=self._articles[passage.article_id].title,
                                   score=float(score) * (boost or 1.0), in_topic=boost is not None))
        hits.sort(key=lambda hit: (-hit.score, hit.passage.key))
        return hits[:limit]

    def wait_until_ready(self) -> bool:
        """Loads the sentence-embedding model now rather than on the first question (tests,
        benchmarks); True when it is in use."""
        return embedding_model() is not None

    def section(self, passage: Passage, *, max_words: int = SECTION_WORDS) -> tuple[Passage, ...]:
        """The passages under the same heading as ``passage``, when together they are short
        enough to answer with (a three-step list); else the passage alone."""
        siblings = tuple(p for p in self._passages_of[passage.article_id] if p.heading == passage.heading)
        words = sum(len(p.text.split()) for p in siblings)
        return siblings if words <= max_words else (passage,)

    def passage_after(self, article_id: str, index: int) -> Passage | None:
        """The passage that follows one: "then what?"."""
        self.get(article_id)  # NotFound for an unknown id
        following = self._passages_of[article_id][index + 1:index + 2]
        return following[0] if following else None

    def __iter__(self) -> Iterator[Article]:
        return iter(self._articles.values())

    def __len__(self) -> int:
        return len(self._articles)


def parse_article(file: Path) -> Article:
    """Parse one article file; raise ConfigError naming the file on any problem."""
    text = file.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ConfigError(f"{file}: missing YAML front matter between '---' lines")
    try:
        meta = yaml.load(match.group(1), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{file}: front matter must be a mapping")
    _reject_unknown(file, meta, _TOP_LEVEL, "front matter")
    keys = meta.get("keys")
    if not isinstance(keys, dict):
        raise ConfigError(f"{file}: 'keys' must be a mapping with {sorted(_KEYS)}")
    _reject_unknown(file, keys, _KEYS, "keys")

    article_id = _string(file, meta, "id")
    if article_id != file.stem or not _ID.fullmatch(article_id):
        raise ConfigError(f"{file}: id {article_id!r} must equal the file name stem {file.stem!r}")
    body = match.group(2).strip()
    if not body:
        raise ConfigError(f"{file}: article body is empty")
    return Article(
        id=article_id,
        title=_string(file, meta, "title"),
        error_codes=_strings(file, keys, "error_codes", pattern=_ERROR_CODE),
        call_failures=_strings(file, keys, "call_failures", pattern=_ID),
        intents=_strings(file, keys, "intents", pattern=_ID),
        symptoms=_strings(file, meta, "symptoms"),
        related=_strings(file, meta, "related", pattern=_ID),
        body=body,
    )


def _reject_unknown(file: Path, mapping: dict[Any, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise ConfigError(f"{file}: unknown {where} field(s) {unknown}; allowed: {sorted(allowed)}")


def _string(file: Path, mapping: dict[str, Any], name: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{file}: '{name}' must be a non-empty string")
    return value.strip()


def _strings(
    file: Path, mapping: dict[str, Any], name: str, *, pattern: re.Pattern[str] | None = None
) -> tuple[str, ...]:
    value = mapping.get(name)
    if value is None:
        raise ConfigError(f"{file}: '{name}' is missing (use [] for none)")
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ConfigError(f"{file}: '{name}' must be a list of non-empty strings")
    items = tuple(item.strip() for item in value)
    bad = [item for item in items if pattern is not None and not pattern.fullmatch(item)]
    if bad:
        raise ConfigError(f"{file}: '{name}' has malformed value(s) {bad}")
    return items


def _check_unique(articles: Sequence[Article], files: Sequence[Path]) -> None:
    # Ids repeat only across sub-folders; an error code or call failure must name one article
    # or for_error_code / for_call_failure would be ambiguous.
    for field in ("id", "error_codes", "call_failures"):
        owner: dict[str, Path] = {}
        for article, file in zip(articles, files, strict=True):
            values = getattr(article, field)
            for key in (values,) if isinstance(values, str) else values:
                if key in owner:
                    raise ConfigError(f"{file}: {field} value {key!r} is already claimed by {owner[key]}")
                owner[key] = file


def _check_related(articles: Sequence[Article], files: Sequence[Path]) -> None:
    known = {article.id for article in articles}
    for article, file in zip(articles, files, strict=True):
        missing = [related for related in article.related if related not in known]
        if missing:
            raise ConfigError(f"{file}: related article(s) {missing} do not exist")
        if article.id in article.related:
            raise ConfigError(f"{file}: an article cannot be related to itself")


def snippet(article: Article, query: str, *, width: int = 160) -> str:
    """The plain-text line of the article that shares most words with the query, shortened."""
    lines = [line.strip() for line in render(article.body, "text").splitlines() if line.strip()]
    wanted = set(tokenize(query))
    best = max(lines, key=lambda line: len(wanted & set(tokenize(line))), default="")
    if len(best) <= width:
        return best
    return best[: width - 1].rsplit(" ", 1)[0] + "…"
