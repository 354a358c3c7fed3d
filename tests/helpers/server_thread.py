"""The central server in a thread of this process, on a loopback port (tests and benchmarks)."""

from __future__ import annotations

import threading
import time

import uvicorn

from server.db import ServerDb
from server.run import listening_socket, make_server


class ServerThread:
    """The server in a thread of this process, on a loopback port (tests, benchmarks, embedding).

    ``start()`` returns once uvicorn listens; ``stop()`` shuts it down; a
    stopped server can be started again on the same port (a restart).
    """

    def __init__(self, db: ServerDb, *, host: str = "127.0.0.1", port: int = 0, **options):
        self.db, self.host, self.port, self.options = db, host, port, options
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        scheme = "https" if self.options.get("tls_cert") else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Listen (port 0 picks a free port, kept for restarts) and wait until ready."""
        sock = listening_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.server = make_server(self.db, host=self.host, port=self.port, **self.options)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"rma-server-{self.port}"
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self) -> None:
        """Stop accepting, finish or cut open requests, and wait for the thread."""
        if self.server is not None and self._thread is not None:
            self.server.should_exit = True
            self._thread.join(15)
            self._sock.close()
            self.server = self._thread = None
