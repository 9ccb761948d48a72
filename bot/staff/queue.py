"""The ticket queue for staff: filtered, sorted, paged lists; one ticket with its history,
notes and timer; assignment; the status workflow; replies by email; CSV export."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from bot.accounts.models import utc
from bot.errors import BadRequest, NotFound
from bot.privacy.phi import scan
from bot.staff.business_time import first_response_seconds
from bot.staff.models import StaffUser, TicketNote, TicketWork
from bot.staff.service import StaffMember
from bot.tickets.models import TICKET_STATUSES, Ticket, TicketEvent

if TYPE_CHECKING:
    from bot.services.hours import CallCenterHours
    from bot.services.mail import Outbox

PAGE_SIZE = 25
MAX_PAGE = 100_000
MAX_NOTE = 4000
# Which status may follow which; a resolved or closed ticket can be reopened.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "pending", "resolved", "closed"),
    "open": ("pending", "resolved", "closed"),
    "pending": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}
AGES = {"1d": (None, 1), "1-3d": (1, 3), "3-7d": (3, 7), "7d+": (7, None)}
SORTS = {"created": Ticket.created_at, "updated": Ticket.updated_at, "status": Ticket.status,
         "error_code": Ticket.error_code, "call_failure": Ticket.call_failure, "subject": Ticket.subject,
         "tracking": Ticket.tracking_number}
REPLY_TEMPLATE = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    subject: str = ""
    error_code: str = ""
    call_failure: str = ""
    mfa_method: str = ""
    age: str = ""
    assignee: str = ""  # "", "none", "me" or a staff id
    sort: str = "-created"
    page: int = 1

    @classmethod
    def from_query(cls, query: Any) -> "QueueFilter":
        def text(name: str, limit: int = 40) -> str:
            return str(query.get(name, "") or "").strip()[:limit]

        status, age, sort = text("status"), text("age"), text("sort") or "-created"
        if status and status not in TICKET_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(TICKET_STATUSES)}")
        if age and age not in AGES:
            raise BadRequest(f"age must be one of {', '.join(AGES)}")
        if sort.lstrip("-") not in SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SORTS)} (prefix - for descending)")
        assignee = text("assignee")
        if assignee not in ("", "none", "me") and not (assignee.isdigit() and int(assignee) < 2**31):
            raise BadRequest("assignee must be none, me or a staff id")
        page = text("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            raise BadRequest(f"page must be a whole number from 1 to {MAX_PAGE}")
        return cls(status=status, subject=text("subject"), error_code=text("error_code", 8).upper(),
                   call_failure=text("call_failure", 32), mfa_method=text("mfa_method", 32), age=age,
                   assignee=assignee, sort=sort, page=int(page))

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)})


@dataclass(frozen=True)
class QueueRow:
    id: int
    tracking_number: str
    status: str
    subject: str
    error_code: str | None
    call_failure: str | None
    mfa_method: str | None
    channel: str | None
    created_at: datetime
    updated_at: datetime
    assignee: str | None
    first_response_seconds: float | None = None  # business seconds, with hours given
    responded: bool = False


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


@dataclass
class TicketView:
    ticket: Ticket
    assignee_id: int | None
    assignee: str | None
    history: list[dict[str, Any]]
    notes: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    first_response_at: datetime | None = None
    timer_seconds: float = 0.0
    timer_running: bool = True
    next_statuses: tuple[str, ...] = ()


def _filtered(query: Select[Ticket, str], f: QueueFilter, *, member: StaffMember,
              now: datetime) -> Select[Ticket, str]:
    if f.status:
        query = query.where(Ticket.status == f.status)
    if f.subject:
        query = query.where(Ticket.subject == f.subject)
    if f.error_code:
        query = query.where(Ticket.error_code == f.error_code)
    if f.call_failure:
        query = query.where(Ticket.call_failure == f.call_failure)
    if f.mfa_method:
        query = query.where(Ticket.mfa_method == f.mfa_method)
    if f.age:
        low, high = AGES[f.age]
        if low is not None:
            query = query.where(Ticket.created_at <= now - timedelta(days=low))
        if high is not None:
            query = query.where(Ticket.created_at > now - timedelta(days=high))
    if f.assignee == "none":
        query = query.where(TicketWork.assignee_id.is_(None))
    elif f.assignee == "me":
        query = query.where(TicketWork.assignee_id == member.id)
    elif f.assignee:
        query = query.where(TicketWork.assignee_id == int(f.assignee))
    return query


def _base() -> Select[Ticket, str]:
    assignee = aliased(StaffUser)
    return (select(Ticket, assignee.display_name)
            .join(TicketWork, TicketWork.ticket_id == Ticket.id, isouter=True)
            .join(assignee, assignee.id == TicketWork.assignee_id, isouter=True))


def list_tickets(*, session: Session, filters: QueueFilter, member: StaffMember, now: datetime,
                 page_size: int = PAGE_SIZE, hours: "CallCenterHours | None" = None) -> QueuePage:
    query = _filtered(_base(), filters, member=member, now=now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    column = SORTS[filters.sort.lstrip("-")]
    order = column.desc() if filters.sort.startswith("-") else column.asc()
    pages = max(1, -(-total // page_size))
    rows = session.execute(query.order_by(order, Ticket.id.desc())
                           .offset((filters.page - 1) * page_size).limit(page_size)).all()
    out = []
    for ticket, name in rows:
        row = _row(ticket, name)
        if hours is not None:
            view = ticket_view(session=session, ticket_id=ticket.id, now=now, hours=hours)
            row = dataclasses.replace(row, first_response_seconds=view.timer_seconds,
                                      responded=view.first_response_at is not None)
        out.append(row)
    return QueuePage(rows=out, total=total, page=filters.page, pages=pages)


def export_rows(*, session: Session, filters: QueueFilter, member: StaffMember, now: datetime,
                hours: "CallCenterHours", limit: int = 10_000) -> str:
    """CSV of the filtered queue (every page). No contact details: those stay in the console."""
    column = SORTS[filters.sort.lstrip("-")]
    order = column.desc() if filters.sort.startswith("-") else column.asc()
    rows = session.execute(_filtered(_base(), filters, member=member, now=now).order_by(order, Ticket.id.desc())
                           .limit(limit)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tracking_number", "status", "subject", "error_code", "call_failure", "mfa_method", "channel",
                     "created_at", "updated_at", "assignee", "first_response_business_minutes"])
    for ticket, assignee in rows:
        view = ticket_view(session=session, ticket_id=ticket.id, now=now, hours=hours)
        writer.writerow([_cell(v) for v in (
            ticket.tracking_number, ticket.status, ticket.subject, ticket.error_code or "", ticket.call_failure or "",
            ticket.mfa_method or "", ticket.channel or "",
            utc(ticket.created_at).isoformat(), utc(ticket.updated_at).isoformat(), assignee or "",
            round(view.timer_seconds / 60, 1))])
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A spreadsheet would run a cell that starts with = + - @ as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _row(ticket: Ticket, assignee: str | None) -> QueueRow:
    return QueueRow(id=ticket.id, tracking_number=ticket.tracking_number, status=ticket.status,
                    subject=ticket.subject, error_code=ticket.error_code, call_failure=ticket.call_failure,
                    mfa_method=ticket.mfa_method, channel=ticket.channel,
                    created_at=utc(ticket.created_at), updated_at=utc(ticket.updated_at), assignee=assignee)


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def ticket_view(*, session: Session, ticket_id: int, now: datetime, hours: "CallCenterHours") -> TicketView:
    ticket = _ticket(session, ticket_id)
    work = session.get(TicketWork, ticket_id)
    assignee = session.get(StaffUser, work.assignee_id) if work and work.assignee_id else None
    history = [{"status": e.status, "note": e.note, "actor": e.actor, "at": utc(e.created_at)} for e in ticket.events]
    names = {row[0]: row[1] for row in session.execute(select(StaffUser.id, StaffUser.display_name))}
    notes = [{"kind": n.kind, "body": n.body, "author": names.get(n.author_id or -1, "former staff"),
              "at": utc(n.created_at)}
             for n in session.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket_id)
                                      .order_by(TicketNote.id))]
    responded = utc(work.first_response_at) if work and work.first_response_at else None
    changes = [(e.status, utc(e.created_at)) for e in ticket.events]
    if responded is None:
        responded = next((at for status, at in changes if status in ("resolved", "closed")), None)
    seconds = first_response_seconds(created_at=utc(ticket.created_at), responded_at=responded, now=now,
                                     history=changes, hours=hours)
    return TicketView(
        ticket=ticket, assignee_id=assignee.id if assignee else None,
        assignee=assignee.display_name if assignee else None, history=history,
        notes=[n for n in notes if n["kind"] == "internal"], replies=[n for n in notes if n["kind"] == "reply"],
        first_response_at=responded, timer_seconds=seconds,
        timer_running=responded is None and ticket.status != "pending",
        next_statuses=TRANSITIONS.get(ticket.status, ()),
    )


def _work(session: Session, ticket_id: int) -> TicketWork:
    work = session.get(TicketWork, ticket_id)
    if work is None:
        work = TicketWork(ticket_id=ticket_id)
        session.add(work)
    return work


def assign(*, session: Session, ticket_id: int, assignee_id: int | None, by: StaffMember, now: datetime) -> None:
    ticket = _ticket(session, ticket_id)
    name = "nobody"
    if assignee_id is not None:
        user = session.get(StaffUser, assignee_id)
        if user is None or not user.active:
            raise BadRequest("no such staff member")
        name = user.display_name
    work = _work(session, ticket_id)
    work.assignee_id, work.assigned_at = assignee_id, now
    ticket.updated_at = now
    ticket.events.append(TicketEvent(status=ticket.status, note=f"assigned to {name}", actor=by.actor[:64],
                                     created_at=now))


def change_status(*, session: Session, ticket_id: int, status: str, by: StaffMember, now: datetime,
                  note: str = "") -> None:
    ticket = _ticket(session, ticket_id)
    if status not in TRANSITIONS.get(ticket.status, ()):
        raise BadRequest(f"a {ticket.status} ticket cannot become {status}", status=409)
    ticket.status, ticket.updated_at = status, now
    ticket.events.append(TicketEvent(status=status, note=scan(note[:MAX_NOTE]).text or None, actor=by.actor[:64],
                                     created_at=now))


def add_note(*, session: Session, ticket_id: int, body: str, by: StaffMember, now: datetime) -> None:
    """An internal note: staff only, never emailed or shown to the user."""
    _check_body(body)
    _ticket(session, ticket_id)
    session.add(TicketNote(ticket_id=ticket_id, author_id=by.id, kind="internal", body=scan(body).text,
                           created_at=now))


def reply(*, session: Session, ticket_id: int, body: str, by: StaffMember, now: datetime, outbox: "Outbox") -> None:
    """A reply the user receives by email (through the outbox); the first one stops the timer."""
    _check_body(body)
    ticket = _ticket(session, ticket_id)
    text = scan(body).text
    session.add(TicketNote(ticket_id=ticket_id, author_id=by.id, kind="reply", body=text, created_at=now))
    work = _work(session, ticket_id)
    if work.first_response_at is None:
        work.first_response_at = now
    if ticket.status == "new":
        ticket.status = "open"
        ticket.events.append(TicketEvent(status="open", note="replied to the user", actor=by.actor[:64],
                                         created_at=now))
    ticket.updated_at = now
    env = Environment(loader=FileSystemLoader(REPLY_TEMPLATE), undefined=StrictUndefined, autoescape=False,
                      keep_trailing_newline=True)
    email = env.get_template("ticket_reply.txt").render(first_name=ticket.first_name, body=text,
                                                         tracking_number=ticket.tracking_number, agent=by.display_name)
    outbox.enqueue(session, to=ticket.email, subject=f"Your NCTracks inquiry {ticket.tracking_number}", text=email,
                   ticket_id=ticket.id)


def _check_body(body: str) -> None:
    if not body.strip():
        raise BadRequest("the note is empty")
    if len(body) > MAX_NOTE:
        raise BadRequest(f"the note is longer than {MAX_NOTE} characters")


def staff_choices(*, session: Session) -> list[tuple[int, str, str]]:
    return [(u.id, u.display_name, u.role) for u in session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name))]


def distinct_values(*, session: Session) -> dict[str, list[str]]:
    return {
        "subjects": sorted(v for v in session.scalars(select(Ticket.subject).distinct()) if v),
        "error_codes": sorted(v for v in session.scalars(select(Ticket.error_code).distinct()) if v),
        "call_failures": sorted(v for v in session.scalars(select(Ticket.call_failure).distinct()) if v),
        "mfa_methods": sorted(v for v in session.scalars(select(Ticket.mfa_method).distinct()) if v),
    }
