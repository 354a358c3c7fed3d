"""The station's background sync: a thread that pushes and pulls whenever a server is configured.

It opens its own :class:`~sync.store.Store` in its own thread (sqlite3
connections belong to the thread that opened them; WAL lets it write
alongside the screen's database thread) and reports each round to the app as
a :class:`~terminal.messages.SyncStatus` message — ``post_message`` is thread-safe, and the
worker never touches a widget.  Offline is the normal case, not an error: the
header says so and the worker tries again, backing off while it fails.

A receipt wakes the worker (:meth:`SyncWorker.sync_now`) and is pushed at
once on a quiet link; after a slow answer it waits up to a second for the
receipts that follow, so they go in one push (:class:`~sync.client.PushPacing`).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from gettext import gettext as _

from sync.client import NotAuthorized, Retryable, SyncClient, SyncError
from sync.store import Store, StoreError
from terminal.messages import SyncStatus

RESTORED_SHOWN = timedelta(hours=24)  # how long the header shows that the database was found restored


class SyncWorker:
    """Syncs the station continuously on its own thread; ``start()`` / ``stop()``."""

    def __init__(
        self,
        db_path,
        server_url: str,
        token: str,
        report,
        *,
        interval: float = 5.0,
        max_interval: float = 120.0,
        ca_path: str | None = None,
    ):
        self.db_path, self.server_url, self.token, self.ca_path = db_path, server_url, token, ca_path
        self.report = report  # called with a SyncStatus after each round, from this thread
        self.interval, self.max_interval = interval, max_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._woken_at: float | None = None  # when the first receipt since the last round woke the worker
        self._thread = threading.Thread(target=self._run, name="station-sync", daemon=True)
        self.last_success = ""

    @classmethod
    def for_app(cls, app) -> SyncWorker | None:
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
        if self._woken_at is None:
            self._woken_at = time.monotonic()
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
            online, error, sla_changed = False, "", False
            try:
                if store is None:
                    store = Store(self.db_path)
                if client is None:
                    client = SyncClient(
                        self.server_url,
                        self.token,
                        ca_path=self.ca_path,
                        stop=self._stop,
                        attempts=2,
                        timeout=(3.05, 15),
                    )
                self._woken_at = None  # receipts from now on wake the next round
                report = client.sync(store)
                online, failures, sla_changed = True, 0, report.sla_changed
                if report.photo_error:  # the events went through; only the photos wait
                    error = _("photos not sent: {problem}").format(problem=report.photo_error)
                self.last_success = datetime.now().strftime("%H:%M:%S")
            except NotAuthorized as exc:
                error, failures = str(exc), failures + 1
            except Retryable as exc:
                error, failures = str(exc), failures + 1
            except (SyncError, StoreError) as exc:
                error, failures = str(exc), failures + 1
            except Exception as exc:  # noqa: BLE001 - never let the worker die silently: show it, keep going
                error, failures = _("sync failed: {problem}").format(problem=repr(exc)), failures + 1
            if not self._stop.is_set():
                self.report(self._status(store, online, error, sla_changed))
            self._wake.wait(min(self.max_interval, self.interval * 2 ** min(failures, 6)))
            self._wake.clear()
            self._hold(store, client)
        if client is not None:
            client.close()
        if store is not None:
            store.close()

    def _hold(self, store: Store | None, client: SyncClient | None) -> None:
        """After a slow answer, let the receipts that woke the worker wait (at most ``MAX_HOLD``) for more.

        A full batch waiting goes at once; a stopped worker does not wait.
        """
        woken_at = self._woken_at
        if woken_at is None or store is None or client is None:
            return
        while not self._stop.is_set():
            wait = client.pacing.delay(woken_at, time.monotonic())
            if wait <= 0:
                return
            try:
                if store.unsent_count() >= client.batch:
                    return
            except StoreError:
                return  # the round says what is wrong with the database
            self._wake.wait(wait)  # each new receipt wakes it to count again
            self._wake.clear()

    def _status(self, store: Store | None, online: bool, error: str, sla_changed: bool = False) -> SyncStatus:
        waiting = conflicts = 0
        photos, problems, restored = {"waiting": 0, "problems": 0}, [], ""
        if store is not None:
            try:
                waiting = store.unsent_count()
                conflicts = len(store.sync_conflicts())
                photos, problems = store.photo_uploads(), store.photo_problems()
                since = (datetime.now(UTC) - RESTORED_SHOWN).isoformat(timespec="milliseconds")
                restored = next((r["detail"] for r in reversed(store.restored_streams()) if r["found_at"] >= since), "")
            except StoreError as exc:
                error = error or str(exc)
        return SyncStatus(
            online,
            waiting,
            self.last_success,
            error,
            conflicts,
            photos_waiting=photos["waiting"],
            photo_problem=problems[-1]["problem"] if problems else "",
            photo_problems=photos["problems"],
            restored=restored,
            sla_changed=sla_changed,
        )
