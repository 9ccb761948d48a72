"""Live conversations: the list (waiting for a person first), one conversation followed live,
take over, reply, hand back."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.sender_id import validate_sender
from bot.errors import BadRequest, NotFound
from bot.knowledge.render import render
from bot.privacy.phi import scan
from bot.staff.console import MAX_ID, Console, form_text, member_of
from bot.staff.handoff import MAX_REPLY_CHARS

STATE_LABELS = {"waiting": "waiting for an agent", "active": "held by an agent", None: "with the assistant"}


def _items(console: Console, sender: str, after: int) -> list[dict[str, Any]]:
    out = []
    for item in console.runtime.assistant.store.messages(sender, after_id=after):
        agent = (item.get("custom") or {}).get("agent")
        role = "agent" if agent else "user" if item["from"] == "user" else "bot"
        who = "User" if role == "user" else f"{agent} (agent)" if agent else "Assistant"
        text = scan(str(item.get("text") or "")).text
        if role != "user":
            text = render(text, "text")  # bot and agent messages are Markdown; staff read them plain
        out.append({"id": item["id"], "role": role, "who": who, "text": text})
    return out


def routes(console: Console) -> list[BaseRoute]:
    handoffs = console.handoffs

    async def listing(request: Request) -> Response:
        return console.render(request, "conversations.html", {"conversations": handoffs.conversations(),
                                                              "labels": STATE_LABELS}, active="conversations")

    def _sender(request: Request) -> str:
        sender = validate_sender(request.path_params["sender"])
        if not console.runtime.assistant.store.exists(sender):
            raise NotFound(f"no conversation {sender}")
        return sender

    async def detail(request: Request) -> Response:
        sender = _sender(request)
        state, agent_id = handoffs.state_of(sender)
        items = _items(console, sender, 0)
        return console.render(request, "conversation.html", {
            "sender": sender, "items": items, "after": items[-1]["id"] if items else 0, "state": state,
            "label": STATE_LABELS[state], "mine": state == "active" and agent_id == member_of(request).id,
            "max_reply": MAX_REPLY_CHARS, "notice": request.query_params.get("notice"),
        }, active="conversations")

    async def messages(request: Request) -> Response:
        sender = _sender(request)
        after = request.query_params.get("after", "0")
        if not after.isdigit() or int(after) > MAX_ID:
            raise BadRequest("'after' must be a message id")
        state, _ = handoffs.state_of(sender)
        return JSONResponse({"messages": _items(console, sender, int(after)), "state": state,
                             "state_label": STATE_LABELS[state]}, headers={"Cache-Control": "no-store"})

    def _back(sender: str, notice: str) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/staff/conversations/{quote(sender, safe='')}?notice={notice}", status_code=303)

    async def take_over(request: Request) -> Response:
        sender = _sender(request)
        await handoffs.take_over(sender_id=sender, agent=member_of(request))
        return _back(sender, "you+hold+this+conversation")

    async def reply(request: Request) -> Response:
        sender = _sender(request)
        text = await form_text(request, "text", limit=MAX_REPLY_CHARS, required=True)
        await handoffs.reply(sender_id=sender, agent=member_of(request), text=text)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"sent": True})
        return _back(sender, "sent")

    async def hand_back(request: Request) -> Response:
        sender = _sender(request)
        await handoffs.hand_back(sender_id=sender, agent=member_of(request))
        return _back(sender, "handed+back+to+the+assistant")

    return [
        Route("/conversations", console.page(listing), methods=["GET"]),
        Route("/conversations/{sender}", console.page(detail), methods=["GET"]),
        Route("/conversations/{sender}/messages", console.page(messages), methods=["GET"]),
        Route("/conversations/{sender}/take-over", console.page(take_over), methods=["POST"]),
        Route("/conversations/{sender}/reply", console.page(reply), methods=["POST"]),
        Route("/conversations/{sender}/hand-back", console.page(hand_back), methods=["POST"]),
    ]
