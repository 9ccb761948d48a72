"""The staff console in real Chromium: TOTP sign-in, agent assist, live handoff with the web
widget, and the supervisor's queue (filter, assign, resolve, CSV export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.accounts import fast_hasher
from tests.fakes.staff import PASSWORD, SECRETS, start_staff_live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory, nlu_model_path: Path) -> Iterator[tuple[str, Any]]:
    url, runtime, stop = start_staff_live_server(tmp_path_factory.mktemp("staff-live"), nlu_model_path)
    staff = runtime.services.extras["staff"].staff
    staff.hasher = fast_hasher()
    # One user per test: a TOTP code is accepted once per user and 30-second step.
    for username, role in (("agent", "agent"), ("handoff", "agent"), ("supervisor", "supervisor")):
        staff.add_user(username=username, display_name=f"{username.title()} Tester", role=role, password=PASSWORD,
                       totp_secret=SECRETS[role])
    try:
        yield url, runtime
    finally:
        stop()


def _staff_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()


def _sign_in(page: Page, url: str, username: str, role: str, target: str = "/staff/assist") -> None:
    page.goto(f"{url}/staff/login?next={target}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Authenticator code")).to_be_visible()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(SECRETS[role]).now())
    page.get_by_role("button", name="Sign in").click()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.browser
def test_sign_in_with_totp_and_assist_on_a_pasted_sentence(browser: Browser, console_server: Any) -> None:
    url, _ = console_server
    page = _staff_page(browser)
    page.goto(f"{url}/staff/assist")
    expect(page).to_have_url(f"{url}/staff/login?next=%2Fstaff%2Fassist")
    _sign_in(page, url, "agent", "agent")
    expect(page.get_by_role("heading", name="Agent assist")).to_be_visible()
    page.get_by_label("What the caller says").fill("She says she keeps getting error code E05 when she logs in")
    page.get_by_role("button", name="Analyse").click()
    expect(page.locator("#assist-intent")).to_contain_text("report_error")
    expect(page.locator("#assist-entities")).to_contain_text("error_code: E05")
    expect(page.locator("#assist-articles li").first).to_contain_text("E05")
    expect(page.locator("#assist-steps li").first).to_contain_text("60 minutes")
    expect(page.locator("#assist-reply")).to_contain_text("User Not Found")
    _shot(page, "staff_assist.png")
    page.context.close()


@pytest.mark.browser
def test_take_over_and_hand_back_a_web_conversation(browser: Browser, console_server: Any) -> None:
    url, _ = console_server
    agent = _staff_page(browser)
    _sign_in(agent, url, "handoff", "agent", target="/staff/conversations")
    expect(agent.get_by_role("heading", name="Live conversations")).to_be_visible()

    user = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
    user.goto(f"{url}/")
    user.fill("#chat-input", "hello")
    user.click("#chat-send")
    expect(user.locator(".msg.bot").first).to_be_visible(timeout=TIMEOUT_MS)
    sender = user.evaluate("localStorage.getItem('mfa-helpdesk-sender')")

    # The agent's list picks the new conversation up by itself.
    agent.get_by_role("link", name=sender).click(timeout=TIMEOUT_MS)
    agent.get_by_role("button", name="Take over this conversation").click()
    expect(agent.locator("#conversation-state")).to_have_text("held by an agent")
    expect(user.locator(".msg.bot", has_text="has joined this chat")).to_be_visible(timeout=TIMEOUT_MS)

    agent.get_by_label("Your reply").fill("Hi, I'm looking at your account now.")
    agent.get_by_role("button", name="Send").click()
    expect(user.locator(".msg.bot", has_text="looking at your account now")).to_be_visible(timeout=TIMEOUT_MS)

    user.fill("#chat-input", "thanks, it still says E05")
    user.click("#chat-send")
    expect(agent.locator(".transcript li.user", has_text="it still says E05")).to_be_visible(timeout=TIMEOUT_MS)
    _shot(agent, "staff_handoff_agent.png")
    _shot(user, "staff_handoff_user.png")

    agent.get_by_role("button", name="Hand back to the assistant").click()
    expect(agent.locator("#conversation-state")).to_have_text("with the assistant")
    expect(user.locator(".msg.bot", has_text="handed you back")).to_be_visible(timeout=TIMEOUT_MS)
    user.fill("#chat-input", "I got error E05")
    user.click("#chat-send")
    expect(user.locator(".msg.bot", has_text="60 minutes").last).to_be_visible(timeout=TIMEOUT_MS)
    user.context.close()
    agent.context.close()


@pytest.mark.browser
def test_filter_assign_resolve_and_export(browser: Browser, console_server: Any) -> None:
    from bot.tickets.service import TicketForm

    url, runtime = console_server
    form = TicketForm(npi="1234567893", phone="(919) 555-0134", last_name="Smith", first_name="Jane",
                      subject="MFA Issue", email="jane@clinic.org", message="still stuck")
    e05 = runtime.services.tickets.create(form=form, diagnosis={"error_code": "E05"}).tracking_number
    e06 = runtime.services.tickets.create(form=form, diagnosis={"error_code": "E06"}).tracking_number

    page = _staff_page(browser)
    _sign_in(page, url, "supervisor", "supervisor", target="/staff/tickets")
    expect(page.get_by_role("heading", name="Ticket queue")).to_be_visible()
    page.get_by_label("Error code").select_option("E06")
    page.get_by_role("button", name="Apply").click()
    table = page.locator("#ticket-table")
    expect(table).to_contain_text(e06)
    expect(table).not_to_contain_text(e05)
    _shot(page, "staff_queue_filtered.png")

    page.get_by_role("link", name=e06).click()
    page.get_by_label("Assign to").select_option(label="Supervisor Tester (supervisor)")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#ticket-assignee")).to_have_text("Supervisor Tester")
    page.get_by_label("Change status").select_option("resolved")
    page.get_by_label("Why (internal)").fill("registered after the 60-minute wait")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#ticket-status")).to_have_text("resolved")
    expect(page.locator("#ticket-history")).to_contain_text("staff:supervisor")
    _shot(page, "staff_ticket_resolved.png")

    page.goto(f"{url}/staff/tickets?status=resolved")
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["tracking_number"], r["status"], r["assignee"]) for r in rows] == [(e06, "resolved", "Supervisor Tester")]

    page.get_by_role("link", name="Insights").click()
    expect(page.locator("#tickets-chart rect")).to_have_count(2)
    _shot(page, "staff_insights.png")
    page.context.close()
