"""Issue 14, item 4: abuse limits where they matter.

The attacks: file Contact Us tickets in a burst (each one an acknowledgement email to any
address); look up NCIDs' registration state without an identity check; tell real staff
names from unknown ones by the "locked" answer; lock a supervisor out from outside."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.storage.db import session_scope
from bot.storage.outbox import OutboxEmail
from tests.fakes.ticket_form import file_ticket
from bot.tickets.models import Ticket
from bot.tickets.service import TicketForm
from tests.fakes.staff import add_staff, password_step, sign_in


def form(email: str = "victim@example.org") -> TicketForm:
    return TicketForm(npi="1234567893", phone="(919) 555-0134", ext="", last_name="Smith", first_name="Jane",
                      subject="MFA Issue", email=email, message="E05 after waiting an hour.")


def counts(runtime: Any) -> tuple[int, int]:
    with session_scope(runtime.services.sessions) as session:
        return (int(session.scalar(select(func.count()).select_from(Ticket)) or 0),
                int(session.scalar(select(func.count()).select_from(OutboxEmail)) or 0))


# --- Contact Us -----------------------------------------------------------------------------
def test_a_burst_of_tickets_to_one_address_is_stopped(runtime: Any, clock: Any) -> None:
    from bot.errors import RateLimited

    tickets = runtime.services.tickets
    limit = runtime.settings.security.tickets_per_recipient_per_hour
    for index in range(limit):
        tickets.create(form=form(), sender_id=f"burst-{index}", client=f"addr:{index}")
    with pytest.raises(RateLimited) as refused:
        tickets.create(form=form(), sender_id="burst-x", client="addr:x")
    assert refused.value.retry_after > 0
    assert counts(runtime) == (limit, limit)  # no extra ticket, no extra email
    tickets.create(form=form("someone.else@example.org"), sender_id="burst-y", client="addr:y")


def test_tickets_are_limited_per_conversation_and_per_client(runtime: Any) -> None:
    from bot.errors import RateLimited

    tickets, security = runtime.services.tickets, runtime.settings.security
    for index in range(security.tickets_per_conversation_per_hour):
        tickets.create(form=form(f"a{index}@example.org"), sender_id="one-conversation", client="addr:a")
    with pytest.raises(RateLimited):
        tickets.create(form=form("new@example.org"), sender_id="one-conversation", client="addr:b")
    for index in range(security.tickets_per_client_per_hour):
        try:
            tickets.create(form=form(f"c{index}@example.org"), sender_id=f"conv-{index}", client="addr:c")
        except RateLimited:
            pytest.fail(f"refused at {index}, under the per-client limit")
    with pytest.raises(RateLimited):
        tickets.create(form=form("d@example.org"), sender_id="conv-new", client="addr:c")


def test_the_chat_says_so_politely_when_the_limit_is_reached(client: Any, runtime: Any) -> None:
    runtime.services.tickets.security = type(runtime.settings.security)(tickets_per_conversation_per_hour=1)
    sender = "contact-1"

    def say(text: str) -> str:
        reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert reply.status_code == 200
        return " ".join(str(m.get("text") or "") for m in reply.json())

    said: list[str] = []

    def file_one() -> str:
        said.clear()
        file_ticket(say=lambda text: said.append(say(text)), state=lambda: runtime.assistant.state(sender))
        return said[-1]

    assert "Inquiry Successfully Submitted" in file_one()
    with pytest.raises(AssertionError, match="without a ticket"):
        file_one()  # the form ends, refused
    assert "try again in about" in said[-1] and "Inquiry Successfully Submitted" not in said[-1]
    assert counts(runtime)[0] == 1


# --- registration status ----------------------------------------------------------------------
def status_of(client: Any, sender: str, ncid: str) -> str:
    """A new conversation asks for the status of ``ncid``."""
    client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/check_registration"})
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": ncid})
    return " ".join(str(m.get("text") or "") for m in reply.json())


def test_registration_status_reveals_no_state_before_the_identity_check(client: Any, scripted_accounts: None,
                                                                        demo_accounts: Any) -> None:
    answers = {ncid: status_of(client, f"probe-{ncid}", ncid)
               for ncid in ("newuser01", "notreg01", "disabled01", "phoneuser01", "ghost4242")}
    assert len(set(answers.values())) == 1, answers  # one answer, whatever the account's state
    assert "only after I've confirmed it's you" in answers["newuser01"]


def test_registration_status_is_told_after_the_identity_check(client: Any, scripted_accounts: None,
                                                              demo_accounts: Any) -> None:
    sender = "status-verified"
    for text in ("please place a test call to my phone", "phoneuser01", "rex", "ford"):
        client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    # The form already knows the NCID the check was passed for, so the answer comes at once.
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/check_registration"})
    assert "registered for MFA with phone calls" in reply.text


def test_registration_status_lookups_are_throttled(client: Any, runtime: Any, demo_accounts: Any) -> None:
    limit = runtime.settings.security.status_checks_per_client_per_hour
    replies = [status_of(client, f"enum-{index}", "newuser01") for index in range(limit + 1)]
    assert all("confirmed it's you" in reply for reply in replies[:limit])
    assert "try again in" in replies[-1] and "confirmed it's you" not in replies[-1]


# --- staff sign-in ---------------------------------------------------------------------------
@pytest.fixture
def outsider(runtime: Any, settings: Any) -> Iterator[TestClient]:
    from bot.app import create_app

    with TestClient(create_app(settings, runtime=runtime), client=("198.51.100.7", 5000)) as other:
        yield other


def test_sign_in_answers_alike_for_real_and_unknown_names(client: Any, runtime: Any) -> None:
    add_staff(runtime, "supervisor")
    real = [password_step(client, "supervisor", "wrong-password") for _ in range(6)]
    client.cookies.clear()
    # a fresh address for the unknown name, so the per-address throttle is not what differs
    from bot.app import create_app

    with TestClient(create_app(runtime.settings, runtime=runtime), client=("192.0.2.4", 1)) as other:
        unknown = [password_step(other, "no-such-person", "wrong-password") for _ in range(6)]
    for response in real + unknown:
        assert response.status_code == 401
        assert "locked" not in response.text.lower()
    assert {_error(r.text) for r in real} == {_error(r.text) for r in unknown}


def _error(html: str) -> str:
    import re

    match = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S)
    return match.group(1).strip() if match else html[-400:]


def test_an_outsider_cannot_lock_a_supervisor_out(client: Any, outsider: Any, runtime: Any, clock: Any) -> None:
    add_staff(runtime, "supervisor")
    for _ in range(30):
        assert password_step(outsider, "supervisor", "guess").status_code == 401
    sign_in(client, clock, "supervisor")  # the supervisor, from their own address, gets in
    assert client.get("/staff/assist", follow_redirects=False).status_code == 200


def test_one_address_is_throttled_across_every_name(outsider: Any, runtime: Any) -> None:
    add_staff(runtime, "agent")
    limit = runtime.settings.security.staff_logins_per_client_per_15_minutes
    for index in range(limit):
        password_step(outsider, f"name{index}", "guess")
    assert password_step(outsider, "agent").status_code == 401  # even the right password, now


def test_only_clients_elsewhere_are_counted_per_address() -> None:
    from starlette.requests import Request

    from bot.channels.credentials import limit_key

    def request(host: str) -> Request:
        return Request({"type": "http", "client": (host, 1), "headers": [], "method": "GET", "path": "/"})

    assert limit_key(request("127.0.0.1")) is None and limit_key(request("::1")) is None
    assert limit_key(request("203.0.113.9")) != limit_key(request("203.0.113.10"))
    assert str(limit_key(request("203.0.113.9"))).startswith("addr:")
