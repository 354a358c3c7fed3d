"""The print queue's own SQLite file: label jobs kept until a printer confirmed them.

Opened, migrated and written like the station database (:class:`~sync.store.base.Database`:
named migrations, ``BEGIN IMMEDIATE`` writes, WAL with ``synchronous=FULL`` —
a job acknowledged is a job on disk), but a file of its own beside it: print
jobs are the station's business and never synced, and they must not wait on
the station database's write lock.  The printing thread, retries and
confirmation live in ``terminal.printing``; this module only keeps the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from sync.clock import utc_now
from sync.store.base import Database
from sync.store.schema import Migration

# PRAGMA application_id of a print queue file ("RMPQ")
PRINT_QUEUE_APPLICATION_ID = 0x524D5051


def _m001_print_jobs(db: sqlite_utils.Database) -> None:
    # IF NOT EXISTS: a queue file of a version before named migrations already has them
    db.execute(
        """CREATE TABLE IF NOT EXISTS print_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            what TEXT NOT NULL,
            format TEXT NOT NULL,
            data BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'printed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            printed_at TEXT,
            printer TEXT NOT NULL DEFAULT '',
            reprint_of INTEGER REFERENCES print_jobs(id)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS print_jobs_waiting ON print_jobs(state, id)")


PRINT_QUEUE_MIGRATIONS: list[Migration] = [
    ("001_print_jobs", _m001_print_jobs),
]


@dataclass(frozen=True)
class Job:
    """One print job as the queue keeps it."""

    id: int
    created_at: str
    what: str
    format: str
    state: str
    attempts: int
    last_error: str
    printed_at: str | None
    printer: str
    reprint_of: int | None
    size: int


@dataclass(frozen=True)
class JobToPrint:
    """A waiting job's bytes, as the printer gets them."""

    id: int
    format: str
    data: bytes


class PrintJobStore(Database):
    """The print jobs of one station; every write one transaction.  Not thread-safe: the queue holds a lock."""

    application_id = PRINT_QUEUE_APPLICATION_ID
    migrations = PRINT_QUEUE_MIGRATIONS
    older_tables = frozenset({"print_jobs", "sqlite_sequence"})

    def add(self, data: bytes, *, fmt: str, what: str, reprint_of: int | None = None) -> int:
        """Keep a rendered document as one waiting job; returns its id."""
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO print_jobs (created_at, what, format, data, reprint_of) VALUES (?, ?, ?, ?, ?)",
                (utc_now(), what[:200], fmt, data, reprint_of),
            )
        return cur.lastrowid or 0

    def reprint(self, job_id: int) -> int | None:
        """Queue a job again, byte for byte; the new job's id, or None when there is no job ``job_id``."""
        with self.write() as conn:
            row = conn.execute("SELECT what, format, data FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            cur = conn.execute(
                "INSERT INTO print_jobs (created_at, what, format, data, reprint_of) VALUES (?, ?, ?, ?, ?)",
                (utc_now(), row[0], row[1], row[2], job_id),
            )
        return cur.lastrowid or 0

    def jobs(self, limit: int = 50) -> list[Job]:
        """The latest jobs, newest first."""
        return [
            Job(*row)
            for row in self.conn.execute(
                "SELECT id, created_at, what, format, state, attempts, last_error, printed_at, printer, "
                "reprint_of, length(data) FROM print_jobs ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        ]

    def data(self, job_id: int) -> bytes | None:
        """The bytes a job sends to the printer, or None when there is no such job."""
        row = self.conn.execute("SELECT data FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def waiting(self) -> int:
        """How many jobs wait for the printer."""
        return self.conn.execute("SELECT count(*) FROM print_jobs WHERE state = 'waiting'").fetchone()[0]

    def next_waiting(self, job_id: int | None = None) -> JobToPrint | None:
        """The oldest waiting job (or waiting job ``job_id``), or None."""
        row = self.conn.execute(
            "SELECT id, format, data FROM print_jobs WHERE state = 'waiting' "
            + ("AND id = ? " if job_id is not None else "")
            + "ORDER BY id LIMIT 1",
            () if job_id is None else (job_id,),
        ).fetchone()
        return JobToPrint(*row) if row else None

    def printed(self, job_id: int, printer: str) -> None:
        """The printer confirmed this job."""
        with self.write() as conn:
            conn.execute(
                "UPDATE print_jobs SET state = 'printed', printed_at = ?, printer = ?, "
                "attempts = attempts + 1, last_error = '' WHERE id = ?",
                (utc_now(), printer, job_id),
            )

    def failed(self, job_id: int, error: str) -> None:
        """One more attempt that did not print, and why; the job stays waiting."""
        with self.write() as conn:
            conn.execute(
                "UPDATE print_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error[:300], job_id)
            )
