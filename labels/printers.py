"""Where labels go: a thermal printer on the network, a CUPS queue, or a file.

A printer is named by a URL, as in the station's config file:

- ``tcp://HOST[:PORT]`` — raw ZPL over a socket (port 9100 by default).  Before
  each job the printer is asked ``~HS`` (host status) on the same connection;
  paper out, head open or paused means "not ready" and the job is not sent,
  and so does no answer within the timeout.  After the job it is asked ``~HS``
  again until it reports no format in its receive buffer, no partial format
  and no label left in the batch: only then did it print.  No answer, a closed
  or reset connection, or a buffer that does not go down within the timeout is
  a :class:`PrinterError` — the bytes left us, but nobody confirmed a label.
- ``cups:QUEUE`` — through ``lp -d QUEUE``: ZPL raw (``-o raw``), PDF as a
  document; done when CUPS answers with a request id (CUPS keeps the job).
- ``file:PATH`` — ZPL is appended (a spool a person can read or ``cat`` to a
  printer); PDF, PNG and SVG replace the file.

Any of them takes ``?dpi=300`` for a 300-dpi head (203 is the default) and
``?timeout=SECONDS`` for how long to wait on the printer (5 by default).

Every failure is a :class:`PrinterError` whose message says what happened and
what to do; nothing here retries — the station's print queue does that.
All calls block (sockets, subprocesses): call them from a thread, never from
the station's event loop.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from gettext import gettext as _
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 5.0
STX, ETX = b"\x02", b"\x03"


class PrinterError(Exception):
    """The printer cannot take the job now; the message is for a person."""


class PrinterNotReady(PrinterError):
    """The printer answered, and said it cannot print (paper out, head open, paused)."""


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer says about itself: ready, or the problem in a few words."""

    ready: bool
    problem: str = ""
    formats: int = 0  # ~HS string 1, field eee: formats in the receive buffer, not yet processed
    labels_remaining: int = 0  # ~HS string 2, field uuuuuuuu: labels remaining in the batch being printed
    partial: bool = False  # ~HS string 1, field h: a partial format in progress

    @property
    def work_left(self) -> int:
        """Formats and labels the printer still holds (0: everything it was sent is printed)."""
        return self.formats + self.labels_remaining + int(self.partial)

    def __str__(self) -> str:
        return _("ready") if self.ready else (self.problem or _("not ready"))


class Printer:
    """A place labels go.  Subclasses say which formats they take (the first is preferred)."""

    formats: tuple[str, ...] = ()

    def __init__(self, url: str, dpi: int = 203, timeout: float = DEFAULT_TIMEOUT):
        self.url = url
        self.dpi = dpi
        self.timeout = timeout

    @property
    def format(self) -> str:
        """The format this printer is sent when nobody chooses."""
        return self.formats[0]

    def check_format(self, fmt: str) -> None:
        """Refuse a format this printer cannot print."""
        if fmt not in self.formats:
            raise PrinterError(
                _("{url} prints {formats}, not {fmt}").format(url=self.url, formats=" or ".join(self.formats), fmt=fmt)
            )

    def status(self) -> PrinterStatus:
        """Ask the printer whether it can print now."""
        return PrinterStatus(True)

    def print(self, data: bytes, fmt: str) -> None:
        """Send one job; raises :class:`PrinterError` if it did not reach the printer."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url} {self.dpi}dpi>"


# --- raw TCP (port 9100) ----------------------------------------------------------


def parse_host_status(answer: bytes) -> PrinterStatus:
    """Read a ``~HS`` answer: three ``<STX>...<ETX><CR><LF>`` strings of comma-separated flags.

    String 1 ``aaa,b,c,dddd,eee,f,g,h,...``: b = paper out, c = paused, eee =
    formats in the receive buffer, h = partial format in progress.  String 2
    ``mmm,n,o,p,q,r,s,t,uuuuuuuu,...``: o = head up (open), uuuuuuuu = labels
    remaining in the batch (Zebra ZPL II Programming Guide, ``~HS``).
    """
    strings = [
        part.strip(b"\r\n").lstrip(STX).decode("ascii", "replace") for part in answer.split(ETX) if part.strip(b"\r\n")
    ]
    if len(strings) < 2:
        return PrinterStatus(False, _("not answering"))
    first, second = strings[0].split(","), strings[1].split(",")
    if len(first) < 3 or len(second) < 3:
        return PrinterStatus(False, _("status not understood"))
    problems = [
        name
        for flag, name in ((first[1], _("paper out")), (second[2], _("head open")), (first[2], _("paused")))
        if flag.strip() == "1"
    ]
    return PrinterStatus(
        not problems,
        ", ".join(problems),
        formats=_count(first, 4),
        labels_remaining=_count(second, 8),
        partial=_count(first, 7) == 1,
    )


def _count(fields: list[str], index: int) -> int:
    """A number field of a ``~HS`` string (0 when the printer leaves it out)."""
    try:
        return int(fields[index].strip())
    except (IndexError, ValueError):
        return 0


class TcpPrinter(Printer):
    """A ZPL printer on the network, raw socket (usually port 9100)."""

    formats = ("zpl",)

    def __init__(self, url: str, host: str, port: int, dpi: int = 203, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(url, dpi, timeout)
        self.host, self.port = host, port

    def _connect(self) -> socket.socket:
        try:
            conn = socket.create_connection((self.host, self.port), timeout=self.timeout)
            # the ~HS after a job is three bytes: sent at once, not held back for the job's ACK (Nagle)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn
        except ConnectionRefusedError:
            raise PrinterError(
                _("printer {url} refused the connection (is it on, is the port right?)").format(url=self.url)
            ) from None
        except TimeoutError:
            raise PrinterError(
                _("printer {url} did not answer within {timeout:g} s").format(url=self.url, timeout=self.timeout)
            ) from None
        except OSError as exc:
            raise PrinterError(
                _("cannot reach printer {url}: {error}").format(url=self.url, error=exc.strerror or exc)
            ) from None

    def _ask_status(self, conn: socket.socket, *, after_job: bool = False) -> PrinterStatus:
        conn.sendall(b"~HS")
        answer = b""
        deadline = time.monotonic() + self.timeout
        while answer.count(ETX) < 3:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            try:
                chunk = conn.recv(1024)
            except TimeoutError:
                break
            if not chunk:
                if after_job:
                    raise PrinterError(
                        _("printer {url} closed the connection before confirming the label").format(url=self.url)
                    )
                break
            answer += chunk
        status = parse_host_status(answer)
        if status.problem == _("not answering"):
            return PrinterStatus(
                False, _("not answering (no status within {timeout:g} s)").format(timeout=self.timeout)
            )
        return status

    def _confirm(self, conn: socket.socket) -> None:
        """After a job: ask ``~HS`` until the printer holds no format and no label, or give up.

        A printer working through its buffer (the counts go down) is given
        the timeout again after each step; one whose counts stand still for
        the timeout did not print what it was sent.
        """
        deadline = time.monotonic() + self.timeout
        pause, left_before = 0.01, None
        while True:
            status = self._ask_status(conn, after_job=True)
            if not status.ready:
                raise PrinterError(
                    _("printer {url} did not confirm the label: {status}").format(url=self.url, status=status)
                )
            if status.work_left == 0:
                return
            now = time.monotonic()
            if left_before is None or status.work_left < left_before:
                deadline = now + self.timeout  # progress: it is printing
            left_before = status.work_left
            if now >= deadline:
                raise PrinterError(
                    _(
                        "printer {url} did not confirm the label: still {formats} format(s) in its buffer, "
                        "{labels_remaining} label(s) left after {timeout:g} s"
                    ).format(
                        url=self.url,
                        formats=status.formats,
                        labels_remaining=status.labels_remaining,
                        timeout=self.timeout,
                    )
                )
            time.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(pause * 2, 0.5)

    def _read_to_close(self, conn: socket.socket) -> None:
        """Half-close, and read until the printer closes its side too (for at most a second)."""
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + min(self.timeout, 1.0)
        while (left := deadline - time.monotonic()) > 0:
            conn.settimeout(left)
            try:
                if not conn.recv(1024):
                    return
            except (TimeoutError, OSError):  # the label is confirmed already; a slow or rude close changes nothing
                return

    def status(self) -> PrinterStatus:
        """Ask ``~HS``; no answer within the timeout counts as not ready."""
        try:
            with self._connect() as conn:
                return self._ask_status(conn)
        except PrinterError as exc:
            # "refused the connection ...": the printer's name is said where its status is shown
            return PrinterStatus(False, str(exc).removeprefix(_("printer {url}").format(url=self.url)).lstrip())
        except OSError as exc:
            return PrinterStatus(False, _("connection lost: {error}").format(error=exc.strerror or exc))

    def print(self, data: bytes, fmt: str = "zpl") -> None:
        """Send the job if the printer is ready, and return only once it confirmed printing it."""
        self.check_format(fmt)
        with self._connect() as conn:
            try:
                status = self._ask_status(conn)
                if not status.ready:
                    raise PrinterNotReady(_("printer {url} is not ready: {status}").format(url=self.url, status=status))
                conn.settimeout(self.timeout)
                conn.sendall(data)
                self._confirm(conn)
                self._read_to_close(conn)
            except TimeoutError:
                raise PrinterError(
                    _("printer {url} stopped taking data (timeout {timeout:g} s)").format(
                        url=self.url, timeout=self.timeout
                    )
                ) from None
            except OSError as exc:
                raise PrinterError(
                    _("printer {url} dropped the connection: {error}").format(url=self.url, error=exc.strerror or exc)
                ) from None


# --- CUPS ---------------------------------------------------------------------------


class CupsPrinter(Printer):
    """A CUPS queue, through the ``lp`` command: ZPL raw, PDF as a document."""

    formats = ("zpl", "pdf")

    def __init__(self, url: str, queue: str, dpi: int = 203, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(url, dpi, timeout)
        self.queue = queue

    def _run(self, args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
        if shutil.which(args[0]) is None:
            raise PrinterError(
                _(
                    "cannot print to {url}: the CUPS command {command!r} is not installed (apt install cups-client)"
                ).format(url=self.url, command=args[0])
            )
        try:
            return subprocess.run(args, input=data, capture_output=True, timeout=self.timeout * 2)
        except subprocess.TimeoutExpired:
            raise PrinterError(
                _("{command} for {url} did not finish within {seconds:g} s").format(
                    command=args[0], url=self.url, seconds=self.timeout * 2
                )
            ) from None

    def status(self) -> PrinterStatus:
        """Whether CUPS knows the queue and has it enabled (``lpstat -p QUEUE``)."""
        try:
            done = self._run(["lpstat", "-p", self.queue])
        except PrinterError as exc:
            return PrinterStatus(False, str(exc))
        text = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
        if done.returncode != 0:
            return PrinterStatus(False, _first_line(text) or _("lpstat failed ({code})").format(code=done.returncode))
        if "disabled" in text:
            return PrinterStatus(False, _("queue {queue} is disabled").format(queue=self.queue))
        return PrinterStatus(True)

    def print(self, data: bytes, fmt: str = "zpl") -> None:
        """Hand the job to CUPS; ZPL goes raw so no driver touches it."""
        self.check_format(fmt)
        args = ["lp", "-d", self.queue, "-t", "RMA labels"] + (["-o", "raw"] if fmt == "zpl" else [])
        done = self._run(args, data)
        if done.returncode != 0:
            reason = _first_line(done.stderr.decode("utf-8", "replace")) or _("exit code {code}").format(
                code=done.returncode
            )
            raise PrinterError(_("CUPS refused the job for {url}: {reason}").format(url=self.url, reason=reason))
        if b"request id" not in done.stdout:
            raise PrinterError(_("CUPS did not confirm the job for {url} (lp gave no request id)").format(url=self.url))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --- file -----------------------------------------------------------------------------


class FilePrinter(Printer):
    """A file: ZPL appended as a spool, other formats written whole."""

    formats = ("zpl", "pdf", "png", "svg")

    def __init__(self, url: str, path: Path, dpi: int = 203, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(url, dpi, timeout)
        self.path = path

    def status(self) -> PrinterStatus:
        """Ready when the file's folder exists and may be written."""
        folder = self.path.parent
        if not folder.is_dir():
            return PrinterStatus(False, _("folder {folder} does not exist").format(folder=folder))
        if not os.access(folder, os.W_OK):
            return PrinterStatus(False, _("folder {folder} is not writable").format(folder=folder))
        return PrinterStatus(True)

    def print(self, data: bytes, fmt: str = "zpl") -> None:
        """Append ZPL, or write another format, and flush it to disk."""
        self.check_format(fmt)
        try:
            with open(self.path, "ab" if fmt == "zpl" else "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise PrinterError(
                _("cannot write {path}: {error}").format(path=self.path, error=exc.strerror or exc)
            ) from None


