"""The web chat widget in real Chromium against the live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "test-artifacts" / "widget.png"
# The first turn may wait for the NLU model to load.
REPLY_TIMEOUT_MS = 20_000


@pytest.mark.browser
def test_conversation_survives_reload(page: Page, live_server_url: str) -> None:
    page.goto(f"{live_server_url}/")
    page.fill("#chat-input", "I got error E05")
    page.click("#chat-send")

    e05_answer = page.locator(".msg.bot", has_text="60 minutes").first
    expect(e05_answer).to_be_visible(timeout=REPLY_TIMEOUT_MS)

    # Only the newest choices are enabled, so the first enabled one belongs to it.
    bot_messages = page.locator(".msg.bot")
    replies_before = bot_messages.count()
    choice = page.locator(".msg.bot .buttons button:enabled").first
    expect(choice).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    choice_title = choice.inner_text()
    choice.click()
    expect(page.locator(".msg.user").last).to_contain_text(choice_title)
    expect(bot_messages.nth(replies_before)).to_be_visible(timeout=REPLY_TIMEOUT_MS)

    page.reload()
    expect(page.locator(".msg.user", has_text="I got error E05").first).to_be_visible(
        timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator(".msg.bot", has_text="60 minutes").first).to_be_visible()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


@pytest.mark.browser
def test_enter_in_the_input_sends_and_the_reply_is_announced(
    page: Page, live_server_url: str
) -> None:
    page.goto(f"{live_server_url}/")
    log = page.locator("#chat-log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")

    chat_input = page.locator("#chat-input")
    chat_input.focus()
    page.keyboard.type("Call center")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("hours")
    expect(chat_input).to_have_value("Call center\nhours")
    page.keyboard.press("Enter")

    expect(page.locator(".msg.user").first).to_contain_text("hours")
    expect(log.locator(".msg.bot").first).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(chat_input).to_have_value("")
    expect(chat_input).to_be_focused()


@pytest.mark.browser
def test_a_sender_id_without_its_credential_shows_nothing_and_starts_afresh(page: Page, live_server_url: str) -> None:
    """Issue 14: someone else's sender id in this browser's storage reveals nothing of their
    conversation; the widget goes on in a new conversation of its own."""
    import httpx

    victim = "browser-victim-1"
    started = httpx.post(f"{live_server_url}/webhooks/rest/webhook",
                         json={"sender": victim, "message": "my secret note E06", "metadata": {"channel": "web"}})
    assert started.status_code == 200 and started.headers["X-Conversation-Token"]
    page.goto(f"{live_server_url}/")
    page.evaluate(f"localStorage.setItem('mfa-helpdesk-sender', '{victim}'); "
                  "localStorage.removeItem('mfa-helpdesk-credential')")
    page.reload()
    expect(page.locator(".msg.welcome")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".msg", has_text="my secret note")).to_have_count(0)
    page.fill("#chat-input", "Call center hours")
    page.click("#chat-send")
    expect(page.locator(".msg.bot", has_text="8").first).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("localStorage.getItem('mfa-helpdesk-sender')") != victim
    assert page.evaluate("localStorage.getItem('mfa-helpdesk-credential')")
