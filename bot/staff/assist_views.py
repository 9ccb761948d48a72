"""Agent assist page, plus account actions for a caller whose identity the system verified
(bot/staff/caller_check.py): no action starts without it, whatever the form posts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.accounts.directory import normalize_ncid
from bot.accounts.phones import display
from bot.errors import BadRequest, RateLimited, ServiceUnavailable
from bot.knowledge.render import render
from bot.staff.assist import MAX_TEXT, AgentAssist
from bot.staff.caller_check import CHANNEL, CallerCheck, Outcome, Questions
from bot.staff.console import Console, form_text, member_of

MAX_ANSWER = 200
# Status codes of the check's outcomes: a refusal is never a 200 a script could miss.
OUTCOME_STATUS = {"verified": 200, "failed": 403, "locked": 423, "changed": 409, "not_an_ncid": 400}


def routes(console: Console) -> list[BaseRoute]:
    services = console.services
    assist = AgentAssist(interpreter=console.runtime.interpreter, kb=services.kb)
    check = CallerCheck(services=services)

    def _page(request: Request, *, result: Any = None, text: str = "", ncid: str = "", notice: str | None = None,
              error: str | None = None, activation: Any = None, call: Any = None, status: int = 200,
              questions: Questions | None = None, outcome: Outcome | None = None) -> Response:
        member = member_of(request)
        verified = check.verified(member=member, ncid=ncid)
        return console.render(request, "assist.html", {
            "result": result, "text": text, "ncid": ncid, "verified": verified, "notice": notice, "error": error,
            "activation": activation, "call": call, "max_text": MAX_TEXT, "questions": questions,
            "outcome": outcome, "minutes": check.minutes, "max_answer": MAX_ANSWER,
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

    async def ask(request: Request) -> Response:
        """Step 1: the NCID the caller gives -> the two questions to ask them."""
        ncid_text = await form_text(request, "ncid", limit=64, required=True)
        found = check.ask(member=member_of(request), ncid_text=ncid_text)
        if isinstance(found, Questions):
            return _page(request, ncid=found.ncid, questions=found)
        return _page(request, ncid=found.ncid or "", outcome=found, status=OUTCOME_STATUS[found.kind])

    async def verify(request: Request) -> Response:
        """Step 2: the caller's answers, checked by the system against the hashes."""
        ncid_text = await form_text(request, "ncid", limit=64, required=True)
        asked = (await form_text(request, "question_1", limit=200, required=True),
                 await form_text(request, "question_2", limit=200, required=True))
        answers = (await form_text(request, "answer_1", limit=MAX_ANSWER, required=True),
                   await form_text(request, "answer_2", limit=MAX_ANSWER, required=True))
        outcome = check.verify(member=member_of(request), ncid_text=ncid_text, asked=asked, answers=answers)
        return _page(request, ncid=outcome.ncid or "", outcome=outcome, questions=outcome.questions,
                     status=OUTCOME_STATUS[outcome.kind])

    async def end(request: Request) -> Response:
        check.end(member=member_of(request))
        return _page(request, notice="Verification ended.")

    async def _verified_ncid(request: Request) -> str:
        """The NCID an account action is for, only if the system verified that caller for this agent."""
        ncid = normalize_ncid(await form_text(request, "ncid", limit=64, required=True))
        if ncid is None or not check.verified(member=member_of(request), ncid=ncid):
            raise BadRequest("Verify the caller's answers to the security questions first.", status=403)
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
        Route("/assist/verify/questions", console.page(ask), methods=["POST"]),
        Route("/assist/verify", console.page(verify), methods=["POST"]),
        Route("/assist/verify/end", console.page(end), methods=["POST"]),
        Route("/assist/test-call", console.page(test_call), methods=["POST"]),
        Route("/assist/calls/{call_id}", console.page(call_status), methods=["GET"]),
        Route("/assist/activation-code", console.page(activation_code), methods=["POST"]),
    ]
