"""Staff sign-in: password + TOTP, enrolment, cookies, CSRF, roles, lockout, expiry, sign-out."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from tests.fakes.staff import (PASSWORD, SECRETS, add_staff, code_for, csrf_of, password_step, sign_in)


@pytest.fixture
def agent(client: Any, runtime: Any) -> Any:
    return add_staff(runtime, "agent")


def test_anonymous_user_is_sent_to_sign_in(client: Any) -> None:
    response = client.get("/staff/tickets?status=new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Ftickets%3Fstatus%3Dnew"


def test_password_and_totp_code_sign_in(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    page = client.get("/staff/assist")
    assert page.status_code == 200
    assert "Agent Tester (agent)" in page.text


def test_session_cookie_is_signed_httponly_and_strict(client: Any, clock: Any, agent: Any) -> None:
    response = password_step(client, "agent")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/staff" in cookie
    token, _, mac = client.cookies["helpdesk_staff"].rpartition(".")
    assert token and mac


def test_forged_cookie_is_ignored(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    value = client.cookies["helpdesk_staff"]
    client.cookies.clear()
    client.cookies.set("helpdesk_staff", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303


def test_password_alone_does_not_open_the_console(client: Any, agent: Any) -> None:
    assert password_step(client, "agent").status_code == 303
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_without_saying_why(client: Any, agent: Any) -> None:
    wrong = password_step(client, "agent", "not-the-password")
    unknown = password_step(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "username or password is not right" in wrong.text
    assert "username or password is not right" in unknown.text


def test_wrong_and_replayed_codes_are_refused(client: Any, clock: Any, agent: Any) -> None:
    response = password_step(client, "agent")
    page = client.get(response.headers["location"])
    wrong = client.post("/staff/login/code", data={"code": "000000" if code_for(SECRETS["agent"], clock) != "000000"
                                                   else "111111", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401
    sign_in(client, clock, "agent")
    client.cookies.clear()
    # The same code again (same 30-second step) is refused.
    response = password_step(client, "agent")
    page = client.get(response.headers["location"])
    replay = client.post("/staff/login/code", data={"code": code_for(SECRETS["agent"], clock),
                                                    "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert replay.status_code == 401


def test_five_failures_lock_the_account_from_that_address(client: Any, clock: Any, agent: Any) -> None:
    for _ in range(5):
        assert password_step(client, "agent", "wrong-password").status_code == 401
    # Even the right password is refused from this address, with the same answer as any refusal...
    refused = password_step(client, "agent")
    assert refused.status_code == 401 and "username or password is not right" in refused.text
    assert "locked" not in refused.text
    # ...and works once the lock has run out.
    clock.advance(minutes=16)
    assert password_step(client, "agent").status_code == 303


def test_first_sign_in_enrols_an_authenticator_with_a_qr_code(client: Any, runtime: Any, clock: Any) -> None:
    add_staff(runtime, "supervisor", username="newsup", enrolled=False)
    response = password_step(client, "newsup")
    page = client.get(response.headers["location"])
    assert 'src="data:image/svg+xml' in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    done = client.post("/staff/login/code", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                                  "csrf_token": csrf_of(page.text), "next": "/staff/tickets"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/staff/tickets"
    assert client.get("/staff/tickets").status_code == 200


def test_post_without_or_with_a_wrong_csrf_token_is_refused(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    missing = client.post("/staff/assist", data={"text": "I got error E05"})
    wrong = client.post("/staff/assist", data={"text": "I got error E05", "csrf_token": "forged"})
    assert missing.status_code == wrong.status_code == 403
    cross_site = client.post("/staff/assist", data={"text": "E05", "csrf_token": csrf_of(client.get("/staff/assist").text)},
                             headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403


def test_sign_in_form_needs_its_csrf_token(client: Any, agent: Any) -> None:
    client.get("/staff/login")
    response = client.post("/staff/login", data={"username": "agent", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403


def test_idle_session_expires(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    clock.advance(minutes=29)
    assert client.get("/staff/assist", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303


def test_session_ends_after_twelve_hours_even_when_busy(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    for _ in range(int(12 * 60 / 20) - 1):
        clock.advance(minutes=20)
        assert client.get("/staff/assist", follow_redirects=False).status_code == 200
    clock.advance(minutes=21)
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(client: Any, clock: Any, agent: Any) -> None:
    csrf = sign_in(client, clock, "agent")
    cookie = client.cookies["helpdesk_staff"]
    assert client.post("/staff/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set("helpdesk_staff", cookie)
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role, status", [("agent", 403), ("supervisor", 403), ("admin", 200)])
def test_only_admins_reach_staff_accounts(client: Any, runtime: Any, clock: Any, role: str, status: int) -> None:
    add_staff(runtime, role)
    sign_in(client, clock, role)
    assert client.get("/staff/admin/users").status_code == status


def test_agents_do_not_reach_insights(client: Any, clock: Any, agent: Any) -> None:
    sign_in(client, clock, "agent")
    assert client.get("/staff/insights").status_code == 403


def test_admin_adds_a_staff_member(client: Any, runtime: Any, clock: Any) -> None:
    add_staff(runtime, "admin")
    csrf = sign_in(client, clock, "admin")
    response = client.post("/staff/admin/users", data={"csrf_token": csrf, "username": "jo", "display_name": "Jo",
                                                       "role": "agent", "password": "long-enough-pass"})
    assert response.status_code == 200 and "added jo" in response.text
    short = client.post("/staff/admin/users", data={"csrf_token": csrf, "username": "kim", "display_name": "Kim",
                                                    "role": "agent", "password": "short"})
    assert short.status_code == 400


def test_next_parameter_cannot_redirect_off_site(client: Any, clock: Any, agent: Any) -> None:
    page = client.get("/staff/login?next=//evil.example/x")
    assert 'name="next" value="/staff/"' in page.text


def test_oversized_form_gets_413(client: Any, clock: Any, agent: Any) -> None:
    csrf = sign_in(client, clock, "agent")
    response = client.post("/staff/assist", data={"csrf_token": csrf, "text": "x" * 70_000})
    assert response.status_code == 413


def test_staff_cli_adds_lists_and_prints_codes(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    import io

    from bot.cli import main

    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("HELPDESK_SECRET_KEY", "cli-test-secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-admin-password\n"))
    assert main(["staff", "add", "boss", "--role", "admin", "--name", "The Boss", "--password-stdin"]) == 0
    assert main(["staff", "list"]) == 0
    assert main(["staff", "totp", "boss"]) == 1  # no authenticator before the first sign-in
    out = capsys.readouterr().out
    assert "added boss (admin)" in out and "boss" in out and "not enrolled" in out


def test_session_expiry_is_configurable(settings: Any) -> None:
    from bot.staff.service import StaffPolicy

    assert StaffPolicy.from_raw({"idle_minutes": 5}).idle_minutes == 5
    from bot.errors import ConfigError

    with pytest.raises(ConfigError):
        StaffPolicy.from_raw({"idle_minutes": "soon"})
    assert timedelta(minutes=StaffPolicy().idle_minutes) == timedelta(minutes=30)


def test_five_wrong_codes_lock_and_the_sign_in_form_still_works(client: Any, clock: Any, agent: Any) -> None:
    response = password_step(client, "agent")
    page = client.get(response.headers["location"])
    wrong = "000000" if code_for(SECRETS["agent"], clock) != "000000" else "111111"
    for _ in range(4):
        page = client.post("/staff/login/code", data={"code": wrong, "csrf_token": csrf_of(page.text)})
        assert page.status_code == 401
    locked = client.post("/staff/login/code", data={"code": wrong, "csrf_token": csrf_of(page.text)})
    assert "locked for 15 minutes" in locked.text
    # The form shown with the lock message posts with a valid token (and is refused for the lock).
    again = client.post("/staff/login", data={"username": "agent", "password": PASSWORD,
                                              "csrf_token": csrf_of(locked.text)})
    assert again.status_code == 401 and "username or password is not right" in again.text  # issue 14: no "locked"


def test_expired_sessions_are_purged_at_sign_in(client: Any, runtime: Any, clock: Any, agent: Any) -> None:
    from sqlalchemy import func, select

    from bot.staff.models import StaffSession
    from bot.storage.db import session_scope

    sign_in(client, clock, "agent")
    clock.advance(days=2)
    password_step(client, "agent")
    with session_scope(runtime.services.sessions) as session:
        assert session.scalar(select(func.count()).select_from(StaffSession)) == 1


def test_deactivated_staff_lose_their_session_and_cannot_sign_in(client: Any, runtime: Any, clock: Any,
                                                                 agent: Any) -> None:
    add_staff(runtime, "admin")
    sign_in(client, clock, "agent")
    agent_cookie = client.cookies["helpdesk_staff"]
    client.cookies.clear()
    csrf = sign_in(client, clock, "admin")
    assert client.post(f"/staff/admin/users/{agent.id}/deactivate", data={"csrf_token": csrf}).status_code == 200
    me = runtime.services.extras["staff"].staff.by_username("admin").id
    assert client.post(f"/staff/admin/users/{me}/deactivate", data={"csrf_token": csrf}).status_code == 400
    admin_cookie = client.cookies["helpdesk_staff"]
    client.cookies.clear()
    client.cookies.set("helpdesk_staff", agent_cookie)
    assert client.get("/staff/assist", follow_redirects=False).status_code == 303
    assert password_step(client, "agent").status_code == 401
    client.cookies.clear()
    client.cookies.set("helpdesk_staff", admin_cookie)
    client.post(f"/staff/admin/users/{agent.id}/reactivate", data={"csrf_token": csrf})
    assert password_step(client, "agent").status_code == 303
