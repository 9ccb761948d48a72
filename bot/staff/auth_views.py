"""Sign-in (password, then a TOTP code or authenticator enrolment) and sign-out."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.errors import BadRequest
from bot.staff.console import Console, Forbidden403, form_text, safe_next

# Issue 14: one answer for every refusal at the password step (unknown name, wrong password,
# too many tries from this address), so it tells nobody which names exist.
LOGIN_ERROR = ("The username or password is not right, or there were too many attempts from here. "
               "Please check them and try again in a few minutes.")


def routes(console: Console) -> list[BaseRoute]:
    staff = console.staff

    async def index(request: Request) -> Response:
        current = console.current(request)
        if current is None or current.stage != "full":
            return RedirectResponse("/staff/login", status_code=303)
        return RedirectResponse("/staff/assist", status_code=303)

    async def login_page(request: Request) -> Response:
        console.anonymous_csrf(request)
        return console.render(request, "login.html", {"error": None, "next": safe_next(request.query_params.get("next")),
                                                      "username": ""})

    async def login(request: Request) -> Response:
        expected = console.anonymous_csrf(request)
        try:
            await console.check_csrf(request, expected)
        except Forbidden403 as exc:
            return console.error(request, 403, str(exc))
        except BadRequest as exc:
            return console.error(request, exc.status, str(exc))
        username = await form_text(request, "username", limit=64)
        password = await form_text(request, "password", limit=256)
        target = safe_next(await form_text(request, "next", limit=500))
        client = request.client.host if request.client else "-"
        result = staff.sign_in(username=username, password=password, client=client)
        if not result.ok or result.token is None:
            return console.render(request, "login.html", {"error": LOGIN_ERROR, "next": target,
                                                          "username": username}, status=401)
        response = RedirectResponse(f"/staff/login/code?next={quote(target, safe='')}", status_code=303)
        console.set_session_cookie(response, result.token)
        return response

    def _pending(request: Request) -> Response | None:
        current = console.current(request)
        if current is None or current.stage != "password":
            return RedirectResponse("/staff/login", status_code=303)
        request.state.staff = current
        return None

    async def code_page(request: Request) -> Response:
        redirect = _pending(request)
        if redirect is not None:
            return redirect
        return _code_form(request, error=None, status=200)

    def _code_form(request: Request, *, error: str | None, status: int) -> Response:
        current = request.state.staff
        enrol = None
        if not current.enrolled:
            secret, uri, qr = staff.enrollment(session_id=current.id)
            enrol = {"secret": secret, "uri": uri, "qr": qr}
        return console.render(request, "login_code.html",
                              {"error": error, "enrol": enrol, "next": safe_next(request.query_params.get("next")),
                               "name": current.member.display_name}, status=status)

    async def code(request: Request) -> Response:
        redirect = _pending(request)
        if redirect is not None:
            return redirect
        try:
            await console.check_csrf(request, request.state.staff.csrf_token)
        except Forbidden403 as exc:
            return console.error(request, 403, str(exc))
        except BadRequest as exc:
            return console.error(request, exc.status, str(exc))
        value = await form_text(request, "code", limit=20)
        target = safe_next(await form_text(request, "next", limit=500))
        result = staff.second_factor(session_id=request.state.staff.id, code=value)
        if not result.ok or result.token is None:
            if result.locked_minutes:
                request.state.staff = None  # back to the anonymous sign-in form and its own token
                console.anonymous_csrf(request)
                response = console.render(request, "login.html", {
                    "error": f"Too many failed attempts: this account is locked for {result.locked_minutes} minutes.",
                    "next": target, "username": ""}, status=401)
                console.set_session_cookie(response, None)
                return response
            return _code_form(request, error="That code is not right, or was already used. "
                                             "Type the code your authenticator shows now.", status=401)
        redirect = RedirectResponse(target, status_code=303)
        console.set_session_cookie(redirect, result.token)
        return redirect

    async def logout(request: Request) -> Response:
        current = console.current(request)
        if current is not None:
            try:
                await console.check_csrf(request, current.csrf_token)
            except Forbidden403 as exc:
                request.state.staff = current
                return console.error(request, 403, str(exc))
            staff.sign_out(session_id=current.id)
        response = RedirectResponse("/staff/login", status_code=303)
        console.set_session_cookie(response, None)
        return response

    return [
        Route("/", index, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/login/code", code_page, methods=["GET"]),
        Route("/login/code", code, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
