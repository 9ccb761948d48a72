"""GET /dev/mailbox: shows captured emails safely in development, 404 in production."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from bot.services.container import Services
from bot.tickets.service import TicketForm
from bot.tickets.views import routes
from tests.fakes import make_services
from tests.fakes.clock import FixedClock

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", category=StarletteDeprecationWarning, message="Using `httpx` with `starlette.testclient`"
    )
    from starlette.testclient import TestClient

FORM = TicketForm(npi="1234567893", phone="(919) 555-0134", last_name="<script>x</script>", first_name="Jane",
                  subject="MFA Issue", email="jane@clinic.org", message="E05")


def client_for(services: Services) -> TestClient:
    return TestClient(Starlette(routes=routes(services)))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = make_services(tmp_path, clock=FixedClock())
    yield services
    services.close()


def test_mailbox_lists_captured_emails_with_the_tracking_number(services: Services) -> None:
    receipt = services.tickets.create(form=FORM)
    response = client_for(services).get("/dev/mailbox")
    assert response.status_code == 200 and receipt.tracking_number in response.text


def test_mailbox_renders_html_bodies_in_a_sandboxed_iframe(services: Services) -> None:
    services.tickets.create(form=FORM)
    page = client_for(services).get("/dev/mailbox").text
    assert '<iframe sandbox=""' in page and "<script>" not in page


def test_mailbox_is_not_found_outside_development(tmp_path: Path) -> None:
    services = make_services(tmp_path, clock=FixedClock(), mode="production", secret_key="k" * 32,
                             api_token="t" * 32)
    try:
        assert client_for(services).get("/dev/mailbox").status_code == 404
    finally:
        services.close()
