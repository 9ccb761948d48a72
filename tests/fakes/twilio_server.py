"""A fake Twilio REST API on 127.0.0.1: speaks the Calls.json wire format and records
every request, so the real twilio client can be pointed at it."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-zA-Z]+)/Calls\.json$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    auth: tuple[str, str] | None

    def one(self, name: str) -> str:
        return self.form[name][0]


class FakeTwilio:
    def __init__(self, *, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[RecordedRequest] = []
        self.call_sids: list[str] = []
        self._fail: list[tuple[int, int]] = []  # (HTTP status, Twilio error code)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval keeps shutdown (each test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeTwilio":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, *, status: int = 400, code: int = 21211) -> None:
        self._fail.append((status, code))

    @property
    def calls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/Calls.json")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                auth = None
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    auth = (user, password)
                fake.requests.append(RecordedRequest("POST", self.path, form, auth))
                match = _CALLS.match(self.path)
                if match is None:
                    self._send(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                if auth != (fake.account_sid, fake.auth_token) or match["sid"] != fake.account_sid:
                    self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                if fake._fail:
                    status, code = fake._fail.pop(0)
                    self._send(status, {"code": code, "message": "refused", "status": status,
                                        "more_info": f"https://www.twilio.com/docs/errors/{code}"})
                    return
                sid = "CA" + uuid.uuid4().hex
                fake.call_sids.append(sid)
                self._send(201, {
                    "sid": sid, "account_sid": fake.account_sid, "to": form.get("To", [""])[0],
                    "from": form.get("From", [""])[0], "status": "queued", "direction": "outbound-api",
                    "api_version": "2010-04-01", "date_created": None, "date_updated": None,
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Calls/{sid}.json",
                })

        return Handler
