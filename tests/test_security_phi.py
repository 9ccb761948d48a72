"""Issue 14, item 3: the PHI/PII guard finds an identifier however it is written.

Hypothesis writes each identifier type the ways a user (or a probe) might: Unicode dashes
and spaces, zero-width and soft-hyphen characters inside, full-width digits, digits spaced
out one by one, dots as separators. The guard must redact every one, in the chat, in
tickets and their acknowledgement emails, in the staff console's views and in the export."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from bot.privacy import scan
from bot.privacy.phi import normalize
from bot.storage.db import session_scope
from bot.storage.outbox import OutboxEmail
from bot.tickets.models import Ticket
from bot.tickets.service import TicketForm
from tests.fakes.staff import add_staff, sign_in

DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


@st.composite
def sprinkled(draw: st.DrawFn, text: str) -> str:
    """Invisible characters inside, and maybe full-width digits."""
    out = []
    for char in text:
        out.append(char)
        if char.isdigit() and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
    result = "".join(out)
    return result.translate(FULL_WIDTH) if draw(st.booleans()) and draw(st.booleans()) else result


def spaced(groups: list[str]) -> str:
    return " - ".join(" ".join(group) for group in groups)


@st.composite
def ssn(draw: st.DrawFn) -> tuple[str, str, str]:
    area = draw(st.integers(1, 899).filter(lambda n: n != 666))
    groups = [f"{area:03d}", f"{draw(st.integers(1, 99)):02d}", f"{draw(st.integers(1, 9999)):04d}"]
    if draw(st.integers(0, 4)) == 0:
        body = spaced(groups)
    else:
        sep = draw(st.sampled_from(DASHES + [" ", ".", "", "\u00a0"]))
        body = sep.join(groups)
    prefix = draw(st.sampled_from(["my ssn is ", "SSN ", "S S N: ", "social ", "it's "]))
    return "ssn", prefix + draw(sprinkled("".join(body))), "".join(groups)


@st.composite
def card(draw: st.DrawFn) -> tuple[str, str, str]:
    body = "4" + "".join(str(draw(st.integers(0, 9))) for _ in range(14))
    digits = body + luhn_digit(body)
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    style = draw(st.integers(0, 3))
    text = spaced([digits]) if style == 0 else draw(st.sampled_from([" ", "-", "", "\u2013"])).join(groups)
    cvv = draw(st.sampled_from(["", f" cvv {draw(st.integers(100, 999))}"]))
    written = "card " + draw(sprinkled(text)) + cvv
    return "card_number", written, digits + (f"\nre:(?i)cvv\\W*{cvv[5:]}(?!\\d)" if cvv else "")


@st.composite
def medicaid(draw: st.DrawFn) -> tuple[str, str, str]:
    digits = "".join(str(draw(st.integers(0, 9))) for _ in range(9))
    letter = draw(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    prefix = draw(st.sampled_from(["member ", "recipient id ", "medicaid id: ", "id "]))
    return "medicaid_id", prefix + draw(sprinkled(digits + letter)), digits


@st.composite
def dob(draw: st.DrawFn) -> tuple[str, str, str]:
    year, month, day = draw(st.integers(1930, 2005)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    dash = draw(st.sampled_from(DASHES))
    text = draw(st.sampled_from([
        f"{month:02d}/{day:02d}/{year}", f"{year}{dash}{month:02d}{dash}{day:02d}",
        f"{day:02d}{dash}{MONTHS[month - 1]}{dash}{year}", f"{MONTHS[month - 1]} {day}, {year}",
    ]))
    written = draw(sprinkled(text))
    # A year alone is too short to look for in a whole page: the written date, normalised, is.
    return "dob", draw(st.sampled_from(["DOB ", "date of birth: ", "born "])) + written, "re:" + re.escape(normalize(text))


@st.composite
def bank(draw: st.DrawFn) -> tuple[str, str, str]:
    digits = "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(8, 12))))
    return "bank_account", "bank account number " + draw(sprinkled(digits)), digits


@st.composite
def cvv(draw: st.DrawFn) -> tuple[str, str, str]:
    digits = str(draw(st.integers(100, 9999)))
    return ("card_security_code", draw(st.sampled_from(["cvv ", "CVC: ", "security code "])) + digits,
            f"re:(?i)(?:cvv|cvc|code)\\W*{digits}(?!\\d)")


IDENTIFIERS = st.one_of(ssn(), card(), medicaid(), dob(), bank(), cvv())


def digits_of(text: str) -> str:
    """Digits as a reader sees them: full-width and invisible characters normalised."""
    return re.sub(r"\D", "", normalize(text))


def leaked(secret: str, text: str) -> bool:
    """Whether any part of the identifier survived: its digits (8 or more of them, so a page's
    other numbers cannot match by chance), or, for short ones, the pattern "re:..." around them."""
    for part in secret.split("\n"):
        if part.startswith("re:"):
            if re.search(part[3:], normalize(text)):
                return True
        elif part in digits_of(text):
            return True
    return False


@settings(max_examples=400, deadline=None)
@given(IDENTIFIERS, st.sampled_from(["", "Hi, ", "please help: "]), st.sampled_from(["", " thanks", ". E05"]))
def test_every_variant_of_every_identifier_is_redacted(found: tuple[str, str, str], before: str, after: str) -> None:
    kind, written, secret = found
    result = scan(before + written + after)
    assert kind in result.kinds, (written, result)
    assert not leaked(secret, result.text), (written, result.text)


@pytest.mark.parametrize("text, kind", [
    ("SSN 123.45.6789", "ssn"), ("123\u200b-45-6789", "ssn"), ("4111\u200b1111\u200b1111\u200b1111", "card_number"),
    ("123\u201345\u20136789", "ssn"), ("S S N: 1 2 3 - 4 5 - 6 7 8 9", "ssn"), ("DOB 02-Jan-1980", "dob"),
    ("card 4111 1111 1111 1111 cvv 123", "card_security_code"), ("member 12345\u200b6789A", "medicaid_id"),
])
def test_the_probes_own_examples(text: str, kind: str) -> None:
    result = scan(text)
    assert kind in result.kinds and not re.search(r"\d{3}", normalize(result.text)), result


@pytest.mark.parametrize("text", ["my NPI is 1 2 3 4 5 6 7 8 9 3", "call 919\u2013555\u20130134",
                                  "version 1.2.3", "E05 at 10:42", "ticket MFA\u20117K4P\u20119QXD\u20112MWA"])
def test_normalising_does_not_invent_findings(text: str) -> None:
    assert scan(text).kinds == ()


# --- through the product ------------------------------------------------------------------
FEW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FEW
@given(found=IDENTIFIERS)
def test_chat_stores_only_the_redacted_text(client: Any, found: tuple[str, str, str]) -> None:
    kind, written, secret = found
    sender = f"phi-{abs(hash(written)) % 10**12}"
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": f"hello {written}"})
    assert reply.status_code == 200 and "For your privacy" in reply.text
    events = client.get(f"/conversations/{sender}/tracker").json()["events"]
    stored = " ".join(str(e.get("text") or "") for e in events if e["event"] == "user")
    assert "[redacted" in stored and not leaked(secret, stored)


@FEW
@given(found=IDENTIFIERS)
def test_tickets_emails_staff_views_and_exports_hold_no_identifier(client: Any, runtime: Any, clock: Any,
                                                                    found: tuple[str, str, str]) -> None:
    kind, written, secret = found
    if not getattr(client, "_phi_staff", False):
        add_staff(runtime, "supervisor")
        sign_in(client, clock, "supervisor")
        client._phi_staff = True
    form = TicketForm(npi="1234567893", phone="(919) 555-0134", ext="", last_name="Smith", first_name="Jane",
                      subject="MFA Issue", email="jane@clinic.org", message=f"Still E05. {written}")
    receipt = runtime.services.tickets.create(form=form)
    with session_scope(runtime.services.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.tracking_number == receipt.tracking_number))
        assert ticket is not None
        email = session.scalar(select(OutboxEmail).where(OutboxEmail.ticket_id == ticket.id))
        assert email is not None
        stored = [ticket.message, email.text, email.html or ""]
        ticket_id = ticket.id
    page = client.get(f"/staff/tickets/{ticket_id}")
    export = client.get("/staff/tickets.csv")
    assert page.status_code == 200 and export.status_code == 200
    for text in [*stored, page.text, export.text]:
        assert not leaked(secret, text)
