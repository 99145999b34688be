"""A recording HTTP proxy in front of moto's server for IAM and STS (query protocol: POST with a
form body naming the `Action`): the converter talks to moto's real IAM, and the test reads which
operations it called. Nothing is answered here; every request goes to moto as it came."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

#: what changes IAM (the operations deploy --create-roles may call, and the others of the kind)
MUTATING = frozenset({"CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRole", "DeleteRolePolicy",
                      "AttachRolePolicy", "DetachRolePolicy", "TagRole", "UntagRole", "UpdateRole"})


class IamProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.actions: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "IamProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def mutating_calls(self) -> list[str]:
        with self.lock:
            return [a for a in self.actions if a in MUTATING]

    def clear(self) -> None:
        with self.lock:
            self.actions.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
                with proxy.lock:
                    proxy.actions.append(action)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - 127.0.0.1 only
                        status, answer, kind = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as error:
                    status, answer, kind = error.code, error.read(), error.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", kind or "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
