"""A real webhook receiver on loopback (tests, benchmarks): a threaded ``http.server`` that can misbehave.

``mode`` says what it answers: ``"ok"`` (204), ``"500"``, or ``"hang"`` (reads the request,
then answers nothing until its ``hang`` seconds pass or it is stopped).  ``stop()`` closes the
port and every open connection (the receiver went away); ``start()`` again listens on the same
port (it came back).  Every request is kept with whether its signature verified by
:func:`verify`, the recipe of the README, written here independently of the server's code.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The README's recipe: HMAC-SHA256 over ``id.timestamp.body`` with the base64 key after ``whsec_``."""
    msg_id, stamp, signatures = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    if not (msg_id and stamp and signatures) or abs(time.time() - int(stamp)) > tolerance:
        return False
    key = base64.b64decode(secret.strip().removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    return any(
        hmac.compare_digest(sig.split(",", 1)[1], expected) for sig in signatures.split() if sig.startswith("v1,")
    )


@dataclass
class Delivery:
    """One request the receiver got."""

    id: str
    timestamp: str
    verified: bool
    body: dict
    answered: str  # the mode it was answered in


class WebhookReceiver:
    """See the module docstring; ``ids`` counts each delivery id received and answered 2xx."""

    def __init__(self, secret: str, *, port: int = 0, delay: float = 0.0, hang: float = 60.0):
        self.secret, self.port, self.delay, self.hang = secret, port, delay, hang
        self.mode = "ok"
        self.requests: list[Delivery] = []
        self.ids: collections.Counter[str] = collections.Counter()
        self.arrivals: list[float] = []  # time.monotonic() of each request answered 2xx (benchmarks)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/rma"

    def delivered(self) -> set[str]:
        """Ids answered 2xx at least once."""
        with self._lock:
            return set(self.ids)

    def start(self) -> WebhookReceiver:
        """Listen (again, on the same port once one was chosen)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver._sockets.add(self.connection)

            def finish(self):
                with receiver._lock:
                    receiver._sockets.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = receiver.mode
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = {}
                entry = Delivery(
                    self.headers.get("webhook-id", ""),
                    self.headers.get("webhook-timestamp", ""),
                    verify(receiver.secret, self.headers, body),
                    parsed,
                    mode,
                )
                with receiver._lock:
                    receiver.requests.append(entry)
                if mode == "hang":
                    receiver._release.wait(receiver.hang)
                    self.close_connection = True
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                if mode == "500":
                    self._answer(500, b'{"error":"the ERP is down"}')
                    return
                if entry.verified:
                    with receiver._lock:
                        receiver.ids[entry.id] += 1
                        receiver.arrivals.append(time.monotonic())
                    self._answer(204, b"")
                else:
                    self._answer(401, b'{"error":"bad signature"}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a sender killed or gone mid-request: what it did not finish was not delivered

        self._release.clear()
        server = Server(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        server.allow_reuse_address = True
        server.daemon_threads = True
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.server_bind()
        server.server_activate()
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port and every connection (hanging requests end unanswered)."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            open_ones = list(self._sockets)
        for sock in open_ones:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
