"""An HTTP/1.1 proxy on loopback that writes down every request it forwards, and can answer slowly.

The sync tests count what a station really sent over a real socket — how many
pushes, how many events in each — and make the server's answers slow without
touching the server: the proxy forwards each request at once and holds the
server's answer back for ``delay(request)`` seconds before passing it on; then
it calls ``after(request)``, so a test can act at a known point of the exchange.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """One request as the proxy saw it."""

    number: int  # 0, 1, 2 ... in order of arrival
    method: str
    path: str  # without the query string
    events: int  # how many events a POST /events carried (0 for any other request)


class RecordingProxy:
    """Forward requests to ``upstream_port``; keep a list of them; delay answers by ``delay(request)`` seconds.

    ``after(request)`` is called once each answer has been passed on.
    """

    def __init__(self, upstream_port: int, delay=None, after=None):
        self.upstream_port = upstream_port
        self.delay = delay or (lambda request: 0.0)
        self.after = after or (lambda request: None)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._clients: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True, name=f"recording-proxy-{self.port}")
        self._accepter.start()

    @property
    def url(self) -> str:
        """The proxy's base URL (give it to the station as its server)."""
        return f"http://127.0.0.1:{self.port}"

    def pushes(self) -> list[Request]:
        """The POST /events requests so far, in order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/events")]

    def count(self, method: str, path_end: str) -> int:
        """How many requests of this method whose path ends so arrived."""
        with self._lock:
            return sum(1 for r in self.requests if r.method == method and r.path.endswith(path_end))

    def close(self) -> None:
        """Stop accepting and cut open connections."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        for client in list(self._clients):
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        self._accepter.join(5)
        for t in self._threads:
            t.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._clients.append(client)
            t = threading.Thread(target=self._connection, args=(client,), daemon=True)
            self._threads.append(t)
            t.start()

    def _connection(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        upstream = None
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            answers = upstream.makefile("rb")
            while not self._stop.is_set():
                message = read_message(reader)
                if message is None:
                    return
                head, body = message
                request = self._note(head, body)
                upstream.sendall(head + body)
                answer = read_message(answers)
                if answer is None:
                    return
                wait = self.delay(request)
                if wait and self._stop.wait(wait):
                    return
                client.sendall(answer[0] + answer[1])
                self.after(request)
        except OSError:
            return
        finally:
            reader.close()
            client.close()
            if upstream is not None:
                upstream.close()

    def _note(self, head: bytes, body: bytes) -> Request:
        method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
        path = target.split("?", 1)[0]
        events = 0
        if method == "POST" and path.endswith("/events"):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                events = len(json.loads(body)["events"])
        with self._lock:
            request = Request(len(self.requests), method, path, events)
            self.requests.append(request)
        return request


def read_message(reader) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 message (head, Content-Length body) from a socket file, or None at end of stream."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head, (reader.read(length) if length else b"")
