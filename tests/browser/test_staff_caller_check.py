"""Agent assist's identity check in real Chromium: no account action without answers the
system verified, and wrong answers lock the NCID exactly like the chat's check."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.accounts.demo import seed_demo_accounts
from tests.fakes.accounts import fast_hasher
from tests.fakes.staff import PASSWORD, SECRETS, start_staff_live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The demo accounts' answers (bot/accounts/demo.py), by question.
ANSWERS = {"What is the name of the street you grew up on?": "Maple",
           "What was the name of your first pet?": "Rex",
           "In what city were you born?": "Raleigh",
           "What was the make of your first car?": "Ford"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, nlu_model_path: Path) -> Iterator[tuple[str, Any]]:
    url, runtime, stop = start_staff_live_server(tmp_path_factory.mktemp("caller-check"), nlu_model_path)
    accounts = runtime.services.accounts
    accounts.directory.hasher = fast_hasher()
    accounts.identity.rng = random.Random(7)
    seed_demo_accounts(directory=accounts.directory, clock=runtime.services.clock)
    staff = runtime.services.extras["staff"].staff
    staff.hasher = fast_hasher()
    # One agent per test: a TOTP code is accepted once per user and 30-second step.
    for username in ("agent", "agent2"):
        staff.add_user(username=username, display_name="Agent Tester", role="agent", password=PASSWORD,
                       totp_secret=SECRETS["agent"])
    try:
        yield url, runtime
    finally:
        stop()


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/staff/login?next=/staff/assist")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(SECRETS["agent"]).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Agent assist")).to_be_visible()


def _ask(page: Page, ncid: str) -> tuple[str, str]:
    page.get_by_label("Caller's NCID").fill(ncid)
    page.get_by_role("button", name="Get the security questions").click()
    labels = page.locator("#verify-form label")
    expect(labels).to_have_count(2)
    first, second = labels.nth(0).inner_text(), labels.nth(1).inner_text()
    return first, second


def _answer(page: Page, first: str, second: str) -> None:
    page.locator("#answer-1").fill(first)
    page.locator("#answer-2").fill(second)
    page.get_by_role("button", name="Check the answers").click()


def _post_action(page: Page, path: str, ncid: str) -> int:
    """What a tampered page (or a script in the agent's browser) gets when it posts the action."""
    return int(page.evaluate(
        """async ([path, ncid]) => {
            const csrf = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({csrf_token: csrf, ncid: ncid});
            const response = await fetch(path, {method: 'POST', body: body});
            return response.status;
        }""", [path, ncid]))


@pytest.mark.browser
def test_no_account_action_without_verified_answers(browser: Browser, server: Any) -> None:
    url, runtime = server
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    _sign_in(page, url, "agent")
    expect(page.get_by_text("I verified this caller's identity")).to_have_count(0)  # no checkbox to tick
    expect(page.get_by_role("button", name="New activation code")).to_have_count(0)
    assert _post_action(page, "/staff/assist/activation-code", "appuser01") == 403
    assert _post_action(page, "/staff/assist/test-call", "appuser01") == 403
    assert runtime.services.phone_calls.simulator.active() == []

    # wrong answers: refused, and still no action
    first, second = _ask(page, "appuser01")
    _answer(page, ANSWERS[first], "not the answer")
    expect(page.locator("#verify-outcome")).to_contain_text("do not match")
    expect(page.get_by_role("button", name="New activation code")).to_have_count(0)
    assert _post_action(page, "/staff/assist/activation-code", "appuser01") == 403

    # the caller's real answers, checked by the system: now the actions appear and work
    _answer(page, ANSWERS[first], ANSWERS[second])
    expect(page.locator("#verified-note")).to_contain_text("appuser01")
    page.get_by_role("button", name="New activation code").click()
    code = page.locator("#activation-result code")
    expect(code).to_be_visible()
    assert code.inner_text().strip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "staff_caller_check_verified.png"), full_page=True)
    # for that caller only
    assert _post_action(page, "/staff/assist/test-call", "phoneuser01") == 403
    page.context.close()


@pytest.mark.browser
def test_wrong_answers_lock_like_the_chat(browser: Browser, server: Any) -> None:
    url, runtime = server
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    _sign_in(page, url, "agent2")
    _ask(page, "phoneuser01")
    for left in (4, 3, 2, 1):
        _answer(page, "wrong", "wrong")
        expect(page.locator("#verify-outcome")).to_contain_text(f"{left} more wrong")
    _answer(page, "wrong", "wrong")
    expect(page.locator("#verify-outcome")).to_contain_text("locked for 15 more minutes")
    expect(page.locator("#verify-form")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "staff_caller_check_locked.png"), full_page=True)
    # The right answers no longer help, and the chat's check is locked too.
    page.get_by_label("Caller's NCID").fill("phoneuser01")
    page.get_by_role("button", name="Get the security questions").click()
    expect(page.locator("#verify-outcome")).to_contain_text("locked")
    assert _post_action(page, "/staff/assist/test-call", "phoneuser01") == 403
    chat = page.request.post(f"{url}/webhooks/rest/webhook", data={"sender": "caller-1",
                                                                    "message": "call my phone to test it"})
    assert chat.ok
    chat = page.request.post(f"{url}/webhooks/rest/webhook", data={"sender": "caller-1", "message": "phoneuser01"})
    assert "identity checks for this NCID are paused" in " ".join(m.get("text") or "" for m in chat.json())
    page.context.close()
