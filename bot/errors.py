"""The engine's small error hierarchy. Each edge (HTTP, chat) maps these once."""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base class for every error the engine raises on purpose."""


class ConfigError(HelpdeskError):
    """A setting is missing or malformed; raised at start-up."""


class BadRequest(HelpdeskError):
    """The caller sent something we cannot process (HTTP 400/413/422)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class NotFound(HelpdeskError):
    """A conversation, ticket or article does not exist (HTTP 404)."""


class Unauthorized(HelpdeskError):
    """Missing or wrong API token (HTTP 401)."""


class Forbidden(HelpdeskError):
    """Authenticated but not allowed, or a forged webhook (HTTP 403)."""


class ServiceUnavailable(HelpdeskError):
    """An outside service (Twilio, SMTP, database) failed; the user gets a clear message."""


class RateLimited(HelpdeskError):
    """Too many attempts; ``retry_after`` seconds until the next one is allowed."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
