"""The development mailbox: what the outbox would send, when no SMTP is configured."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.services.container import Services


def routes(services: "Services") -> list[BaseRoute]:
    """``GET /dev/mailbox`` — only in development mode; 404 otherwise."""

    async def mailbox(request: Request) -> Response:
        if not services.settings.development or services.mail is None:
            return PlainTextResponse("Not Found", status_code=404)
        emails = services.mail.list_recent(limit=50)
        items = []
        for email in emails:
            # The HTML body runs in a sandboxed iframe: no scripts, no same-origin access.
            frame = (
                f'<iframe sandbox="" title="HTML body" style="width:100%;height:420px;border:1px solid #ccc" '
                f'srcdoc="{escape(email.html, quote=True)}"></iframe>'
                if email.html else ""
            )
            items.append(
                "<article style='border-bottom:1px solid #ddd;padding:1em 0'>"
                f"<h2 style='font-size:1.05em'>{escape(email.subject)}</h2>"
                f"<p>To: {escape(email.to)} · status: <strong>{escape(email.status)}</strong>"
                f" · attempts: {email.attempts} · created: {escape(email.created_at.isoformat())}</p>"
                + (f"<p>Last error: {escape(email.last_error)}</p>" if email.last_error else "")
                + f"<details open><summary>Text</summary><pre style='white-space:pre-wrap'>{escape(email.text)}</pre></details>"
                + (f"<details><summary>HTML</summary>{frame}</details>" if frame else "")
                + "</article>"
            )
        body = "".join(items) or "<p>No emails yet.</p>"
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Dev mailbox</title></head>"
            "<body style='font-family:sans-serif;max-width:900px;margin:auto'>"
            f"<h1>Development mailbox</h1><p>{len(emails)} most recent emails.</p>{body}</body></html>"
        )
        return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"})

    return [Route("/dev/mailbox", mailbox, methods=["GET"])]
