"""What the search index needs of a document: a leaf, so search.py need not import Article."""

from __future__ import annotations

from typing import Protocol


class Document(Protocol):
    """Read-only fields the index weighs; ``bot.knowledge.articles.Article`` has them all."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def symptoms(self) -> tuple[str, ...]: ...

    @property
    def body(self) -> str: ...
