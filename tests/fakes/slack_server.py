"""A fake Slack Web API on 127.0.0.1 that speaks the real wire protocol and records every call.

The real ``slack_sdk`` client is pointed at it with ``base_url=f"{server.url}/api/"``. It also
takes the file bytes of the external-upload flow (``/upload/<file id>``) and the posts to
slash-command ``response_url``s (``/response/<id>``), like Slack's own hosts would.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs

BOT_USER = "UBOT"
TEAM = "T0TEAM"
_JSON_FIELDS = ("blocks", "attachments", "files", "view", "metadata")


@dataclass
class Call:
    method: str  # "chat.postMessage", "upload", "response"...
    params: dict[str, Any]
    token: str | None = None
    path: str = ""
    raw: bytes = b""
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeSlack:
    tokens: set[str] = field(default_factory=lambda: {"xoxb-test-token"})
    client_id: str = "111.222"
    client_secret: str = "fake-client-secret"
    calls: list[Call] = field(default_factory=list)
    expired_triggers: set[str] = field(default_factory=set)
    app_token: str = "xapp-test-token"
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> how many calls get 429 first
    refused: dict[str, str] = field(default_factory=dict)  # method -> the error it answers with
    socket_url: str = ""  # where apps.connections.open sends Socket Mode clients
    url: str = ""
    _ts: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    # ---------------------------------------------------------------- queries
    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0,
                 where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Blocks until ``count`` matching calls have arrived (the app posts from lazy listeners)."""
        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} {method} call(s), got {len(matching())}: "
                                     f"{[c.method for c in self.calls]}")
            return matching()

    def posted_texts(self, channel: str | None = None) -> list[str]:
        return [str(c.params.get("text") or "") for c in self.of("chat.postMessage")
                if channel is None or c.params.get("channel") == channel]

    # ---------------------------------------------------------------- answers
    def _next_ts(self) -> str:
        self._ts += 1
        return f"1764350000.{self._ts:06d}"

    def answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "oauth.v2.access":
            if (params.get("client_id"), params.get("client_secret")) != (self.client_id, self.client_secret):
                return {"ok": False, "error": "invalid_client_id"}
            if params.get("code") != "good-code":
                return {"ok": False, "error": "invalid_code"}
            self.tokens.add("xoxb-installed-token")
            return {"ok": True, "access_token": "xoxb-installed-token", "token_type": "bot",
                    "scope": "chat:write,commands,im:write", "bot_user_id": "UBOT2", "app_id": "A0APP",
                    "team": {"id": "T0OTHER", "name": "Other Team"}, "enterprise": None,
                    "is_enterprise_install": False, "authed_user": {"id": "U0INSTALLER"}}
        if method == "apps.connections.open":
            if token != self.app_token or not self.socket_url:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": self.socket_url}
        if token not in self.tokens:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        if method in self.refused:
            return {"ok": False, "error": self.refused[method]}
        if method == "auth.test":
            team = "T0OTHER" if token == "xoxb-installed-token" else TEAM
            bot_user = "UBOT2" if token == "xoxb-installed-token" else BOT_USER
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "helpdesk",
                    "team_id": team, "user_id": bot_user, "bot_id": "B0BOT", "is_enterprise_install": False}
        if method == "chat.postMessage":
            if not params.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            ts = self._next_ts()
            message = {"type": "message", "ts": ts, "text": params.get("text"), "blocks": params.get("blocks"),
                       "user": BOT_USER, "bot_id": "B0BOT"}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X")).lstrip("U")}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{self._next_ts().replace('.', '')[-6:]}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method == "views.open":
            if params.get("trigger_id") in self.expired_triggers:
                return {"ok": False, "error": "expired_trigger_id"}
            return {"ok": True, "view": {"id": "V0VIEW", **(params.get("view") or {})}}
        return {"ok": False, "error": "unknown_method"}

    # ----------------------------------------------------------------- server
    def record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in content_type:
        value = json.loads(body)
        return value if isinstance(value, dict) else {}
    return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    # The client sends blocks/files as JSON text in form fields and query strings.
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str) and params[key][:1] in "[{":
            params[key] = json.loads(params[key])
    return params


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: dict[str, Any] | str) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            if path.startswith("/upload/"):
                fake.record(Call("upload", {"file_id": path.rsplit("/", 1)[1]}, path=path, raw=body))
                return self._reply(200, "OK - 1")
            if path.startswith("/response/"):
                fake.record(Call("response", json.loads(body or b"{}"), path=path, raw=body))
                return self._reply(200, "ok")
            if not path.startswith("/api/"):
                return self._reply(404, {"ok": False, "error": "not_found"})
            method = path.removeprefix("/api/")
            query = self.path.partition("?")[2]
            params = _decode_json_fields({**{k: v[-1] for k, v in parse_qs(query).items()},
                                          **_params(body, self.headers.get("Content-Type") or "")})
            auth = self.headers.get("Authorization") or ""
            token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
            if method == "oauth.v2.access" and auth.startswith("Basic "):
                import base64

                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                params = {**params, "client_id": cid, "client_secret": secret}
            with fake._cond:
                if fake.rate_limited.get(method, 0) > 0:
                    fake.rate_limited[method] -= 1
                    fake.record(Call(method, params, token=token, path=path, raw=body,
                                     response={"ok": False, "error": "ratelimited"}))
                    data = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                answer = fake.answer(method, params, token)
                fake.record(Call(method, params, token=token, path=path, raw=body, response=answer))
            self._reply(200, answer)

    return Handler


def start_fake_slack(**kwargs: Any) -> tuple[FakeSlack, Callable[[], None]]:
    fake = FakeSlack(**kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return fake, stop


def fake_slack_fixture() -> Iterator[FakeSlack]:
    fake, stop = start_fake_slack()
    try:
        yield fake
    finally:
        stop()
