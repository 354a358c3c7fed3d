"""The station database, on a thread of its own.

SQLite commits wait for the disk (``synchronous=FULL``), so they never run on
the event loop.  One thread owns the connection (sqlite3 connections belong
to the thread that opened them); jobs are done strictly in the order they
were submitted, which is also what keeps scans in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sync.store import Store

T = TypeVar("T")


class StationDb:
    """Runs functions of the :class:`~sync.store.Store` on its own thread, in order."""

    def __init__(self, path: str | Path, *, create_folder: bool = False):
        self.path = Path(path)
        self.create_folder = create_folder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="station-db")
        self._store: Store | None = None

    def _job(self, fn: Callable[[Store], T]) -> T:
        if self._store is None:
            self._store = Store(self.path, create_folder=self.create_folder)
        return fn(self._store)

    async def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the database thread and wait for its answer."""
        return await asyncio.wrap_future(self._executor.submit(self._job, fn))

    def close(self) -> None:
        """Finish queued jobs, then close the connection."""
        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None
        self._executor.submit(shut)
        self._executor.shutdown(wait=True)
