"""Issue 14: who may continue a conversation, read its history and be its verified session.

A sender id is a name, not a secret. So:

- The first turn of a new conversation returns a *conversation credential* (an HMAC of the
  sender id under the server's secret key) in the ``X-Conversation-Token`` reply header. The
  web widget keeps it beside the sender id and sends it with every turn, with the history
  request and (as ``?credential=``, EventSource cannot send headers) with the live stream.
- A conversation started anywhere but the plain REST channel (the web widget, Slack, ...)
  takes further REST turns only with its credential or the API token. A plain REST
  conversation stays open to {sender, message}, as Rasa's is, for tools that never read a
  header; what such a caller cannot get is another session's identity check or history.
- The *session* a turn belongs to goes into its metadata, set here and never by the caller:
  ``credential`` (the holder of the conversation's credential), ``api`` (a client with the
  API token) or ``anon:<digest of the client address>``. An identity check holds only for
  the session that passed it (bot.accounts.identity).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections import OrderedDict
from typing import TYPE_CHECKING

from starlette.requests import Request

from bot.accounts.crypto import SecretBox, secret_box
from bot.storage.tracker_store import SqlTrackerStore

if TYPE_CHECKING:
    from bot.runtime import Runtime

HEADER = "X-Conversation-Token"
QUERY = "credential"
OPEN_CHANNEL = "rest"  # conversations this channel started take turns without a credential
_CACHE = 20_000


class ConversationGuard:
    def __init__(self, *, box: SecretBox, store: SqlTrackerStore, api_token: str | None) -> None:
        self._box, self._store, self._api_token = box, store, api_token
        # A conversation's first channel never changes: remembered, so a turn costs no query.
        self._owners: OrderedDict[str, str] = OrderedDict()

    def credential(self, sender_id: str) -> str:
        return self._box.sign(f"conversation:{sender_id}")

    def holds_credential(self, request: Request, sender_id: str) -> bool:
        given = request.headers.get(HEADER) or ""
        if not given and request.scope.get("query_string"):  # the stream's ?credential=; parsed only then
            given = request.query_params.get(QUERY) or ""
        return bool(given) and self._box.verify(f"conversation:{sender_id}", given)

    def api_client(self, request: Request) -> bool:
        if not self._api_token:
            return False
        auth = request.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), self._api_token.encode())

    def owner(self, sender_id: str) -> str | None:
        """The channel that started the conversation; None while there is none."""
        known = self._owners.get(sender_id)
        if known is not None:
            return known
        channel = self._store.channel_of(sender_id)
        if channel is not None:
            self.remember(sender_id, channel)
        return channel

    def remember(self, sender_id: str, channel: str) -> None:
        self._owners[sender_id] = channel
        if len(self._owners) > _CACHE:
            self._owners.popitem(last=False)

    def session(self, request: Request, sender_id: str) -> str:
        if self.api_client(request):
            return "api"
        if self.holds_credential(request, sender_id):
            return "credential"
        return "anon:" + client_key(request)

    def may_read(self, request: Request, sender_id: str) -> bool:
        """History and the live stream: the credential's holder or an API client."""
        return self.holds_credential(request, sender_id) or self.api_client(request)


def client_key(request: Request) -> str:
    """A digest of the client's address: what per-client limits and anonymous sessions key on
    (behind a proxy, run uvicorn with --proxy-headers so this is the real client)."""
    return _digest(request.client.host if request.client else "-")


def limit_key(request: Request) -> str | None:
    """What per-client abuse limits count by, or None for a client on this machine (tools,
    the evaluation runner, health checks), which only the other limits apply to. Behind a
    proxy on the same host, run uvicorn with --proxy-headers, else every client looks local."""
    host = request.client.host if request.client else "-"
    return None if _loopback(host) else "addr:" + _digest(host)


# A turn costs no hashing or address parsing for a client seen recently.
@functools.lru_cache(maxsize=4096)
def _digest(host: str) -> str:
    return hashlib.sha256(f"client:{host}".encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=4096)
def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # not an address (e.g. a test client's name): counted like any other


def conversation_guard(runtime: "Runtime") -> ConversationGuard:
    """One guard per runtime, shared by the REST and web routes."""
    guard = runtime.services.extras.get("conversation_guard")
    if guard is None:
        accounts = runtime.services.accounts
        box = accounts.box if accounts is not None else secret_box(runtime.settings)
        guard = ConversationGuard(box=box, store=runtime.assistant.store, api_token=runtime.settings.api_token)
        runtime.services.extras["conversation_guard"] = guard
    assert isinstance(guard, ConversationGuard)
    return guard
