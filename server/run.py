"""Running the server: one uvicorn process, on a host/port or on a socket handed in.

The ASGI stack is chosen here, not left to whatever is installed: httptools parses HTTP and
uvloop runs the event loop (``uvicorn[standard]``); on the bare FastAPI floor they took 13-45%
less CPU per request than h11 on asyncio's own loop (bench/README.md, issue 14).
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.api import create_app
from server.db import ServerDb

HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers
MAX_HEADER_BYTES = 16 * 1024  # request line + headers; more is refused (400) and the connection closed
HTTP_PROTOCOL = "server.run:HeaderDeadline"  # for uvicorn.run(..., workers=N), which takes an import path
EVENT_LOOP = "uvloop"


class HeadersTooLarge(Exception):
    """Raised from a parser callback: httptools turns it into a parser error, uvicorn answers 400 and closes."""


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline and a size bound for each request's headers.

    uvicorn's keep-alive timer stops at the first byte, so a client sending a header line now
    and then would hold a connection for ever; here it has ``header_timeout`` seconds from the
    connection (or from the first byte after the previous answer) to finish its headers, and
    ``MAX_HEADER_BYTES`` of request line and headers.  The body's time is bounded by
    :class:`server.api.BodyLimit`.
    """

    header_timeout = HEADER_TIMEOUT
    _header_deadline: asyncio.TimerHandle | None = None
    _header_begun: float | None = None  # when the first byte of a request whose headers are not all in came
    _header_bytes = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_begun is not None and self._header_deadline is None and not self.transport.is_closing():
            # a request's headers began in this data and are not all in: their deadline runs from the first byte.
            # One whose headers came whole (nearly every one) never makes a timer (issue 14: one fewer a request)
            self._header_deadline = self.loop.call_at(self._header_begun + self.header_timeout, self._headers_too_slow)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._header_begun = self.loop.time()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._header_begun = None
        if self._header_deadline is not None:
            self._header_deadline.cancel()  # the headers are in
            self._header_deadline = None
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge(f"request headers larger than {MAX_HEADER_BYTES} bytes")

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # not in the middle of an answer
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()


def protocol_with(header_timeout: float) -> type[HeaderDeadline]:
    """The protocol class with another header deadline."""
    return type("HeaderDeadline", (HeaderDeadline,), {"header_timeout": header_timeout})


def make_server(
    db: ServerDb,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    rate: float = 50.0,
    burst: int = 100,
    log_level: str = "warning",
    tls_cert: str | None = None,
    tls_key: str | None = None,
    header_timeout: float = HEADER_TIMEOUT,
    **app_options,
) -> uvicorn.Server:
    """A uvicorn server for the API over ``db`` (not started); HTTPS when given a certificate and key."""
    config = uvicorn.Config(
        create_app(db, rate=rate, burst=burst, **app_options),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=1000,
        backlog=2048,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        http=protocol_with(header_timeout),
        loop=EVENT_LOOP,
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config)


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound, listening TCP socket (port 0: the system picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock
