"""A real HTTP endpoint that receives Stripe webhook deliveries and records them, for sandbox and
connector tests. It checks nothing itself: tests verify what it captured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.servers import free_port


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]
    status: int


class StripeWebhookReceiver:
    """Answers 200 (or what `answer(body, headers)` says) and keeps every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.answer: Callable[[bytes, dict[str, str]], int] | None = None
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.answer(body, headers) if receiver.answer else 200
                with receiver._lock:
                    receiver.deliveries.append(Delivery(body, headers, status))
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.deliveries):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"webhook deliveries never matched: {self.deliveries}")
                self._lock.wait(remaining)
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
