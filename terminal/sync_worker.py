"""The station's background sync: a thread that pushes and pulls whenever a server is configured.

It opens its own :class:`~sync.store.Store` in its own thread (sqlite3
connections belong to the thread that opened them; WAL lets it write
alongside the screen's database thread) and reports each round to the app as
a :class:`SyncStatus` message — ``post_message`` is thread-safe, and the
worker never touches a widget.  Offline is the normal case, not an error: the
header says so and the worker tries again, backing off while it fails.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from textual.content import Content
from textual.message import Message

from sync.client import NotAuthorized, Retryable, SyncClient, SyncError
from sync.store import Store, StoreError


class SyncStatus(Message):
    """How sync stands: online or not, events waiting, last success, last error, conflicts."""

    def __init__(self, online: bool, waiting: int, last_success: str, last_error: str, conflicts: int,
                 photos_waiting: int = 0, photo_problem: str = "", photo_problems: int = 0, restored: str = ""):
        super().__init__()
        self.online, self.waiting, self.last_success = online, waiting, last_success
        self.last_error, self.conflicts = last_error, conflicts
        self.photos_waiting, self.photo_problem, self.photo_problems = photos_waiting, photo_problem, photo_problems
        self.restored = restored  # the database was found older than the server's copy (recently): one line

    @property
    def text(self) -> Content:
        """The header's sync part, read from a step away (the server's words as text, never markup)."""
        state = Content.styled("ONLINE", "bold green") if self.online else \
            Content.styled(" OFFLINE ", "bold reverse red")
        parts = [Content("SYNC ") + state, Content.from_markup("waiting [b]$n[/b]", n=str(self.waiting)),
                 Content(f"last ok {self.last_success or 'never'}")]
        if self.photos_waiting:
            parts.append(Content.from_markup("photos waiting [b]$n[/b]", n=str(self.photos_waiting)))
        if self.photo_problems:
            plural = "S" if self.photo_problems > 1 else ""
            parts.append(Content.styled(f" {self.photo_problems} PHOTO PROBLEM{plural} ", "bold reverse yellow"))
        if self.conflicts:
            parts.append(Content.styled(f" {self.conflicts} CONFLICT{'S' if self.conflicts > 1 else ''} ",
                                        "bold reverse yellow"))
        if self.restored:
            parts.append(Content.styled(" DATABASE RESTORED: see rma conflicts ", "bold reverse yellow"))
        # what the server, the network or a file said is text, never markup (Content.styled takes it as text)
        if self.last_error:
            parts.append(Content.styled(self.last_error[:80], "red"))
        elif self.photo_problem:
            parts.append(Content.styled(self.photo_problem[:80], "yellow"))
        elif self.restored:
            parts.append(Content.styled(self.restored[:80], "yellow"))
        return Content(" · ").join(parts)


RESTORED_SHOWN = timedelta(hours=24)  # how long the header shows that the database was found restored


class SyncWorker:
    """Syncs the station continuously on its own thread; ``start()`` / ``stop()``."""

    def __init__(self, db_path, server_url: str, token: str, report, *, interval: float = 5.0,
                 max_interval: float = 120.0, ca_path: str | None = None):
        self.db_path, self.server_url, self.token, self.ca_path = db_path, server_url, token, ca_path
        self.report = report  # called with a SyncStatus after each round, from this thread
        self.interval, self.max_interval = interval, max_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="station-sync", daemon=True)
        self.last_success = ""

    @classmethod
    def for_app(cls, app) -> "SyncWorker | None":
        """A started worker reporting to ``app``, or None when no server is configured."""
        settings = app.settings
        if not settings.server_url:
            return None
        worker = cls(settings.db_path, settings.server_url, settings.server_token, app.post_message)
        worker.start()
        return worker

    def start(self) -> None:
        """Start syncing in the background."""
        self._thread.start()

    def sync_now(self) -> None:
        """Cut the current wait short (e.g. right after a receipt)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the call in flight (its timeout bounds the wait)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        store = client = None
        failures = 0
        while not self._stop.is_set():
            online, error = False, ""
            try:
                if store is None:
                    store = Store(self.db_path)
                if client is None:
                    client = SyncClient(self.server_url, self.token, ca_path=self.ca_path, stop=self._stop,
                                        attempts=2, timeout=(3.05, 15))
                report = client.sync(store)
                online, failures = True, 0
                if report.photo_error:  # the events went through; only the photos wait
                    error = f"photos not sent: {report.photo_error}"
                self.last_success = datetime.now().strftime("%H:%M:%S")
            except NotAuthorized as exc:
                error, failures = str(exc), failures + 1
            except Retryable as exc:
                error, failures = str(exc), failures + 1
            except (SyncError, StoreError) as exc:
                error, failures = str(exc), failures + 1
            except Exception as exc:  # never let the worker die silently: show it, keep going
                error, failures = f"sync failed: {exc!r}", failures + 1
            if not self._stop.is_set():
                self.report(self._status(store, online, error))
            self._wake.wait(min(self.max_interval, self.interval * 2 ** min(failures, 6)))
            self._wake.clear()
        if client is not None:
            client.close()
        if store is not None:
            store.close()

    def _status(self, store: Store | None, online: bool, error: str) -> SyncStatus:
        waiting = conflicts = 0
        photos, problems, restored = {"waiting": 0, "problems": 0}, [], ""
        if store is not None:
            try:
                waiting = store.unsent_count()
                conflicts = len(store.sync_conflicts())
                photos, problems = store.photo_uploads(), store.photo_problems()
                since = (datetime.now(timezone.utc) - RESTORED_SHOWN).isoformat(timespec="milliseconds")
                restored = next((r["detail"] for r in reversed(store.restored_streams())
                                 if r["found_at"] >= since), "")
            except StoreError as exc:
                error = error or str(exc)
        return SyncStatus(online, waiting, self.last_success, error, conflicts, photos_waiting=photos["waiting"],
                          photo_problem=problems[-1]["problem"] if problems else "",
                          photo_problems=photos["problems"], restored=restored)
