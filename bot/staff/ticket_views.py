"""Tickets: the queue (filters, sorting, pages, CSV), one ticket (transcript, diagnosis,
history, notes, replies, timer), assignment and the status workflow."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.errors import BadRequest, NotFound
from bot.staff import queue
from bot.staff.business_time import format_duration
from bot.staff.console import MAX_ID, Console, Forbidden403, form_text, member_of, row_id
from bot.storage.db import session_scope
from bot.tickets.diagnosis import describe
from bot.tickets.models import TICKET_STATUSES


def routes(console: Console) -> list[BaseRoute]:
    services = console.services

    async def queue_page(request: Request) -> Response:
        member = member_of(request)
        filters = queue.QueueFilter.from_query(request.query_params)
        with session_scope(services.sessions) as session:
            page = queue.list_tickets(session=session, filters=filters, member=member, now=services.clock.now(),
                                      hours=services.hours)
            choices = queue.distinct_values(session=session)
            staff = queue.staff_choices(session=session)
        return console.render(request, "tickets.html", {
            "page": page, "f": filters, "statuses": TICKET_STATUSES, "ages": list(queue.AGES), "staff": staff,
            "sorts": list(queue.SORTS), **choices,
            "duration": format_duration,
        }, active="tickets")

    async def export(request: Request) -> Response:
        member = member_of(request)
        filters = queue.QueueFilter.from_query(request.query_params)
        with session_scope(services.sessions) as session:
            body = queue.export_rows(session=session, filters=filters, member=member, now=services.clock.now(),
                                     hours=services.hours)
        stamp = services.clock.now().strftime("%Y%m%d-%H%M")
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="tickets-{stamp}.csv"', "Cache-Control": "no-store"})

    async def ticket_page(request: Request) -> Response:
        ticket_id = row_id(request.path_params["ticket_id"], "ticket")
        with session_scope(services.sessions) as session:
            view = queue.ticket_view(session=session, ticket_id=ticket_id, now=services.clock.now(),
                                     hours=services.hours)
            staff = queue.staff_choices(session=session)
            diagnosis = describe(view.ticket.diagnosis or {}, titles=_titles(view.ticket.diagnosis or {}))
        return console.render(request, "ticket.html", {
            "v": view, "t": view.ticket, "staff": staff, "timer": format_duration(view.timer_seconds),
            "diagnosis": diagnosis,
            "notice": request.query_params.get("notice"),
        }, active="tickets")

    def _titles(diagnosis: dict[str, object]) -> dict[str, str]:
        """Titles of the articles the diagnosis lists (an article since removed keeps its id)."""
        titles = {}
        for article in diagnosis.get("articles") or []:  # type: ignore[attr-defined]
            article_id = str(article.get("id")) if isinstance(article, dict) else str(article)
            try:
                titles[article_id] = services.kb.get(article_id).title
            except NotFound:
                continue
        return titles

    def _done(ticket_id: int, notice: str) -> Response:
        return RedirectResponse(f"/staff/tickets/{ticket_id}?notice={notice}", status_code=303)

    async def assign(request: Request) -> Response:
        member = member_of(request)
        if not member.has_role("supervisor"):
            raise Forbidden403("Only supervisors assign tickets.")
        ticket_id = row_id(request.path_params["ticket_id"], "ticket")
        value = await form_text(request, "assignee", limit=12)
        if value and (not value.isdigit() or int(value) > MAX_ID):
            raise BadRequest("assignee must be a staff id")
        with session_scope(services.sessions) as session:
            queue.assign(session=session, ticket_id=ticket_id, assignee_id=int(value) if value else None, by=member,
                         now=services.clock.now())
        return _done(ticket_id, "assigned")

    async def status(request: Request) -> Response:
        member = member_of(request)
        ticket_id = row_id(request.path_params["ticket_id"], "ticket")
        new = await form_text(request, "status", limit=16, required=True)
        note = await form_text(request, "note", limit=queue.MAX_NOTE)
        with session_scope(services.sessions) as session:
            queue.change_status(session=session, ticket_id=ticket_id, status=new, by=member, now=services.clock.now(),
                                note=note)
        return _done(ticket_id, f"status+{new}")

    async def note(request: Request) -> Response:
        member = member_of(request)
        ticket_id = row_id(request.path_params["ticket_id"], "ticket")
        body = await form_text(request, "body", limit=queue.MAX_NOTE, required=True)
        with session_scope(services.sessions) as session:
            queue.add_note(session=session, ticket_id=ticket_id, body=body, by=member, now=services.clock.now())
        return _done(ticket_id, "note+added")

    async def reply(request: Request) -> Response:
        member = member_of(request)
        ticket_id = row_id(request.path_params["ticket_id"], "ticket")
        body = await form_text(request, "body", limit=queue.MAX_NOTE, required=True)
        with session_scope(services.sessions) as session:
            queue.reply(session=session, ticket_id=ticket_id, body=body, by=member, now=services.clock.now(),
                        outbox=services.mail)
        return _done(ticket_id, "reply+sent")

    return [
        Route("/tickets", console.page(queue_page), methods=["GET"]),
        Route("/tickets.csv", console.page(export, role="supervisor"), methods=["GET"]),
        Route("/tickets/{ticket_id:int}", console.page(ticket_page), methods=["GET"]),
        Route("/tickets/{ticket_id:int}/assign", console.page(assign, role="supervisor"), methods=["POST"]),
        Route("/tickets/{ticket_id:int}/status", console.page(status), methods=["POST"]),
        Route("/tickets/{ticket_id:int}/notes", console.page(note), methods=["POST"]),
        Route("/tickets/{ticket_id:int}/replies", console.page(reply), methods=["POST"]),
    ]
