"""The console's shared web plumbing: who is signed in, role checks, CSRF, cookies and
HTML rendering. Every staff page goes through ``Console.page`` so none can forget a check."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.config import PROJECT_ROOT
from bot.errors import BadRequest, NotFound
from bot.staff.service import CurrentSession, StaffMember, StaffService
from bot.text import clean_text

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.staff.handoff import HandoffRegistry

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "helpdesk_staff"
CSRF_COOKIE = "helpdesk_staff_csrf"  # double-submit token for forms shown before sign-in
MAX_FORM_BYTES = 64 * 1024
# Pages are self-contained: no inline script, no third-party origin, never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NAV = (
    ("assist", "/staff/assist", "Agent assist", "agent"),
    ("conversations", "/staff/conversations", "Live conversations", "agent"),
    ("tickets", "/staff/tickets", "Tickets", "agent"),
    ("insights", "/staff/insights", "Insights", "supervisor"),
    ("admin", "/staff/admin/users", "Staff accounts", "admin"),
)

Handler = Callable[[Request], Awaitable[Response]]


class Forbidden403(Exception):
    """Raised inside a page to answer 403 with the console's error page."""


@dataclass
class Console:
    runtime: "Runtime"
    staff: StaffService
    handoffs: "HandoffRegistry"
    secure_cookies: bool
    # Where supervisors' reviewed training examples go (bot/staff/insights.py).
    examples_path: Path = PROJECT_ROOT / "data" / "reviewed_examples.yml"
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)

    @property
    def services(self) -> Any:
        return self.runtime.services

    # ----------------------------------------------------------------- rendering
    def render(self, request: Request, template: str, context: dict[str, Any] | None = None, *,
               status: int = 200, active: str = "") -> HTMLResponse:
        current: CurrentSession | None = getattr(request.state, "staff", None)
        member = current.member if current and current.stage == "full" else None
        values = {
            "member": member,
            "csrf_token": current.csrf_token if current else getattr(request.state, "csrf", ""),
            "nav": [item for item in NAV if member and member.has_role(item[3])],
            "active": active,
            **(context or {}),
        }
        html = self.env.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        for key, value in getattr(request.state, "set_cookies", {}).items():
            self._set_cookie(response, key, value)
        return response

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.render(request, "error.html", {"status": status, "message": message}, status=status)

    # ----------------------------------------------------------------- cookies
    def _set_cookie(self, response: Response, name: str, value: str | None) -> None:
        if value is None:
            response.delete_cookie(name, path="/staff", secure=self.secure_cookies, httponly=True,
                                   samesite="strict")
            return
        response.set_cookie(name, value, path="/staff", secure=self.secure_cookies, httponly=True,
                            samesite="strict")

    def set_session_cookie(self, response: Response, token: str | None) -> None:
        self._set_cookie(response, SESSION_COOKIE, self.staff.sign(token) if token else None)

    def current(self, request: Request) -> CurrentSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        token = self.staff.unsign(raw) if raw else None
        return self.staff.resolve(token) if token else None

    def anonymous_csrf(self, request: Request) -> str:
        """The double-submit token for the sign-in form (set as a cookie when missing)."""
        raw = request.cookies.get(CSRF_COOKIE)
        token = self.staff.unsign(raw) if raw else None
        if token is None:
            token = secrets.token_urlsafe(24)
            request.state.set_cookies = {CSRF_COOKIE: self.staff.sign(token)}
        request.state.csrf = token
        return token

    # ----------------------------------------------------------------- checks
    async def check_csrf(self, request: Request, expected: str) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            if urlsplit(origin).netloc != request.headers.get("host", ""):
                raise Forbidden403("cross-site request refused")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
            raise BadRequest("form too large", status=413)
        given = request.headers.get("x-csrf-token", "")
        if not given:
            form = await request.form(max_files=0, max_fields=50)
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden403("the form expired or did not come from this console; reload the page and try again")

    def page(self, handler: Handler, *, role: str = "agent") -> Handler:
        """Wrap a handler: signed-in staff with ``role`` or above, CSRF on every POST."""

        async def endpoint(request: Request) -> Response:
            current = self.current(request)
            if current is None or current.stage != "full":
                if request.method == "GET" and "application/json" not in request.headers.get("accept", ""):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/staff/login?next={quote(target, safe='')}", status_code=303)
                return self.error(request, 401, "Please sign in.")
            request.state.staff = current
            try:
                if not current.member.has_role(role):
                    raise Forbidden403(f"This page is for the {role} role and above.")
                if request.method == "POST":
                    await self.check_csrf(request, current.csrf_token)
                return await handler(request)
            except Forbidden403 as exc:
                return self.error(request, 403, str(exc))
            except BadRequest as exc:
                return self.error(request, exc.status, str(exc))
            except NotFound as exc:
                return self.error(request, 404, str(exc))

        return endpoint


# Ids above a 32-bit INTEGER column's range cannot exist; saying so beats a database error.
MAX_ID = 2**31 - 1


def row_id(value: Any, what: str) -> int:
    text = str(value)
    if not text.isdigit() or int(text) > MAX_ID:
        raise NotFound(f"no {what} {text[:20]}")
    return int(text)


def member_of(request: Request) -> StaffMember:
    current: CurrentSession = request.state.staff
    return current.member


async def form_text(request: Request, name: str, *, limit: int = 2000, required: bool = False) -> str:
    form = await request.form()
    value = form.get(name)
    text = clean_text(value).strip() if isinstance(value, str) else ""
    if required and not text:
        raise BadRequest(f"'{name}' is required")
    if len(text) > limit:
        raise BadRequest(f"'{name}' is longer than {limit} characters")
    return text


def safe_next(value: str | None) -> str:
    """Only paths inside the console: never an open redirect."""
    if value and value.startswith("/staff/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/staff/"
