"""Agent assist page, plus account actions for a caller the agent has verified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.accounts.directory import normalize_ncid
from bot.accounts.models import AuditEntry, utc
from bot.accounts.phones import display
from bot.errors import BadRequest, RateLimited, ServiceUnavailable
from bot.knowledge.render import render
from bot.staff.assist import MAX_TEXT, AgentAssist
from bot.staff.console import Console, form_text, member_of
from bot.staff.service import StaffMember
from bot.storage.db import session_scope

VERIFIED_MINUTES = 15
VERIFY_METHODS = ("security questions (two of four)", "callback to the number on file")
CHANNEL = "staff"


def verified_ncid(console: Console, member: StaffMember, ncid: str) -> bool:
    """Did this agent record, within the last 15 minutes, that this caller was verified?"""
    now = console.services.clock.now()
    with session_scope(console.services.sessions) as session:
        at = session.scalar(
            select(AuditEntry.at).where(AuditEntry.actor == member.actor, AuditEntry.action == "caller_verified",
                                        AuditEntry.ncid == ncid, AuditEntry.outcome == "verified")
            .order_by(AuditEntry.id.desc()).limit(1)
        )
    return at is not None and utc(at) > now - timedelta(minutes=VERIFIED_MINUTES)


def routes(console: Console) -> list[BaseRoute]:
    services = console.services
    assist = AgentAssist(interpreter=console.runtime.interpreter, kb=services.kb)

    def _page(request: Request, *, result: Any = None, text: str = "", ncid: str = "", notice: str | None = None,
              error: str | None = None, activation: Any = None, call: Any = None, status: int = 200) -> Response:
        member = member_of(request)
        verified = bool(ncid) and verified_ncid(console, member, ncid)
        return console.render(request, "assist.html", {
            "result": result, "text": text, "ncid": ncid, "verified": verified, "notice": notice, "error": error,
            "activation": activation, "call": call, "methods": VERIFY_METHODS, "max_text": MAX_TEXT,
        }, status=status, active="assist")

    async def page(request: Request) -> Response:
        return _page(request, ncid=normalize_ncid(request.query_params.get("ncid", "")) or "")

    async def analyze(request: Request) -> Response:
        text = await form_text(request, "text", limit=MAX_TEXT, required=True)
        result = assist.analyze(text)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({
                "intent": {"name": result.intent, "confidence": result.confidence},
                "entities": result.entities,
                "articles": [{"id": a.id, "title": a.title, "score": a.score, "reason": a.reason}
                             for a in result.articles],
                "steps": result.steps, "suggested_reply": result.suggested_reply, "actions": result.actions,
                "milliseconds": round(result.milliseconds, 1),
            })
        ncid = normalize_ncid(await form_text(request, "ncid", limit=64)) or ""
        return _page(request, result=result, text=result.text, ncid=ncid)

    async def verify(request: Request) -> Response:
        member = member_of(request)
        ncid = normalize_ncid(await form_text(request, "ncid", limit=64, required=True))
        method = await form_text(request, "method", limit=80)
        confirmed = await form_text(request, "confirmed", limit=10)
        if ncid is None:
            return _page(request, error="That is not an NCID.", status=400)
        if confirmed != "yes" or method not in VERIFY_METHODS:
            return _page(request, ncid=ncid, error="Tick the box to confirm how you verified the caller.", status=400)
        known = services.accounts.directory.lookup(ncid) is not None
        services.accounts.audit(ncid=ncid, actor=member.actor, action="caller_verified", channel=CHANNEL,
                                outcome="verified" if known else "unknown_ncid",
                                detail={"method": method, "agent": member.display_name})
        if not known:
            return _page(request, error=f"No MFA account with NCID {ncid}.", status=404)
        return _page(request, ncid=ncid, notice=f"Caller verified for {ncid} (for {VERIFIED_MINUTES} minutes).")

    async def _verified_ncid(request: Request) -> str:
        ncid = normalize_ncid(await form_text(request, "ncid", limit=64, required=True))
        if ncid is None or not verified_ncid(console, member_of(request), ncid):
            raise BadRequest("Record that the caller was verified first.", status=403)
        return ncid

    async def test_call(request: Request) -> Response:
        member = member_of(request)
        ncid = await _verified_ncid(request)
        try:
            placed = await services.phone_calls.place(ncid=ncid, sender_id=member.actor, channel=CHANNEL)
        except RateLimited as exc:
            return _page(request, ncid=ncid, error=f"Too many test calls for {ncid}: try again in "
                                                   f"{max(1, exc.retry_after // 60)} minutes.", status=429)
        except (BadRequest, ServiceUnavailable) as exc:
            return _page(request, ncid=ncid, error=f"No test call: {exc}.", status=400)
        return _page(request, ncid=ncid, call={"id": placed.call_id, "to": placed.to_masked,
                                               "secondary": placed.has_secondary, "left": placed.calls_left},
                     notice=f"Calling {placed.to_masked}.")

    async def call_status(request: Request) -> Response:
        call = services.phone_calls.get(request.path_params["call_id"])
        member = member_of(request)
        if call is None or call.sender_id != member.actor:
            return JSONResponse({"error": "no such call"}, status_code=404)
        return JSONResponse({"status": call.status, "outcome": call.outcome,
                             "to": display(call.numbers[min(call.leg, len(call.numbers) - 1)])})

    async def activation_code(request: Request) -> Response:
        member = member_of(request)
        ncid = await _verified_ncid(request)
        try:
            new = services.accounts.activation.generate(ncid=ncid, sender_id=member.actor, channel=CHANNEL)
        except RateLimited as exc:
            return _page(request, ncid=ncid, error=f"Too many activation codes for {ncid}: try again in "
                                                   f"{max(1, exc.retry_after // 60)} minutes.", status=429)
        return _page(request, ncid=ncid, activation=new, notice="New activation code issued (valid 10 minutes).")


    async def article(request: Request) -> Response:
        found = services.kb.get(str(request.path_params["article_id"])[:64])  # NotFound -> 404 page
        return console.render(request, "article.html", {"article": found, "html": render(found.body, "html")},
                              active="assist")

    return [
        Route("/kb/{article_id}", console.page(article), methods=["GET"]),
        Route("/assist", console.page(page), methods=["GET"]),
        Route("/assist", console.page(analyze), methods=["POST"]),
        Route("/assist/verify", console.page(verify), methods=["POST"]),
        Route("/assist/test-call", console.page(test_call), methods=["POST"]),
        Route("/assist/calls/{call_id}", console.page(call_status), methods=["GET"]),
        Route("/assist/activation-code", console.page(activation_code), methods=["POST"]),
    ]
