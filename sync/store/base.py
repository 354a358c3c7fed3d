"""Opening, migrating and writing a station SQLite file; the outbox and ``sync_state`` every store shares.

:class:`Database` is the one way the station opens a SQLite file of its own
(the station database, the print queue): refuse another program's or a newer
version's file before touching it, WAL mode with ``synchronous=FULL``, apply
the named migrations, and :meth:`Database.write` for ONE ``BEGIN IMMEDIATE``
transaction with SQLite's errors turned into :class:`~sync.store.errors.StoreError`.

:class:`StoreBase` adds what every part of the station database builds on:
appending outbox events and reading them, and the ``sync_state`` values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from gettext import gettext as _
from pathlib import Path
from typing import ClassVar, Self, overload

import sqlite_utils

from sync.clock import utc_now
from sync.store.errors import DatabaseUnavailable, StoreError, explain
from sync.store.records import Event
from sync.store.schema import APPLICATION_ID, MIGRATIONS, Migration, refusal


class Database:
    """One SQLite file of the station, opened, checked and migrated; one connection, one thread.

    Subclasses name their ``application_id`` and ``migrations``;
    ``older_tables`` are the tables a version before named migrations left
    (such a file is ours, and is migrated).
    """

    application_id: ClassVar[int]
    migrations: ClassVar[Sequence[Migration]]
    older_tables: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        path: str | Path,
        *,
        create_folder: bool = False,
        busy_timeout_ms: int = 5000,
        auto_checkpoint: bool = True,
        check_same_thread: bool = True,
    ):
        self.path = Path(path)
        folder = self.path.parent
        if not folder.is_dir():
            if create_folder:
                folder.mkdir(parents=True, exist_ok=True)
            else:
                raise DatabaseUnavailable(
                    _("database folder {folder} does not exist; create it or pass another --db").format(folder=folder)
                )
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=busy_timeout_ms / 1000, check_same_thread=check_same_thread
            )
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            # before WAL mode: someone else's file is left as it was
            refused = refusal(
                conn,
                self.path,
                application_id=self.application_id,
                migrations=self.migrations,
                older_tables=self.older_tables,
            )
            if refused:
                conn.close()
                raise DatabaseUnavailable(refused)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if not auto_checkpoint:
                # The owner checkpoints from another connection (see checkpoint()), so a
                # commit at the bench never pays for copying the WAL into a large file.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.DatabaseError as exc:
            raise explain(exc, self.path) from exc
        if mode.lower() != "wal":
            raise DatabaseUnavailable(
                _("cannot switch {path} to WAL mode (got {mode}); is the folder writable?").format(
                    path=self.path, mode=mode
                )
            )
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.migrate()

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ---------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: all of it is committed, or none."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise explain(exc, self.path) from exc
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise explain(exc, self.path) from exc
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise explain(exc, self.path) from exc

    def _rollback(self) -> None:
        """Roll back what is left of a failed transaction.

        After a failed COMMIT (disk full, I/O error) SQLite may have rolled
        back already; a second ROLLBACK would only hide the real reason.
        """
        if self.conn.in_transaction:
            # the transaction is gone either way; the first error is the one to report
            with contextlib.suppress(sqlite3.DatabaseError):
                self.conn.execute("ROLLBACK")

    def migrate(self) -> list[str]:
        """Apply the named migrations not yet applied, each in its own transaction."""
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        except sqlite3.DatabaseError as exc:
            raise explain(exc, self.path) from exc
        done = {r[0] for r in self.conn.execute("SELECT name FROM _migrations")}
        applied = []
        for name, step in self.migrations:
            if name in done:
                continue
            with self.write() as conn:
                step(self.db)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utc_now()))
            applied.append(name)
        if self.conn.execute("PRAGMA application_id").fetchone()[0] != self.application_id or self.conn.execute(
            "PRAGMA user_version"
        ).fetchone()[0] != len(self.migrations):
            try:
                with self.write() as conn:  # recognisable as ours, and of which schema
                    conn.execute(f"PRAGMA application_id = {self.application_id}")
                    conn.execute(f"PRAGMA user_version = {len(self.migrations)}")
            except StoreError:
                pass  # a read-only copy still reads; the mark is written by the next station that can write
        return applied

    def checkpoint(self, *, truncate: bool = False) -> None:
        """Copy committed WAL pages into the database file without blocking writers (PASSIVE).

        ``truncate`` also empties the WAL file when no reader is in it (after a
        batch, e.g. ``rma receive``), so it does not stay at its largest size.
        """
        try:
            self.conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if truncate else 'PASSIVE'})")
        except sqlite3.DatabaseError as exc:
            raise explain(exc, self.path) from exc

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: ``ok`` or the problems it found."""
        return "\n".join(r[0] for r in self.conn.execute("PRAGMA integrity_check"))


class StoreBase(Database):
    """The station database's core: the outbox every change appends to, and ``sync_state``."""

    application_id = APPLICATION_ID
    migrations = MIGRATIONS

    # -- events -----------------------------------------------------------

    def _append(
        self,
        conn: sqlite3.Connection,
        type_: str,
        station: str,
        operator: str,
        payload: dict,
        rma_code: str | None = None,
        refers_to: str | None = None,
        at: str | None = None,
    ) -> tuple[int, str]:
        """Append one event inside the caller's transaction; its sequence number and id."""
        event_id = str(uuid.uuid4())
        cur = conn.execute(
            "INSERT INTO outbox (id, type, station, operator, at, rma_code, refers_to, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                type_,
                station,
                operator,
                at or utc_now(),
                rma_code,
                refers_to,
                json.dumps(payload, ensure_ascii=False, sort_keys=True),
            ),
        )
        return cur.lastrowid or 0, event_id

    def record(self, type_: str, station: str, operator: str, payload: dict, rma_code: str | None = None) -> int:
        """Append one event that changes no projection (sign-in, notes); returns its sequence."""
        with self.write() as conn:
            seq, _ = self._append(conn, type_, station, operator, payload, rma_code)
        return seq

    def events(self, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """Outbox events with a sequence above ``after_seq``, oldest first."""
        rows = self.conn.execute(
            "SELECT seq, id, type, station, operator, at, payload, rma_code, refers_to "
            "FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty outbox)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return row[0] if row else 0

    def acked_seq(self) -> int:
        """How far the server has acknowledged the outbox."""
        return int(self.get_state("acked_seq", "0"))

    def unsent_count(self) -> int:
        """Events the server has not acknowledged yet."""
        return max(0, self.last_seq() - self.acked_seq())

    def counts_since(self, since: str, station: str | None = None) -> dict[str, int]:
        """Events per type since a timestamp (today's counts for the header)."""
        return self._tally("outbox", "type", "at", since, station)

    def _tally(self, table: str, column: str, time_column: str, since: str, station: str | None) -> dict[str, int]:
        """Rows of ``table`` per value of ``column`` since a timestamp, for one station or all."""
        sql = f"SELECT {column}, count(*) FROM {table} WHERE {time_column} >= ?"
        args: list = [since]
        if station:
            sql += " AND station = ?"
            args.append(station)
        return dict(self.conn.execute(sql + f" GROUP BY {column}", args).fetchall())

    # -- sync_state -------------------------------------------------------

    @overload
    def get_state(self, key: str) -> str | None: ...
    @overload
    def get_state(self, key: str, default: str) -> str: ...

    def get_state(self, key: str, default: str | None = None) -> str | None:
        """A value from ``sync_state`` (``default`` when it was never set)."""
        row = self.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        """Set a ``sync_state`` value inside the caller's write transaction."""
        conn.execute(
            "INSERT INTO sync_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
        )
