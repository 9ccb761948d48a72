"""Insights page (supervisors) and the not-understood -> training example review."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.errors import BadRequest
from bot.staff import insights
from bot.staff.outcomes import LABELS, fallback_prefixes
from bot.staff.console import Console, form_text, member_of, row_id
from bot.storage.db import session_scope

DAYS = (7, 14, 30)


def routes(console: Console) -> list[BaseRoute]:
    services = console.services
    known = console.runtime.interpreter.intent_names
    fallbacks = fallback_prefixes(console.runtime.assistant.engine.domain.responses)

    async def page(request: Request) -> Response:
        days = request.query_params.get("days", "14")
        span = int(days) if days.isdigit() and int(days) in DAYS else 14
        code = request.query_params.get("code", "").strip().upper()
        if len(code) > 8 or not code.isalnum() and code:
            raise BadRequest("code must be an error code such as E05")
        with session_scope(services.sessions) as session:
            data = insights.gather(session=session, now=services.clock.now(), days=span, zone=services.hours.zone,
                                   threshold=services.settings.nlu.fallback_threshold,
                                   idle_minutes=services.settings.dialogue.session_expiry_minutes,
                                   fallbacks=fallbacks, code=code)
        return console.render(request, "insights.html", {
            "d": data, "span": span, "spans": DAYS, "intents": sorted(known), "labels": LABELS,
            "notice": request.query_params.get("notice"), "examples_file": console.examples_path.name,
        }, active="insights")

    async def review(request: Request) -> Response:
        member = member_of(request)
        event_id = await form_text(request, "event_id", limit=12, required=True)
        intent = await form_text(request, "intent", limit=64)
        decision = await form_text(request, "decision", limit=16)
        with session_scope(services.sessions) as session:
            insights.review(session=session, event_id=row_id(event_id, "message"),
                            intent=None if decision == "dismiss" else intent, known_intents=known,
                            reviewer=member, now=services.clock.now(), examples_path=console.examples_path)
        notice = "dismissed" if decision == "dismiss" else f"added+as+an+example+of+{intent}"
        return RedirectResponse(f"/staff/insights?notice={notice}", status_code=303)

    return [
        Route("/insights", console.page(page, role="supervisor"), methods=["GET"]),
        Route("/insights/review", console.page(review, role="supervisor"), methods=["POST"]),
    ]
