"""The phone simulator page answers a real test call in Chromium, and the outcome reaches
the conversation that asked for it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fakes.accounts import DEMO_ANSWERS

pytestmark = pytest.mark.browser


CREDENTIALS: dict[str, str] = {}  # issue 14: each conversation's X-Conversation-Token


def say(base: str, sender: str, text: str) -> str:
    replies = httpx.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30)
    replies.raise_for_status()
    if "X-Conversation-Token" in replies.headers:
        CREDENTIALS[sender] = replies.headers["X-Conversation-Token"]
    return "\n".join(r.get("text") or "" for r in replies.json())


def history(base: str, sender: str, **params: str) -> dict[str, list[dict[str, str]]]:
    response = httpx.get(f"{base}/conversations/{sender}/messages", params=params,
                         headers={"X-Conversation-Token": CREDENTIALS.get(sender, "")})
    response.raise_for_status()
    return dict(response.json())


def answer_for(reply: str) -> str:
    return next(answer for question, answer in DEMO_ANSWERS.items() if question in reply)


def test_simulator_answers_a_test_call_and_pound_confirms(page: Page, live_server_url: str) -> None:
    sender = f"browser-{uuid.uuid4().hex[:8]}"
    assert "NCID" in say(live_server_url, sender, "can you call my phone to test it")
    first = say(live_server_url, sender, "phoneuser01")
    second = say(live_server_url, sender, answer_for(first))
    placed = say(live_server_url, sender, answer_for(second))
    assert "Calling your primary number" in placed

    page.goto(f"{live_server_url}/dev/phone")
    ringing = page.locator("li.call.ringing").filter(has_text="+19195550101")
    expect(ringing).to_be_visible()
    call = page.locator(f'li.call[data-sid="{ringing.get_attribute("data-sid")}"]')
    after = max(m["id"] for m in history(live_server_url, sender)["messages"])
    call.get_by_role("button", name="Answer", exact=True).click()
    expect(call.locator(".say")).to_contain_text("press the pound key")
    call.get_by_role("button", name="Key #").click()
    expect(call.locator(".state")).to_have_text("Call ended")
    expect(call.locator(".say")).to_contain_text("Your phone is confirmed")

    pushed = history(live_server_url, sender, after=str(after))
    assert any("Test call confirmed" in (m.get("text") or "") for m in pushed["messages"])
