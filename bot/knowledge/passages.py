"""An article's passages: the pieces a follow-up question is answered from.

A passage is one paragraph or one list item, with the heading it sits under ("Is your NCID
brand new?") so that "how many minutes?" gets the one step that says 60 minutes, and "and
after that?" the step after it. Passages keep their Markdown; they are split, never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^\*\*(?P<text>[^*]+)\*\*\s*(?:\([^)]*\))?\s*[:?]?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:\d+\.|[-*])\s+")


@dataclass(frozen=True)
class Passage:
    article_id: str
    index: int      # position in the article, so "what's next?" can take the following one
    heading: str    # the heading it sits under, or the article's title
    text: str       # Markdown

    @property
    def key(self) -> str:
        return f"{self.article_id}#{self.index}"


def split_passages(*, article_id: str, title: str, body: str) -> tuple[Passage, ...]:
    """Paragraphs and list items of ``body``, each under its nearest heading."""
    passages: list[Passage] = []
    heading = title
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        first = _HEADING.match(lines[0].strip())
        if first:
            heading = first.group("text").strip().rstrip(":")
            lines = lines[1:]
        for piece in _pieces(lines):
            passages.append(Passage(article_id=article_id, index=len(passages), heading=heading, text=piece))
    return tuple(passages)


def _pieces(lines: list[str]) -> list[str]:
    """A paragraph is one piece; a list is one piece per item (continuation lines stay with it)."""
    pieces: list[list[str]] = []
    for line in lines:
        if _LIST_ITEM.match(line) or not pieces:
            pieces.append([line])
        else:
            pieces[-1].append(line)
    return ["\n".join(piece).strip() for piece in pieces]


def plain(text: str) -> str:
    """A passage without its list marker: "1. Wait 60 minutes." -> "Wait 60 minutes."."""
    return _LIST_ITEM.sub("", text, count=1).strip()
