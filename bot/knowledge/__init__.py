"""Knowledge base: Markdown articles keyed by error code, call failure and intent."""

from __future__ import annotations

from bot.knowledge.articles import Article, KnowledgeBase
from bot.knowledge.render import render
from bot.knowledge.search import SearchHit

__all__ = ["Article", "KnowledgeBase", "SearchHit", "render"]
