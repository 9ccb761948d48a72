"""Mounts the staff console under /staff and connects it to the running assistant."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.staff.console import STATIC, Console
from bot.staff.handoff import HandoffRegistry
from bot.staff.service import StaffPolicy, StaffService

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.services.container import Services


def signing_key(settings: "Settings") -> bytes:
    """Session cookies are signed with a key derived from HELPDESK_SECRET_KEY (or, in
    development without one, from the development key file the accounts package keeps)."""
    from bot.accounts.crypto import DEV_KEY_FILE, secret_box

    if settings.secret_key:
        material = settings.secret_key.encode()
    else:
        secret_box(settings)  # creates the development key file when missing; refuses in production
        material = DEV_KEY_FILE.read_bytes().strip()
    return hashlib.sha256(b"helpdesk-staff-session\x00" + material).digest()


def staff_service(services: "Services", *, hasher: PasswordHasher | None = None) -> StaffService:
    """The staff accounts service alone (CLI, demo seeding), without hooking the assistant."""
    from bot.accounts.service import _hasher

    settings = services.settings
    return StaffService(
        sessions=services.sessions, box=services.accounts.box, clock=services.clock,
        signing_key=signing_key(settings), hasher=hasher or _hasher(settings),
        policy=StaffPolicy.from_raw(settings.raw.get("staff")),
    )


def build_console(runtime: "Runtime", *, hasher: PasswordHasher | None = None) -> Console:
    """Once per app: the staff service and the handoff registry, hooked into the assistant."""
    services = runtime.services
    existing = services.extras.get("staff")
    if isinstance(existing, Console):
        return existing
    settings = services.settings
    staff = staff_service(services, hasher=hasher)
    from bot.composition import shared_state  # issue 14: sign-in throttles shared by workers

    throttle = shared_state(services).throttle
    if throttle is not None:
        staff.throttle = throttle
    staff.attempts_per_client = settings.security.staff_logins_per_client_per_15_minutes
    handoffs = HandoffRegistry(engine=services.engine, sessions=services.sessions, clock=services.clock,
                               store=runtime.assistant.store, live=runtime.live, hours=services.hours)
    runtime.assistant.handoff = handoffs
    secure = not settings.development or bool(settings.public_url and settings.public_url.startswith("https"))
    console = Console(runtime=runtime, staff=staff, handoffs=handoffs, secure_cookies=secure)
    services.extras["staff"] = console
    return console


def routes(runtime: "Runtime") -> list[BaseRoute]:
    from bot.staff import admin_views, assist_views, auth_views, insight_views, live_views, ticket_views

    console = build_console(runtime)
    inner: list[BaseRoute] = []
    inner += auth_views.routes(console)
    inner += assist_views.routes(console)
    inner += live_views.routes(console)
    inner += ticket_views.routes(console)
    inner += insight_views.routes(console)
    inner += admin_views.routes(console)
    inner.append(Mount("/static", app=StaticFiles(directory=STATIC), name="staff_static"))
    return [Mount("/staff", routes=inner)]
