"""Running the server: one uvicorn process, on a host/port or on a socket handed in."""

from __future__ import annotations

import asyncio
import socket

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.api import create_app
from server.db import ServerDb

HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request's headers.

    uvicorn's keep-alive timer stops at the first byte, so a client sending a header line now
    and then would hold a connection for ever; here it has ``header_timeout`` seconds from the
    connection (or from the first byte after the previous answer) to finish its headers.
    Header size is bounded by h11 (16 KiB); the body's time by :class:`server.api.BodyLimit`.
    """

    header_timeout = HEADER_TIMEOUT
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self._header_deadline is not None:
            self._header_deadline.cancel()  # the headers are in
            self._header_deadline = None

    def connection_lost(self, exc) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
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
