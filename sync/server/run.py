"""Running the server: one uvicorn process, on a host/port or on a socket handed in."""

from __future__ import annotations

import socket

import uvicorn

from sync.server.app import create_app
from sync.server.db import ServerDb


def make_server(db: ServerDb, *, host: str = "127.0.0.1", port: int = 8080, rate: float = 50.0,
                burst: int = 100, log_level: str = "warning", **app_options) -> uvicorn.Server:
    """A uvicorn server for the API over ``db`` (not started)."""
    config = uvicorn.Config(create_app(db, rate=rate, burst=burst, **app_options), host=host, port=port,
                            log_level=log_level, access_log=False, timeout_graceful_shutdown=5,
                            limit_concurrency=1000, backlog=2048)
    return uvicorn.Server(config)


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound, listening TCP socket (port 0: the system picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock
