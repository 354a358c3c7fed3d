"""The station's print queue: every label job is kept until a printer took it.

A job is written to a small SQLite file of its own (beside the station
database; print jobs are the station's business, never synced) before anyone
tries to print it; that file is opened, migrated and written like the station
database (:class:`sync.store.print_jobs.PrintJobStore`).  One thread prints the waiting jobs in order; a job the
printer could not take (paper out, head open, no answer, refused) stays
waiting and is retried with growing pauses — never dropped.  Printed jobs stay
listed and can be reprinted (a new job with the same bytes).

A job is printed when the printer confirmed it (a ZPL printer's ``~HS``
after the job shows its buffer empty, CUPS gave a request id, the file was
synced); bytes that left the station are not a label.  The printer's state is reported through
``on_change`` (from the printing thread) so the station header can show it.  Every method blocks on SQLite or
waits for the thread's lock: from the event loop, call them through
``asyncio.to_thread`` — e.g. the inspect screen's one line::

    await asyncio.to_thread(app.print_queue.submit, labels.disposition_label(...))
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from gettext import gettext as _
from gettext import ngettext
from pathlib import Path

from labels import Label, LabelError, Printer, PrinterError, PrinterStatus, font_note, open_printer, render
from sync.store import StoreError
from sync.store.print_jobs import Job, PrintJobStore

__all__ = ["Job", "PrintQueue", "PrintQueueError", "PrinterState", "print_label", "queue_path_for", "start_print_queue"]

RETRY_PAUSES = (2.0, 5.0, 10.0, 30.0, 60.0)  # seconds between attempts at a job the printer did not take
IDLE_CHECK = 30.0  # seconds between printer status checks while nothing waits


class PrintQueueError(Exception):
    """The print queue cannot do this; the message is for a person."""


@dataclass(frozen=True)
class PrinterState:
    """What the header shows: the printer's own state and how many jobs wait."""

    printer: str
    status: PrinterStatus | None  # None until the printer was first asked
    waiting: int

    @property
    def text(self) -> str:
        """One short line for the status bar."""
        waiting = " · " + ngettext("{n} waiting", "{n} waiting", self.waiting).format(n=self.waiting)
        if not self.printer:
            return _("PRINTER none") + waiting if self.waiting else ""
        if self.status is None:
            state = _("PRINTER …")
        elif self.status.ready:
            state = _("PRINTER ready")
        else:
            state = _("PRINTER NOT READY: {problem}").format(problem=self.status)
        return state + (waiting if self.waiting else "")


def queue_path_for(db_path: str | Path) -> Path:
    """Where the print queue of the station with this database lives: a file beside it."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.print-queue.db")


class PrintQueue:
    """Label jobs kept in SQLite and printed in order by one thread; none is ever dropped."""

    def __init__(
        self,
        path: str | Path,
        printer: Printer | str | None,
        *,
        on_change: Callable[[PrinterState], None] | None = None,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
        idle_check: float = IDLE_CHECK,
        zpl_cjk_font: str = "",
    ):
        self.path = Path(path)
        self.zpl_cjk_font = zpl_cjk_font  # a CJK font the printer holds (station.toml), else Chinese goes as graphics
        self.printer = open_printer(printer) if isinstance(printer, str) and printer else printer or None
        self.on_change = on_change
        self.retry_pauses = tuple(retry_pauses)
        self.idle_check = idle_check
        self.status: PrinterStatus | None = None
        self._asked = self._shown = 0  # status questions numbered: a late answer never hides a newer one
        self._store: PrintJobStore | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the jobs ------------------------------------------------------------------------

    @contextmanager
    def _jobs(self) -> Iterator[PrintJobStore]:
        """The job file, opened on first use, under the queue's lock; its errors as :class:`PrintQueueError`."""
        with self._lock:
            if self._store is None:
                try:
                    self._store = PrintJobStore(self.path, check_same_thread=False)
                except StoreError as exc:
                    raise PrintQueueError(
                        _("cannot open the print queue {path}: {problem}").format(path=self.path, problem=exc)
                    ) from exc
            try:
                yield self._store
            except StoreError as exc:
                raise PrintQueueError(_("print queue {path}: {problem}").format(path=self.path, problem=exc)) from exc

    def submit(self, labels: Label | Sequence[Label], *, what: str = "", fmt: str | None = None) -> int:
        """Render labels for the printer and keep them as one waiting job; returns its id.

        Rendering happens now, so a reprint later gives the very same bytes.
        Raises :class:`labels.LabelError` for a label that cannot be made.
        """
        labels = [labels] if isinstance(labels, Label) else list(labels)
        fmt = fmt or (self.printer.format if self.printer else "zpl")
        dpi = self.printer.dpi if self.printer else 203
        if self.printer:
            try:
                self.printer.check_format(fmt)
            except PrinterError as exc:
                raise LabelError(str(exc)) from None
        # ZPL and PDF: one document for all; PNG and SVG: one each
        documents = render(labels, fmt, dpi, zpl_cjk_font=self.zpl_cjk_font)
        if len(documents) > 1:
            raise LabelError(_("one {format} job holds one label; submit them one by one").format(format=fmt))
        return self.submit_document(
            documents[0], fmt=fmt, what=what or ", ".join(f"{label.kind} {label.name}" for label in labels)
        )

    def submit_document(self, data: bytes, *, fmt: str, what: str) -> int:
        """Keep an already rendered document as one waiting job; returns its id."""
        with self._jobs() as jobs:
            job_id = jobs.add(data, fmt=fmt, what=what)
        self._changed()
        self._wake.set()
        return job_id

    def reprint(self, job_id: int) -> int:
        """Queue a job again, byte for byte; returns the new job's id."""
        with self._jobs() as jobs:
            new_id = jobs.reprint(job_id)
        if new_id is None:
            raise PrintQueueError(_("there is no print job {job}").format(job=job_id))
        self._changed()
        self._wake.set()
        return new_id

    def jobs(self, limit: int = 50) -> list[Job]:
        """The latest jobs, newest first."""
        with self._jobs() as jobs:
            return jobs.jobs(limit)

    def data(self, job_id: int) -> bytes:
        """The bytes a job sends to the printer."""
        with self._jobs() as jobs:
            data = jobs.data(job_id)
        if data is None:
            raise PrintQueueError(_("there is no print job {job}").format(job=job_id))
        return data

    def waiting(self) -> int:
        """How many jobs wait for the printer."""
        with self._jobs() as jobs:
            return jobs.waiting()

    def state(self) -> PrinterState:
        """The printer's last known state and the number of waiting jobs."""
        return PrinterState(self.printer.url if self.printer else "", self.status, self.waiting())

    # --- printing ---------------------------------------------------------------------------

    def print_next(self, job_id: int | None = None) -> bool | None:
        """Try the oldest waiting job (or job ``job_id``) once: True printed, False kept, None nothing waits.

        A job counts as printed only when the printer confirmed it (see
        :meth:`labels.Printer.print`); otherwise it stays waiting with the reason.
        """
        with self._jobs() as jobs:
            job = jobs.next_waiting(job_id)
        if job is None:
            return None
        if self.printer is None:
            self._record_failure(job.id, _("no printer configured (set printer in station.toml)"))
            return False
        asked = self._ask()
        try:
            self.printer.print(job.data, job.format)  # the socket/subprocess, outside the lock
        except PrinterError as exc:
            self._learn(asked, PrinterStatus(False, _short(exc, self.printer.url)))
            self._record_failure(job.id, str(exc))
            return False
        with self._jobs() as jobs:
            jobs.printed(job.id, self.printer.url)
        self._learn(asked, PrinterStatus(True))
        self._changed()
        return True

    def _ask(self) -> int:
        """Number a question to the printer (a status request, or a job that answers with its state)."""
        with self._lock:
            self._asked += 1
            return self._asked

    def _learn(self, asked: int, status: PrinterStatus) -> bool:
        """Keep the printer's answer unless a question asked after it was answered first."""
        with self._lock:
            if asked < self._shown:
                return False
            self._shown, self.status = asked, status
            return True

    def _record_failure(self, job_id: int, error: str) -> None:
        with self._jobs() as jobs:
            jobs.failed(job_id, error)
        self._changed()

    def check_printer(self) -> PrinterStatus | None:
        """Ask the printer for its state (for the header while nothing is printing)."""
        if self.printer is not None:
            asked = self._ask()
            if self._learn(asked, self.printer.status()):
                self._changed()
        return self.status

    def _changed(self) -> None:
        if self.on_change is not None:
            # a header that cannot be updated must not stop printing; the state is read and handed on under
            # the lock, so a state read before a newer one cannot be handed on after it (on_change must not block)
            with self._lock, contextlib.suppress(Exception):
                self.on_change(self.state())

    def _run(self) -> None:
        failures = 0
        self.check_printer()
        while not self._stop.is_set():
            try:
                outcome = self.print_next()
            except (PrintQueueError, sqlite3.Error) as exc:
                self.status = PrinterStatus(False, _("print queue: {problem}").format(problem=exc))
                self._changed()
                outcome = False
            if outcome:
                failures = 0
                continue
            if outcome is None:
                failures = 0
                if not self._wake.wait(self.idle_check):
                    self.check_printer()
            else:
                pause = self.retry_pauses[min(failures, len(self.retry_pauses) - 1)]
                failures += 1
                self._wake.wait(pause)
            self._wake.clear()

    def start(self) -> PrintQueue:
        """Start the printing thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="print-queue", daemon=True)
            self._thread.start()
        return self

    def retry_now(self) -> None:
        """Stop waiting and try the waiting jobs at once (after fixing the printer)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the job in hand) and close the queue file."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> PrintQueue:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _short(exc: Exception, url: str) -> str:
    """A printer error without the printer's name, for the header ("is not ready: paper out")."""
    text = str(exc)
    for prefix in (f"printer {url} is not ready: ", f"printer {url} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def print_now(queue: PrintQueue, document: bytes, *, fmt: str, what: str) -> tuple[int, str | None]:
    """Keep a rendered document as a job and try it on the printer at once.

    Returns the job's id and None when the printer confirmed it, or the reason it waits in the queue.
    """
    job_id = queue.submit_document(document, fmt=fmt, what=what)
    if queue.print_next(job_id):
        return job_id, None
    return job_id, next((j.last_error for j in queue.jobs(5) if j.id == job_id), "") or "not printed"


def reprint_now(queue: PrintQueue, job_id: int) -> tuple[int, bool | None]:
    """Queue job ``job_id`` again and print what waits, in order, until the printer keeps one.

    Returns the new job's id and how the last attempt went (see :meth:`PrintQueue.print_next`):
    None when every waiting job printed, False when one was kept.
    """
    new_id = queue.reprint(job_id)
    while (printed := queue.print_next()) is True:
        pass
    return new_id, printed


def start_print_queue(app) -> PrintQueue | None:
    """Start the station's print queue for its configured printer, its state shown in the header.

    Returns None when no printer is configured (or its URL is wrong: the
    clerk is told once).  Header updates are posted to the app as
    :class:`~terminal.messages.PrinterChanged`, so the printing thread never blocks on the screen.
    """
    from terminal.messages import PrinterChanged

    if not app.settings.printer:
        return None
    try:
        printer = open_printer(app.settings.printer)
    except PrinterError as exc:
        app.notify(_("{problem}; labels will not print").format(problem=exc), severity="error", markup=False)
        return None

    def on_change(state: PrinterState) -> None:
        with contextlib.suppress(RuntimeError):  # the app has closed its loop
            app.post_message(PrinterChanged(state.text))

    return PrintQueue(
        queue_path_for(app.settings.db_path), printer, on_change=on_change, zpl_cjk_font=app.settings.zpl_cjk_font
    ).start()


async def print_label(app, label: Label | Sequence[Label], *, what: str = "") -> int | None:
    """Queue labels on the station's printer from the event loop; the job id, or None without a printer.

    The inspect screen's one line on save::

        await print_label(self.app, labels.disposition_label(outcome, sku=..., rma=..., line=...))

    Raises :class:`labels.LabelError` for a label that cannot be made (tell the inspector).
    """
    import asyncio

    if getattr(app, "print_queue", None) is None:
        return None
    job = await asyncio.to_thread(app.print_queue.submit, label, what=what)
    note = font_note([label] if isinstance(label, Label) else label)
    if note and not getattr(app, "font_noted", False):  # once a session: it says what to install
        app.font_noted = True
        app.notify(note, severity="warning", markup=False)
    return job
