"""Real receivers on loopback for Apprise: a JSON webhook (``json://``) and an SMTP server (``mailto://``)."""

from __future__ import annotations

import email
import email.header
import json
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.net import free_port


class WebhookReceiver:
    """Records every JSON body posted to it; answers 503 while ``failing``."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.time() of each post kept (benchmarks.alerts times them)
        self.refused = 0
        self.failing = False
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.failing:
                    with receiver._lock:
                        receiver.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.posts.append(json.loads(body))
                    receiver.arrived.append(time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/alertas"

    def titles(self) -> list[str]:
        with self._lock:
            return [str(p.get("title", "")) for p in self.posts]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SmtpReceiver:
    """An SMTP server that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = free_port()
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=alertas@empresa.bo&to=supervisor@empresa.bo"

    def subjects(self) -> list[str]:
        return [str(email.header.make_header(email.header.decode_header(m["Subject"]))) for m in list(self.messages)]

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class SilentSmtp:
    """A TCP server that accepts connections and never says a word: an SMTP server that never greets."""

    def __init__(self) -> None:
        import socket

        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.accepted: list[Any] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:  # closed
                return
            self.accepted.append(conn)  # held open, silent

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=alertas@empresa.bo&to=mudo@empresa.bo"

    def __enter__(self) -> SilentSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
        for conn in self.accepted:
            conn.close()


class HttpCapture:
    """What Apprise would POST to a cloud service (Slack, Telegram), caught at requests' transport: each
    request is recorded and answered as the service would accept it, and nothing leaves the machine."""

    def __init__(self, monkeypatch: Any) -> None:
        import requests
        from requests.models import Response

        self.requests: list[Any] = []

        def send(adapter: Any, request: Any, **kwargs: Any) -> Response:
            self.requests.append(request)
            response = Response()
            response.status_code = 200
            response.request, response.url = request, request.url
            if "hooks.slack.com" in request.url:
                response._content = b"ok"
            else:
                response._content = b'{"ok": true, "result": {"message_id": 1}}'
                response.headers["Content-Type"] = "application/json"
            return response

        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)

    def json_to(self, host: str) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if host in r.url]
