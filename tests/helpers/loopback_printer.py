"""A ZPL printer on 127.0.0.1 for tests, benchmarks and trying the station without hardware.

It is a real listening socket that behaves like a Zebra printer on port
9100: it answers ``~HS`` with the three host-status strings (paper out, head
open and paused flags as set on it) and keeps every job it receives.  Two
unfriendly variants stand in for broken printers: ``answers=False`` accepts
connections and never says a word, and :func:`refusing_url` names a port
nobody listens on.  ``formats_in_buffer`` and ``labels_remaining`` are what it
reports as still to print: a liar keeps them up; with ``drains`` they go down
by one at each ``~HS``, as a printer working through its buffer.

    with LoopbackPrinter() as printer:
        open_printer(printer.url).print(zpl, "zpl")
        printer.jobs  # [zpl]
"""

from __future__ import annotations

import socket
import threading
import time


class Listener:
    """A listening socket on 127.0.0.1 serving each connection in a thread of its own (``_serve``).

    The printers of the tests (this module's, and the misbehaving ones of
    tests/labels/test_printers.py) are subclasses; ``close()`` ends them all.
    """

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name=type(self).__name__, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop listening and end every connection."""
        self._stop.set()
        self._server.close()
        self._accepting.join(2)
        for worker in self._threads:
            worker.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LoopbackPrinter(Listener):
    """A listening socket on 127.0.0.1 that answers ``~HS`` and collects the jobs sent to it."""

    def __init__(self, *, answers: bool = True, paper_out: bool = False, head_open: bool = False, paused: bool = False):
        self.answers = answers
        self.paper_out, self.head_open, self.paused = paper_out, head_open, paused
        self.formats_in_buffer = self.labels_remaining = 0
        self.drains = False
        self.jobs: list[bytes] = []
        self.status_requests = 0
        self.slow_answers: list[float] = []  # seconds to hold back the next ~HS answers (read when asked)
        self._lock = threading.Lock()
        self._received = threading.Condition(self._lock)
        super().__init__()

    def host_status(self) -> bytes:
        """The ``~HS`` answer for the current flags (and, draining, one step through the buffer)."""
        answer = host_status_answer(
            paper_out=self.paper_out,
            head_open=self.head_open,
            paused=self.paused,
            formats=self.formats_in_buffer,
            labels_remaining=self.labels_remaining,
        )
        if self.drains:
            self.formats_in_buffer = max(0, self.formats_in_buffer - 1)
            self.labels_remaining = max(0, self.labels_remaining - 1)
        return answer

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                while self.answers and b"~HS" in data:  # a control command: answered at once, not printed
                    data = data.replace(b"~HS", b"", 1)
                    with self._lock:
                        self.status_requests += 1
                        hold = self.slow_answers.pop(0) if self.slow_answers else 0.0
                        answer = self.host_status()
                    time.sleep(hold)  # the answer says the state when asked, however late it comes
                    try:
                        conn.sendall(answer)
                    except OSError:
                        break
        if data.strip() and self.answers:
            with self._received:
                self.jobs.append(data)
                self._received.notify_all()

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """Block until ``count`` jobs arrived (or the timeout passed); returns the jobs."""
        with self._received:
            self._received.wait_for(lambda: len(self.jobs) >= count, timeout)
            return list(self.jobs)


def host_status_answer(
    *,
    paper_out: bool = False,
    head_open: bool = False,
    paused: bool = False,
    formats: int = 0,
    labels_remaining: int = 0,
    partial: bool = False,
) -> bytes:
    """A ``~HS`` answer as a Zebra frames it: three ``<STX>...<ETX><CR><LF>`` strings."""
    flag = lambda on: "1" if on else "0"  # noqa: E731
    return (
        f"\x02030,{flag(paper_out)},{flag(paused)},1218,{formats:03d},0,0,{flag(partial)},000,0,0,0\x03\r\n"
        f"\x02001,0,{flag(head_open)},0,0,2,6,0,{labels_remaining:08d},1,000\x03\r\n"
        f"\x021234,0\x03\r\n"
    ).encode("ascii")


def refusing_url() -> str:
    """A ``tcp://`` URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"
