"""HTTP routes over the knowledge base: search and fetch one article."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.errors import NotFound
from bot.knowledge.articles import KnowledgeBase
from bot.knowledge.render import render
from bot.knowledge.articles import snippet

MAX_LIMIT = 20
MAX_QUERY_CHARS = 500


def routes(kb: KnowledgeBase) -> list[BaseRoute]:
    """``GET /kb/search`` and ``GET /kb/articles/{id}``, bound to ``kb``."""

    async def search(request: Request) -> JSONResponse:
        query = request.query_params.get("q", "").strip()
        if not query:
            return _error("query parameter 'q' is required", status=400)
        if len(query) > MAX_QUERY_CHARS:
            return _error(f"query parameter 'q' is longer than {MAX_QUERY_CHARS} characters", status=400)
        raw_limit = request.query_params.get("limit", "5")
        if not re.fullmatch(r"[0-9]{1,3}", raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return _error(f"'limit' must be a whole number from 1 to {MAX_LIMIT}", status=400)
        hits = kb.search(query, limit=int(raw_limit))
        results = [
            {
                "id": hit.article.id,
                "title": hit.article.title,
                "score": round(hit.score, 4),
                "snippet": snippet(hit.article, query),
            }
            for hit in hits
        ]
        return JSONResponse({"query": query, "results": results})

    async def article(request: Request) -> JSONResponse:
        try:
            found = kb.get(request.path_params["article_id"])
        except NotFound as exc:
            return _error(str(exc), status=404)
        return JSONResponse(
            {
                "id": found.id,
                "title": found.title,
                "error_codes": list(found.error_codes),
                "call_failures": list(found.call_failures),
                "intents": list(found.intents),
                "related": list(found.related),
                "markdown": found.body,
                "html": render(found.body, "html"),
            }
        )

    return [
        Route("/kb/search", search, methods=["GET"]),
        Route("/kb/articles/{article_id}", article, methods=["GET"]),
    ]


def _error(message: str, *, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