# --- naming a printer ----------------------------------------------------------------------


def open_printer(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Printer:
    """The printer a URL names: ``tcp://HOST:9100``, ``cups:QUEUE``, ``file:PATH`` (``?dpi=300``)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    try:
        dpi = int(query.get("dpi", ["203"])[0])
    except ValueError:
        raise PrinterError(_("printer {url}: dpi must be 203 or 300").format(url=url)) from None
    if dpi not in (203, 300):
        raise PrinterError(_("printer {url}: dpi must be 203 or 300, not {dpi}").format(url=url, dpi=dpi))
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][0])
        except ValueError:
            timeout = 0.0
        if not 0 < timeout <= 600:
            raise PrinterError(_("printer {url}: timeout must be a number of seconds, up to 600").format(url=url))
    if parts.scheme == "tcp":
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise PrinterError(_("printer {url}: the port is not a number").format(url=url)) from None
        if not parts.hostname:
            raise PrinterError(_("printer {url}: give a host, e.g. tcp://10.0.0.20:9100").format(url=url))
        return TcpPrinter(url, parts.hostname, port, dpi, timeout)
    if parts.scheme == "cups":
        queue = parts.path.strip("/")
        if not queue:
            raise PrinterError(_("printer {url}: give a CUPS queue, e.g. cups:Zebra_GK420d").format(url=url))
        return CupsPrinter(url, queue, dpi, timeout)
    if parts.scheme == "file":
        path = parts.path if not parts.netloc else f"/{parts.netloc}{parts.path}"
        if not path:
            raise PrinterError(_("printer {url}: give a file, e.g. file:/tmp/labels.zpl").format(url=url))
        return FilePrinter(url, Path(path).expanduser(), dpi, timeout)
    raise PrinterError(_("printer {url!r} is not tcp://HOST:PORT, cups:QUEUE or file:PATH").format(url=url))
