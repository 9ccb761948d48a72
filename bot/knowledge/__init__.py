"""Knowledge base: Markdown articles keyed by error code, call failure and intent."""

from __future__ import annotations

from bot.knowledge.articles import Article, KnowledgeBase, PassageHit, SearchHit
from bot.knowledge.render import render

__all__ = ["Article", "KnowledgeBase", "PassageHit", "SearchHit", "render"]
