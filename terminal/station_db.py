"""The station database, on a thread of its own.

SQLite commits wait for the disk (``synchronous=FULL``), so they never run on
the event loop.  One thread owns the connection (sqlite3 connections belong
to the thread that opened them); jobs are done strictly in the order they
were submitted, which is also what keeps scans in order.

A second thread, with its own connection, checkpoints the WAL every few
seconds.  Left to SQLite, the checkpoint would run inside whichever commit
crossed the WAL size limit — and on a large database that one scan would
wait a few hundred milliseconds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sync.store import Store, StoreError

T = TypeVar("T")
CHECKPOINT_EVERY = 5.0  # seconds


class StationDb:
    """Runs functions of the :class:`~sync.store.Store` on its own thread, in order."""

    def __init__(self, path: str | Path, *, create_folder: bool = False):
        self.path = Path(path)
        self.create_folder = create_folder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="station-db")
        self._store: Store | None = None
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

    def _job(self, fn: Callable[[Store], T]) -> T:
        if self._store is None:
            self._store = Store(self.path, create_folder=self.create_folder, auto_checkpoint=False)
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="station-db-checkpoint", daemon=True
            )
            self._checkpointer.start()
        return fn(self._store)

    def _checkpoint_loop(self) -> None:
        store = None
        while not self._stop.wait(CHECKPOINT_EVERY):
            try:
                store = store or Store(self.path, busy_timeout_ms=100)
                store.checkpoint()
            except StoreError:
                pass  # busy or briefly unavailable: the WAL just waits for the next round
        if store is not None:
            store.close()

    async def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the database thread and wait for its answer."""
        return await asyncio.wrap_future(self._executor.submit(self._job, fn))

    def close(self) -> None:
        """Finish queued jobs, then close the connections."""

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._stop.set()
        self._executor.submit(shut)
        self._executor.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.join()
