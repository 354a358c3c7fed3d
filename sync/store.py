"""The station's local database: one SQLite file, every change an event.

The tables hold two things:

* a *replica* of the returns the station expects (``rmas``, ``rma_lines``,
  ``tracking_numbers``, ``operators``), loaded by import or by sync, and the
  station's own *projection* of its work on them (``rmas.stage``,
  ``unexpected_parcels``);
* the append-only ``outbox`` of events: what the station did, by whom, when.

Every change made at the bench is ONE ``BEGIN IMMEDIATE`` transaction that
updates the projection and appends its event, so a crash leaves both or
neither.  Events are never edited or deleted; an undo is a new event that
refers to the one it reverses.  ``sync_state`` remembers how far the server
has acknowledged the outbox, so the outbox itself stays untouched.

The file runs in WAL mode with ``synchronous=FULL``: once :meth:`Store.receive`
returns, the event survives a power cut.

Nothing here knows a screen exists; every public method is a plain function
of the database that the station, the CLI and the tests call alike.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

import sqlite_utils

RMA_STATUSES = ("authorized", "cancelled", "expired")
# Tracking numbers are matched on their rightmost characters: carriers print
# routing data (postcode, service code) in front of the number itself.
TRACKING_TAIL = 10
MIN_TRACKING_LENGTH = 8
# PRAGMA application_id of a station database ("RMAS"), so it is told apart from another program's file
APPLICATION_ID = 0x524D4153
ROLES = ("clerk", "inspector", "supervisor")
MAX_OPERATOR_ID = 64


class StoreError(Exception):
    """The database cannot do what was asked; the message is for a person."""


class DatabaseBusy(StoreError):
    """Another program holds the write lock for longer than we wait."""


class DatabaseUnavailable(StoreError):
    """The database file cannot be opened or written (missing folder, read-only, not SQLite)."""


class DiskFull(DatabaseUnavailable):
    """The disk holding the database has no space left; nothing was recorded, the next write may work."""


class Outcome(str, Enum):
    """What a clerk sees after scanning a parcel at receiving."""

    RECEIVED = "RECEIVED"
    ALREADY_RECEIVED = "ALREADY RECEIVED"
    NOT_EXPECTED = "NOT EXPECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    NOT_AN_RMA = "NOT AN RMA"

    @property
    def received(self) -> bool:
        """True when the parcel counts as received (now or before)."""
        return self in (Outcome.RECEIVED, Outcome.ALREADY_RECEIVED)


@dataclass(frozen=True)
class Line:
    """One expected item of an RMA."""

    line_no: int
    sku: str
    gtin: str
    description: str
    qty: int
    category: str


@dataclass(frozen=True)
class Rma:
    """An expected return as the station knows it."""

    code: str
    order_ref: str
    customer_name: str
    reason: str
    status: str
    stage: str
    received_at: str | None = None
    received_station: str | None = None
    received_operator: str | None = None
    lines: tuple[Line, ...] = ()
    tracking_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operator:
    """A registered operator: the id on their badge (``OP:<id>``), their name, their role."""

    id: str
    name: str
    role: str


@dataclass(frozen=True)
class Receipt:
    """The answer to one receiving scan: the outcome and what to show with it."""

    outcome: Outcome
    scanned: str
    rma: Rma | None = None
    matched_by: str | None = None  # "rma code", "tracking number", "order reference"
    event_seq: int | None = None


@dataclass(frozen=True)
class Event:
    """One row of the outbox."""

    seq: int
    id: str
    type: str
    station: str
    operator: str
    at: str
    payload: dict
    rma_code: str | None
    refers_to: str | None


@dataclass
class ImportReport:
    """What an import loaded and which rows it refused."""

    rmas: int = 0
    lines: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line/row number, reason)


DISPOSITIONS = ("resellable", "discounted", "scrapped")


@dataclass(frozen=True)
class Inspection:
    """One unit as the inspector confirmed it: what :meth:`Store.save_inspection` records.

    ``answers`` are ``{"item", "kind", "answer", "failed", "severity"}``
    dicts; ``photos`` are ``{"item", "sha256", "path", "bytes"}`` or
    ``{"item", "exception": "no camera at this station"}``.  The store knows
    no checklist: the caller judged the answers; the store keeps them with the
    checklist's id and content hash so they can be read against that version.
    """

    rma_code: str
    line_no: int
    checklist_id: str
    checklist_hash: str
    answers: tuple[dict, ...]
    suggested: str
    final: str
    started_at: str
    why: tuple[str, ...] = ()
    override_reason: str = ""
    override_note: str = ""
    photos: tuple[dict, ...] = ()
    scanned: str = ""
    gtin: str = ""
    serial: str = ""
    lot: str = ""
    expiry: str = ""
    ended_at: str | None = None
    matched_by: str = "gtin"  # how the unit was matched to its line: "gtin", "sku", or "hand" (picked by hand)

    def problem(self) -> str:
        """Why this cannot be recorded as it is, or ""."""
        if self.suggested not in DISPOSITIONS or self.final not in DISPOSITIONS:
            return f"disposition must be one of {', '.join(DISPOSITIONS)}"
        if self.final != self.suggested and not self.override_reason.strip():
            return f"overriding {self.suggested} with {self.final} needs a reason"
        if not self.checklist_id or len(self.checklist_hash) != 64:
            return "the checklist id and content hash are missing"
        if not self.answers:
            return "no answers"
        for photo in self.photos:
            if not photo.get("item") or not (photo.get("sha256") or photo.get("exception")):
                return "a photo needs its content hash, or a recorded exception"
        return ""

    def payload(self, line: Line, unit_no: int, ended_at: str) -> dict:
        """The ``item.inspected`` event's payload."""
        return {
            "line_no": line.line_no, "unit_no": unit_no, "sku": line.sku, "category": line.category,
            "expected_gtin": line.gtin, "scanned": self.scanned, "gtin": self.gtin, "serial": self.serial,
            "lot": self.lot, "expiry": self.expiry,
            "checklist": {"id": self.checklist_id, "hash": self.checklist_hash},
            "answers": list(self.answers), "suggested": self.suggested, "final": self.final, "why": list(self.why),
            "override": ({"reason": self.override_reason, "note": self.override_note}
                         if self.final != self.suggested or self.override_reason else None),
            "photos": list(self.photos), "started_at": self.started_at, "ended_at": ended_at,
            "matched_by": self.matched_by, "picked_by_hand": self.matched_by == "hand",
        }


@dataclass(frozen=True)
class InspectionSaved:
    """What saving an inspection did."""

    event_seq: int
    event_id: str
    line_no: int
    unit_no: int
    line_done: bool
    rma_done: bool
    rma: Rma


def utc_now() -> str:
    """The station clock as an ISO-8601 UTC timestamp with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def lookup_key(text: str) -> str:
    """The form codes are stored and looked up in: stripped, upper case."""
    return text.strip().upper()


def digits_and_letters(text: str) -> str:
    """A tracking number without spaces or dashes, upper case (as carriers compare them)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


# --- schema -----------------------------------------------------------------

def _m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE rmas (
            code TEXT PRIMARY KEY,           -- upper case, as scanned
            order_ref TEXT NOT NULL DEFAULT '',
            order_key TEXT NOT NULL DEFAULT '',
            customer_name TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('authorized','cancelled','expired')),
            stage TEXT NOT NULL DEFAULT 'expected',  -- expected / received / inspected
            received_at TEXT, received_station TEXT, received_operator TEXT,
            received_event TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX rmas_order_key ON rmas(order_key)")
    db.execute(
        """CREATE TABLE rma_lines (
            rma_code TEXT NOT NULL REFERENCES rmas(code),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL, gtin TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            category TEXT NOT NULL DEFAULT 'general',
            PRIMARY KEY (rma_code, line_no)
        )"""
    )
    db.execute("CREATE INDEX rma_lines_gtin ON rma_lines(gtin)")
    db.execute(
        """CREATE TABLE tracking_numbers (
            number TEXT PRIMARY KEY,         -- letters and digits only, upper case
            tail TEXT NOT NULL,              -- its rightmost characters, for suffix match
            rma_code TEXT NOT NULL REFERENCES rmas(code)
        )"""
    )
    db.execute("CREATE INDEX tracking_numbers_tail ON tracking_numbers(tail)")
    db.execute("CREATE INDEX tracking_numbers_rma ON tracking_numbers(rma_code)")
    db.execute(
        """CREATE TABLE operators (
            id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- station-local sequence
            id TEXT NOT NULL UNIQUE,                 -- globally unique event id
            type TEXT NOT NULL,
            station TEXT NOT NULL,
            operator TEXT NOT NULL,
            at TEXT NOT NULL,                        -- station clock, UTC
            rma_code TEXT,
            refers_to TEXT,                          -- the event an undo reverses
            payload TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX outbox_at ON outbox(at)")
    db.execute("CREATE INDEX outbox_rma ON outbox(rma_code) WHERE rma_code IS NOT NULL")
    # The outbox is append-only: the database itself refuses edits.
    db.execute(
        "CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'outbox events are never edited'); END"
    )
    db.execute(
        "CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'outbox events are never deleted'); END"
    )
    db.execute(
        """CREATE TABLE unexpected_parcels (
            event_id TEXT PRIMARY KEY, scanned TEXT NOT NULL, at TEXT NOT NULL,
            station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m002_inspections(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE inspections (
            event_id TEXT PRIMARY KEY,       -- the item.inspected event that recorded it
            rma_code TEXT NOT NULL REFERENCES rmas(code),
            line_no INTEGER NOT NULL,
            unit_no INTEGER NOT NULL,        -- 1..qty of the line
            scanned TEXT NOT NULL DEFAULT '',
            gtin TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '',
            lot TEXT NOT NULL DEFAULT '', expiry TEXT NOT NULL DEFAULT '',
            checklist_id TEXT NOT NULL, checklist_hash TEXT NOT NULL,
            suggested TEXT NOT NULL CHECK (suggested IN ('resellable','discounted','scrapped')),
            final TEXT NOT NULL CHECK (final IN ('resellable','discounted','scrapped')),
            override_reason TEXT NOT NULL DEFAULT '',
            failed_items TEXT NOT NULL DEFAULT '',   -- space-separated item ids, for defect summaries
            station TEXT NOT NULL, inspector TEXT NOT NULL,
            started_at TEXT NOT NULL, ended_at TEXT NOT NULL,
            UNIQUE (rma_code, line_no, unit_no)
        )"""
    )
    db.execute("CREATE INDEX inspections_ended ON inspections(ended_at)")
    db.execute("CREATE INDEX inspections_serial ON inspections(gtin, serial) WHERE serial != ''")
    db.execute(
        """CREATE TABLE item_mismatches (
            event_id TEXT PRIMARY KEY, rma_code TEXT NOT NULL, scanned TEXT NOT NULL,
            gtin TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL,
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )
    db.execute("ALTER TABLE rmas ADD COLUMN inspected_at TEXT")


def _m003_sync(db: sqlite_utils.Database) -> None:
    # what the server said about our events and about disagreements; all for a person to read
    db.execute(
        """CREATE TABLE sync_rejections (
            seq INTEGER PRIMARY KEY,         -- the outbox event the server refused
            event_id TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE sync_conflicts (
            id INTEGER PRIMARY KEY,          -- the server's conflict id
            kind TEXT NOT NULL, rma_code TEXT NOT NULL, event_ids TEXT NOT NULL,
            stations TEXT NOT NULL, detail TEXT NOT NULL, at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX sync_conflicts_rma ON sync_conflicts(rma_code)")
    db.execute(
        """CREATE TABLE synced_checklists (
            category TEXT PRIMARY KEY, document TEXT NOT NULL, cursor INTEGER NOT NULL, received_at TEXT NOT NULL
        )"""
    )


def _m004_photo_uploads(db: sqlite_utils.Database) -> None:
    # one row per photo an acknowledged event refers to: whether the server holds it (and in which of its
    # epochs, since a restored server may have lost it), or why it cannot be sent
    db.execute(
        """CREATE TABLE photo_uploads (
            sha256 TEXT PRIMARY KEY,
            path TEXT NOT NULL,              -- where the inspection found the file
            event_seq INTEGER NOT NULL,      -- the first outbox event referring to it
            held_epoch TEXT,                 -- the server epoch in which it confirmed holding the photo
            checked_at TEXT,                 -- when the server last confirmed it, or it last failed here
            sent_at TEXT,                    -- when this station last uploaded it
            problem TEXT NOT NULL DEFAULT '' -- why it cannot be sent (file missing or changed), for a person
        )"""
    )
    db.execute("CREATE INDEX photo_uploads_event ON photo_uploads(event_seq)")


def _m005_restored_stream(db: sqlite_utils.Database) -> None:
    # one row each time sync found this database older than what the server holds of the station (restored from
    # an older copy): the outbox events after after_seq go to the server `shift` seqs higher than their own, after
    # what the server holds; rows add up (see SeqMap).  The outbox itself is never touched.
    db.execute(
        """CREATE TABLE restored_stream (
            id INTEGER PRIMARY KEY,
            after_seq INTEGER NOT NULL,      -- outbox events above this seq ...
            shift INTEGER NOT NULL CHECK (shift > 0),  -- ... are sent this much higher
            server_seq INTEGER NOT NULL,     -- through which seq the server held the station's events then
            found_at TEXT NOT NULL,
            detail TEXT NOT NULL             -- the line shown to a person
        )"""
    )


def _m006_operator_roles(db: sqlite_utils.Database) -> None:
    # a badge carries a role: who may approve an override or someone else's undo (a supervisor)
    db.execute("ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'clerk' "
               "CHECK (role IN ('clerk', 'inspector', 'supervisor'))")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_inspections", _m002_inspections),
    ("003_sync", _m003_sync),
    ("004_photo_uploads", _m004_photo_uploads),
    ("005_restored_stream", _m005_restored_stream),
    ("006_operator_roles", _m006_operator_roles),
]


# --- the store -------------------------------------------------------------

class Store:
    """The station's local database.  Open one per thread; it is not shared."""

    def __init__(self, path: str | Path, *, create_folder: bool = False, busy_timeout_ms: int = 5000,
                 auto_checkpoint: bool = True):
        self.path = Path(path)
        folder = self.path.parent
        if not folder.is_dir():
            if create_folder:
                folder.mkdir(parents=True, exist_ok=True)
            else:
                raise DatabaseUnavailable(f"database folder {folder} does not exist; create it or pass another --db")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            refusal = _not_ours(conn, self.path)  # before WAL mode: someone else's file is left as it was
            if refusal:
                conn.close()
                raise DatabaseUnavailable(refusal)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if not auto_checkpoint:
                # The owner checkpoints from another connection (see checkpoint()), so a
                # commit at the bench never pays for copying the WAL into a large file.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.DatabaseError as exc:
            raise _explain(exc, self.path) from exc
        if mode.lower() != "wal":
            raise DatabaseUnavailable(f"cannot switch {self.path} to WAL mode (got {mode}); is the folder writable?")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.migrate()

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self.conn.close()

    def __enter__(self) -> "Store":
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
            raise _explain(exc, self.path) from exc
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise _explain(exc, self.path) from exc
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise _explain(exc, self.path) from exc

    def _rollback(self) -> None:
        """Roll back what is left of a failed transaction.

        After a failed COMMIT (disk full, I/O error) SQLite may have rolled
        back already; a second ROLLBACK would only hide the real reason.
        """
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass  # the transaction is gone either way; the first error is the one to report

    def migrate(self) -> list[str]:
        """Apply the named migrations not yet applied, each in its own transaction."""
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        except sqlite3.DatabaseError as exc:
            raise _explain(exc, self.path) from exc
        done = {r[0] for r in self.conn.execute("SELECT name FROM _migrations")}
        applied = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with self.write() as conn:
                step(self.db)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utc_now()))
            applied.append(name)
        if (self.conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID
                or self.conn.execute("PRAGMA user_version").fetchone()[0] != len(MIGRATIONS)):
            try:
                with self.write() as conn:  # recognisable as a station database, and of which schema
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            except StoreError:
                pass  # a read-only copy still reads; the mark is written by the next station that can write
        return applied

    # -- events -----------------------------------------------------------

    def _append(self, conn: sqlite3.Connection, type_: str, station: str, operator: str,
                payload: dict, rma_code: str | None = None, refers_to: str | None = None,
                at: str | None = None) -> tuple[int, str]:
        event_id = str(uuid.uuid4())
        cur = conn.execute(
            "INSERT INTO outbox (id, type, station, operator, at, rma_code, refers_to, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, type_, station, operator, at or utc_now(), rma_code, refers_to,
             json.dumps(payload, ensure_ascii=False, sort_keys=True)),
        )
        return cur.lastrowid, event_id

    def record(self, type_: str, station: str, operator: str, payload: dict,
               rma_code: str | None = None) -> int:
        """Append one event that changes no projection (sign-in, notes); returns its sequence."""
        with self.write() as conn:
            seq, _ = self._append(conn, type_, station, operator, payload, rma_code)
        return seq

    def events(self, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """Outbox events with a sequence above ``after_seq``, oldest first."""
        rows = self.conn.execute(
            "SELECT seq, id, type, station, operator, at, payload, rma_code, refers_to "
            "FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty outbox)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return row[0] if row else 0

    def acked_seq(self) -> int:
        """How far the server has acknowledged the outbox."""
        return int(self.get_state("acked_seq", "0"))

    def seq_map(self) -> "SeqMap":
        """How outbox seqs map to the seqs the server knows the events by (see :class:`SeqMap`)."""
        return SeqMap(tuple(self.conn.execute(
            "SELECT after_seq, sum(shift) FROM restored_stream GROUP BY after_seq ORDER BY after_seq")))

    def unsent_count(self) -> int:
        """Events the server has not acknowledged yet."""
        return max(0, self.last_seq() - self.acked_seq())

    def get_state(self, key: str, default: str | None = None) -> str | None:
        """A value from ``sync_state``."""
        row = self.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        """Set a ``sync_state`` value inside the caller's write transaction."""
        conn.execute("INSERT INTO sync_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, value))

    # -- the replica -------------------------------------------------------

    def upsert_rma(self, conn: sqlite3.Connection, rma: dict, lines: list[dict],
                   tracking_numbers: Iterable[str] = ()) -> None:
        """Insert or update one expected RMA with its lines, inside the caller's transaction.

        The RMA's local stage (received, inspected) is kept: the replica says
        what was authorised, the station says what it has done with it.
        """
        code = lookup_key(rma["rma_code"])
        order_ref = (rma.get("order_ref") or "").strip()
        conn.execute(
            "INSERT INTO rmas (code, order_ref, order_key, customer_name, reason, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET "
            "order_ref = excluded.order_ref, order_key = excluded.order_key, "
            "customer_name = excluded.customer_name, reason = excluded.reason, "
            "status = excluded.status, updated_at = excluded.updated_at",
            (code, order_ref, lookup_key(order_ref), (rma.get("customer_name") or "").strip(),
             (rma.get("reason") or "").strip(), rma["status"], utc_now()),
        )
        conn.execute("DELETE FROM rma_lines WHERE rma_code = ?", (code,))
        conn.executemany(
            "INSERT INTO rma_lines (rma_code, line_no, sku, gtin, description, qty, category) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(code, n, ln["sku"], ln.get("gtin") or "", ln.get("description") or "", int(ln["qty"]),
              (ln.get("category") or "general").strip().lower()) for n, ln in enumerate(lines, 1)],
        )
        for number in tracking_numbers:
            key = digits_and_letters(number)
            if key:
                conn.execute(
                    "INSERT INTO tracking_numbers VALUES (?, ?, ?) "
                    "ON CONFLICT(number) DO UPDATE SET rma_code = excluded.rma_code",
                    (key, key[-TRACKING_TAIL:], code))

    def import_rmas(self, rmas: Iterable[tuple[dict, list[dict], list[str]]], *, station: str,
                    operator: str, source: str, batch: int = 5000) -> int:
        """Load validated RMAs in large transactions; one ``rmas.imported`` event per call.

        Expected RMAs are a replica of what was authorised upstream, not work
        done at this bench, so one event records the import itself (what file,
        how many) rather than one event per RMA.
        """
        count = 0
        pending: list[tuple[dict, list[dict], list[str]]] = []

        def flush(final: bool) -> None:
            with self.write() as conn:
                for rma, lines, tracking in pending:
                    self.upsert_rma(conn, rma, lines, tracking)
                if final:
                    self._append(conn, "rmas.imported", station, operator, {"source": source, "rmas": count})
            pending.clear()

        for item in rmas:
            pending.append(item)
            count += 1
            if len(pending) >= batch:
                flush(final=False)
        flush(final=True)
        return count

    def add_operator(self, operator_id: str, name: str = "", role: str | None = None) -> Operator:
        """Register an operator (only registered ones sign in), or change a registered one's name or role.

        ``role`` is clerk, inspector or supervisor; None keeps the current one (clerk for a new operator).
        """
        operator_id = (operator_id or "").strip()
        if not operator_id or len(operator_id) > MAX_OPERATOR_ID or \
                any(not ch.isprintable() or ch.isspace() for ch in operator_id):
            raise StoreError(f"operator id {operator_id[:70]!r} must be 1-{MAX_OPERATOR_ID} printable characters "
                             "without spaces (it is the badge's OP:<id>)")
        if role is not None and role not in ROLES:
            raise StoreError(f"role {role!r} is not one of {', '.join(ROLES)}")
        with self.write() as conn:
            conn.execute("INSERT INTO operators (id, name, created_at, role) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN name "
                         "ELSE excluded.name END, role = CASE WHEN ? THEN excluded.role ELSE role END",
                         (operator_id, name or "", utc_now(), role or "clerk", role is not None))
        return self.operator(operator_id)

    def operator(self, operator_id: str) -> Operator | None:
        """The registered operator with this id, or None for an unknown badge."""
        row = self.conn.execute("SELECT id, name, role FROM operators WHERE id = ?", (operator_id,)).fetchone()
        return Operator(*row) if row else None

    def operators(self) -> list[Operator]:
        """Every registered operator, by id."""
        return [Operator(*r) for r in self.conn.execute("SELECT id, name, role FROM operators ORDER BY id")]

    def operator_name(self, operator_id: str) -> str | None:
        """The registered name of an operator, or None for an unknown badge."""
        found = self.operator(operator_id)
        return found.name if found else None

    def _approver(self, approved_by: str) -> str:
        """``approved_by`` checked to be a registered supervisor (raises :class:`StoreError` if not)."""
        found = self.operator(approved_by)
        if found is None:
            raise StoreError(f"{approved_by} is not a registered operator; a supervisor's badge must approve this")
        if found.role != "supervisor":
            article = "an" if found.role[0] in "aeiou" else "a"
            raise StoreError(f"{approved_by} is {article} {found.role}, not a supervisor; a supervisor's badge must "
                             "approve this")
        return found.id

    # -- looking up --------------------------------------------------------

    def get_rma(self, code: str) -> Rma | None:
        """The RMA with this code (any case), with its lines and tracking numbers."""
        row = self.conn.execute(
            "SELECT code, order_ref, customer_name, reason, status, stage, received_at, "
            "received_station, received_operator FROM rmas WHERE code = ?", (lookup_key(code),)).fetchone()
        if row is None:
            return None
        lines = tuple(Line(*r) for r in self.conn.execute(
            "SELECT line_no, sku, gtin, description, qty, category FROM rma_lines "
            "WHERE rma_code = ? ORDER BY line_no", (row[0],)))
        tracking = tuple(r[0] for r in self.conn.execute(
            "SELECT number FROM tracking_numbers WHERE rma_code = ? ORDER BY number", (row[0],)))
        return Rma(*row, lines=lines, tracking_numbers=tracking)

    def find_rma(self, scanned: str) -> tuple[Rma, str] | None:
        """Find the RMA a parcel scan refers to, and by what it matched.

        Looked up by RMA code, then by carrier tracking number (the scan may
        carry the carrier's routing prefix in front of the number, so the
        number is matched as the scan's rightmost characters), then by order
        reference.
        """
        key = lookup_key(scanned)
        if not key:
            return None
        rma = self.get_rma(key)
        if rma:
            return rma, "rma code"
        compact = digits_and_letters(key)
        if len(compact) >= MIN_TRACKING_LENGTH:
            for number, code in self.conn.execute(
                    "SELECT number, rma_code FROM tracking_numbers WHERE tail = ?", (compact[-TRACKING_TAIL:],)):
                if compact.endswith(number):
                    return self.get_rma(code), "tracking number"
            # a number shorter than the tail: its full length must match exactly
            row = self.conn.execute("SELECT rma_code FROM tracking_numbers WHERE number = ?", (compact,)).fetchone()
            if row:
                return self.get_rma(row[0]), "tracking number"
        row = self.conn.execute("SELECT code FROM rmas WHERE order_key = ? LIMIT 1", (key,)).fetchone()
        if row:
            return self.get_rma(row[0]), "order reference"
        return None

    # -- receiving ---------------------------------------------------------

    def receive(self, scanned: str, station: str, operator: str, *, item_barcode: bool = False) -> Receipt:
        """Receive the parcel a scan names, in one transaction with its event.

        ``item_barcode`` says the scan looks like a product barcode: if it
        matches no RMA, the answer is NOT AN RMA and nothing is recorded,
        instead of an unexpected parcel.
        """
        with self.write() as conn:
            found = self.find_rma(scanned)
            if found is None:
                if item_barcode:
                    return Receipt(Outcome.NOT_AN_RMA, scanned)
                seq, event_id = self._append(conn, "parcel.unexpected", station, operator, {"scanned": scanned})
                conn.execute("INSERT INTO unexpected_parcels VALUES (?, ?, ?, ?, ?)",
                             (event_id, scanned, utc_now(), station, operator))
                return Receipt(Outcome.NOT_EXPECTED, scanned, event_seq=seq)
            rma, matched_by = found
            if rma.stage != "expected":
                return Receipt(Outcome.ALREADY_RECEIVED, scanned, rma, matched_by)
            if rma.status in ("cancelled", "expired"):
                outcome = Outcome.CANCELLED if rma.status == "cancelled" else Outcome.EXPIRED
                seq, _ = self._append(conn, "parcel.refused", station, operator,
                                      {"scanned": scanned, "status": rma.status}, rma.code)
                return Receipt(outcome, scanned, rma, matched_by, seq)
            at = utc_now()
            seq, event_id = self._append(
                conn, "rma.received", station, operator,
                {"scanned": scanned, "matched_by": matched_by}, rma.code, at=at)
            conn.execute(
                "UPDATE rmas SET stage = 'received', received_at = ?, received_station = ?, "
                "received_operator = ?, received_event = ? WHERE code = ?",
                (at, station, operator, event_id, rma.code))
            return Receipt(Outcome.RECEIVED, scanned, self.get_rma(rma.code), matched_by, seq)

    def last_receipt(self, station: str) -> Rma | None:
        """The RMA this station received most recently and has not undone."""
        row = self.conn.execute(
            "SELECT code FROM rmas WHERE stage = 'received' AND received_station = ? "
            "ORDER BY received_at DESC LIMIT 1", (station,)).fetchone()
        return self.get_rma(row[0]) if row else None

    def undo_receive(self, code: str, station: str, operator: str, reason: str = "undo", *,
                     approved_by: str = "") -> Rma:
        """Reverse a receipt with a compensating ``rma.receive_undone`` event.

        ``approved_by`` names the supervisor who approved it (someone else's or an older receipt);
        it must be a registered supervisor, and is recorded on the event.
        """
        payload: dict = {"reason": reason}
        if approved_by:
            payload["approved_by"] = self._approver(approved_by)
        with self.write() as conn:
            row = conn.execute("SELECT stage, received_event FROM rmas WHERE code = ?",
                               (lookup_key(code),)).fetchone()
            if row is None or row[0] != "received":
                raise StoreError(f"{code} is not received (or already inspected); nothing to undo")
            if conn.execute("SELECT 1 FROM inspections WHERE rma_code = ? LIMIT 1", (lookup_key(code),)).fetchone():
                raise StoreError(f"{code} has inspected items; a receipt with inspections cannot be undone")
            self._append(conn, "rma.receive_undone", station, operator, payload,
                         lookup_key(code), refers_to=row[1])
            conn.execute(
                "UPDATE rmas SET stage = 'expected', received_at = NULL, received_station = NULL, "
                "received_operator = NULL, received_event = NULL WHERE code = ?", (lookup_key(code),))
        return self.get_rma(code)

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

    def checkpoint(self, *, truncate: bool = False) -> None:
        """Copy committed WAL pages into the database file without blocking writers (PASSIVE).

        ``truncate`` also empties the WAL file when no reader is in it (after a
        batch, e.g. ``rma receive``), so it does not stay at its largest size.
        """
        try:
            self.conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if truncate else 'PASSIVE'})")
        except sqlite3.DatabaseError as exc:
            raise _explain(exc, self.path) from exc

    # --- inspections -------------------------------------------------------

    def save_inspection(self, inspection: "Inspection", station: str, operator: str, *,
                        approved_by: str = "") -> "InspectionSaved":
        """Record one inspected unit: an ``item.inspected`` event and its projection, in ONE transaction.

        The unit is the next uninspected one of its line.  When it is the
        last unit of the RMA, the RMA moves to stage ``inspected`` and an
        ``rma.inspected`` event with the per-line dispositions is appended in
        the same transaction.  Refused (nothing written) when the RMA is not
        received, the line is done already, or an override has no reason.
        ``approved_by`` names the supervisor who approved an override (a
        registered supervisor, or nothing is saved); it is recorded on the event.
        """
        problem = inspection.problem()
        if problem:
            raise StoreError(f"inspection not saved: {problem}")
        if approved_by:
            try:
                approved_by = self._approver(approved_by)
            except StoreError as exc:
                raise StoreError(f"inspection not saved: {exc}") from None
        code = lookup_key(inspection.rma_code)
        with self.write() as conn:
            rma = self.get_rma(code)
            if rma is None:
                raise StoreError(f"inspection not saved: no RMA {code}")
            if rma.stage == "expected":
                raise StoreError(f"inspection not saved: {code} is not received yet; receive it first")
            if rma.stage == "inspected":
                raise StoreError(f"inspection not saved: every item of {code} is inspected already")
            line = next((ln for ln in rma.lines if ln.line_no == inspection.line_no), None)
            if line is None:
                raise StoreError(f"inspection not saved: {code} has no line {inspection.line_no}")
            done = conn.execute("SELECT count(*) FROM inspections WHERE rma_code = ? AND line_no = ?",
                                (code, line.line_no)).fetchone()[0]
            if done >= line.qty:
                raise StoreError(f"inspection not saved: line {line.line_no} of {code} ({line.qty} × {line.sku}) "
                                 "is inspected already")
            ended = inspection.ended_at or utc_now()
            unit = done + 1
            payload = inspection.payload(line, unit, ended)
            payload.update(station=station, inspector=operator)
            if approved_by:
                payload["approved_by"] = approved_by
            seq, event_id = self._append(conn, "item.inspected", station, operator, payload, code, at=ended)
            conn.execute(
                "INSERT INTO inspections (event_id, rma_code, line_no, unit_no, scanned, gtin, serial, lot, expiry, "
                "checklist_id, checklist_hash, suggested, final, override_reason, failed_items, station, inspector, "
                "started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, code, line.line_no, unit, inspection.scanned, inspection.gtin, inspection.serial,
                 inspection.lot, inspection.expiry, inspection.checklist_id, inspection.checklist_hash,
                 inspection.suggested, inspection.final, inspection.override_reason,
                 " ".join(a["item"] for a in inspection.answers if a.get("failed")), station, operator,
                 inspection.started_at, ended))
            progress = self.inspection_progress(code)
            rma_done = all(len(progress.get(ln.line_no, ())) >= ln.qty for ln in rma.lines)
            if rma_done:
                lines = [{"line_no": ln.line_no, "sku": ln.sku, "qty": ln.qty,
                          "dispositions": list(progress.get(ln.line_no, ()))} for ln in rma.lines]
                self._append(conn, "rma.inspected", station, operator, {"lines": lines}, code, at=ended)
                conn.execute("UPDATE rmas SET stage = 'inspected', inspected_at = ? WHERE code = ?", (ended, code))
            return InspectionSaved(seq, event_id, line.line_no, unit, unit >= line.qty, rma_done, self.get_rma(code))

    def record_mismatch(self, rma_code: str, scanned: str, station: str, operator: str, *, gtin: str = "",
                        serial: str = "", lot: str = "", expiry: str = "", reason: str = "") -> int:
        """Record an item that matches no line of the RMA (wrong or swapped item): ``item.mismatch``."""
        code = lookup_key(rma_code)
        reason = reason or "item matches no line of the RMA"
        with self.write() as conn:
            at = utc_now()
            seq, event_id = self._append(
                conn, "item.mismatch", station, operator,
                {"scanned": scanned, "gtin": gtin, "serial": serial, "lot": lot, "expiry": expiry, "reason": reason,
                 "expected_gtins": [r[0] for r in conn.execute(
                     "SELECT gtin FROM rma_lines WHERE rma_code = ? ORDER BY line_no", (code,))]},
                code, at=at)
            conn.execute("INSERT INTO item_mismatches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (event_id, code, scanned, gtin, serial, reason, at, station, operator))
        return seq

    def inspection_progress(self, code: str) -> dict[int, tuple[str, ...]]:
        """Per line number, the final dispositions of its inspected units (in unit order)."""
        progress: dict[int, list[str]] = {}
        for line_no, final in self.conn.execute(
                "SELECT line_no, final FROM inspections WHERE rma_code = ? ORDER BY line_no, unit_no",
                (lookup_key(code),)):
            progress.setdefault(line_no, []).append(final)
        return {k: tuple(v) for k, v in progress.items()}

    def inspections_of(self, code: str) -> list[dict]:
        """The inspection rows of an RMA, oldest first."""
        cur = self.conn.execute("SELECT * FROM inspections WHERE rma_code = ? ORDER BY ended_at, line_no, unit_no",
                                (lookup_key(code),))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def serial_inspected_before(self, gtin: str, serial: str) -> str | None:
        """The RMA on which this GTIN + serial was inspected already, if any (a re-returned unit)."""
        if not serial:
            return None
        row = self.conn.execute("SELECT rma_code FROM inspections WHERE gtin = ? AND serial = ? LIMIT 1",
                                (gtin, serial)).fetchone()
        return row[0] if row else None

    def waiting_for_inspection(self, limit: int = 50) -> list[Rma]:
        """Received RMAs not fully inspected, longest waiting first."""
        rows = self.conn.execute("SELECT code FROM rmas WHERE stage = 'received' ORDER BY received_at LIMIT ?",
                                 (limit,)).fetchall()
        return [self.get_rma(r[0]) for r in rows]

    def dispositions_since(self, since: str, station: str | None = None) -> dict[str, int]:
        """Inspected units per final disposition since a timestamp (the shift's figures)."""
        return self._tally("inspections", "final", "ended_at", since, station)

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: ``ok`` or the problems it found."""
        return "\n".join(r[0] for r in self.conn.execute("PRAGMA integrity_check"))


# --- sync -------------------------------------------------------------------
# What sync.client writes.  Pulled changes and the cursor that covers them go in
# the caller's one transaction; the outbox is never touched (acknowledgement is
# the "acked_seq" in sync_state).

def apply_changes(store: Store, conn: sqlite3.Connection, changes: Iterable[dict]) -> None:
    """Apply pulled changes (``sync.protocol.Change`` as dicts) inside the caller's transaction."""
    for change in changes:
        kind = change["kind"]
        if kind == "rma":
            rma = change["rma"]
            store.upsert_rma(conn, rma, rma["lines"], rma.get("tracking_numbers") or ())
        elif kind == "checklist":
            doc = change["checklist"]
            conn.execute("INSERT INTO synced_checklists VALUES (?, ?, ?, ?) ON CONFLICT(category) DO UPDATE SET "
                         "document = excluded.document, cursor = excluded.cursor, received_at = excluded.received_at",
                         (doc["category"], doc["document"], change["cursor"], utc_now()))
        elif kind == "conflict":
            c = change["conflict"]
            conn.execute("INSERT OR REPLACE INTO sync_conflicts VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (c["id"], c["kind"], c["rma_code"], json.dumps(c["event_ids"]), json.dumps(c["stations"]),
                          c["detail"], c["at"]))


def record_rejections(conn: sqlite3.Connection, rejected: Iterable[dict]) -> None:
    """Keep what the server refused (seq, id, reason), once each."""
    conn.executemany("INSERT OR IGNORE INTO sync_rejections VALUES (?, ?, ?, ?)",
                     [(r["seq"], r.get("id", ""), r["reason"], utc_now()) for r in rejected])


def sync_conflicts(store: Store, rma_code: str | None = None) -> list[dict]:
    """Conflicts the server reported (all, or one RMA's), oldest first."""
    sql = "SELECT id, kind, rma_code, event_ids, stations, detail, at FROM sync_conflicts"
    args: tuple = ()
    if rma_code:
        sql, args = sql + " WHERE rma_code = ?", (lookup_key(rma_code),)
    return [{"id": r[0], "kind": r[1], "rma_code": r[2], "event_ids": json.loads(r[3]),
             "stations": json.loads(r[4]), "detail": r[5], "at": r[6]}
            for r in store.conn.execute(sql + " ORDER BY id", args)]


def sync_rejections(store: Store) -> list[dict]:
    """Events the server refused, with its reasons."""
    return [{"seq": r[0], "event_id": r[1], "reason": r[2], "at": r[3]}
            for r in store.conn.execute("SELECT seq, event_id, reason, at FROM sync_rejections ORDER BY seq")]


# --- a database restored from an older copy -------------------------------------
# When the server holds more of this station's sequence than this database has (the file was put back from an
# older copy), the server keeps what it holds and this station's later events follow it: each outbox event after
# the restore point is sent under a seq shifted past the server's.  Outbox seqs stay as they are.

@dataclass(frozen=True)
class SeqMap:
    """Outbox seq <-> the seq the server knows an event by: equal, unless the database was restored.

    ``steps`` are ``(after_seq, shift)`` pairs in order: every outbox event
    above ``after_seq`` is sent ``shift`` higher (on top of earlier steps).
    """

    steps: tuple[tuple[int, int], ...] = ()

    def wire(self, seq: int) -> int:
        """The seq the server knows outbox event ``seq`` by."""
        return seq + sum(shift for after, shift in self.steps if after < seq)

    def wire_after(self, seq: int) -> int:
        """The server's seq just before the event that follows outbox event ``seq`` (a push's ``after_seq``)."""
        return self.wire(seq + 1) - 1

    def local(self, wire: int) -> int:
        """The newest outbox seq the server holds when it holds this station's events through ``wire``."""
        total = sum(shift for _, shift in self.steps)
        for after, shift in reversed(self.steps):
            if wire - total > after:
                return wire - total
            total -= shift
            if wire - total > after:  # inside the server's part: the events this database lacks
                return after
        return wire

    def boundary(self, seq: int) -> int | None:
        """The first step above outbox seq ``seq``: one push must not cross it (the server's seqs jump there)."""
        return next((after for after, _ in self.steps if after > seq), None)


def record_restored_stream(conn: sqlite3.Connection, after_seq: int, shift: int, server_seq: int,
                           detail: str) -> None:
    """Events after ``after_seq`` go ``shift`` higher from now on (inside the caller's transaction)."""
    conn.execute("INSERT INTO restored_stream (after_seq, shift, server_seq, found_at, detail) VALUES (?, ?, ?, ?, ?)",
                 (after_seq, shift, server_seq, utc_now(), detail))


def restored_streams(store: Store) -> list[dict]:
    """Each time this database was found older than the server's copy of the station, oldest first."""
    return [{"after_seq": r[0], "shift": r[1], "server_seq": r[2], "found_at": r[3], "detail": r[4]}
            for r in store.conn.execute("SELECT after_seq, shift, server_seq, found_at, detail FROM restored_stream "
                                        "ORDER BY id")]


# --- photo uploads ------------------------------------------------------------
# Which evidence photos the server holds.  Photos go after the events that refer to
# them: only events the server acknowledged are read for photos.

@dataclass(frozen=True)
class PhotoUpload:
    """A photo an acknowledged event refers to, due to be checked with the server (or sent)."""

    sha256: str
    path: str
    event_seq: int


def note_photos(store: Store, conn: sqlite3.Connection, acked_seq: int) -> int:
    """Record the photos of ``item.inspected`` events acknowledged since the last call; returns how many.

    An event the server refused brings no photos: nothing there refers to them.
    """
    after = int(store.get_state("photos_noted_seq", "0"))
    if acked_seq <= after:
        return 0
    rows = []
    for seq, payload in conn.execute("SELECT seq, payload FROM outbox WHERE seq > ? AND seq <= ? "
                                     "AND type = 'item.inspected' AND seq NOT IN (SELECT seq FROM sync_rejections) "
                                     "ORDER BY seq", (after, acked_seq)):
        for photo in json.loads(payload).get("photos") or ():
            if isinstance(photo, dict) and photo.get("sha256"):
                rows.append((str(photo["sha256"]).lower(), str(photo.get("path") or ""), seq))
    conn.executemany("INSERT OR IGNORE INTO photo_uploads (sha256, path, event_seq) VALUES (?, ?, ?)", rows)
    store.set_state(conn, "photos_noted_seq", str(acked_seq))
    return len(rows)


def photos_due(store: Store, epoch: str, checked_before: str) -> list[PhotoUpload]:
    """Photos of acknowledged events to ask the server about: never confirmed in this server epoch,
    failed here, or last confirmed before ``checked_before`` (a server can lose what it had)."""
    rows = store.conn.execute(
        "SELECT sha256, path, event_seq FROM photo_uploads WHERE event_seq <= ? AND "
        "(held_epoch IS NULL OR held_epoch != ? OR checked_at IS NULL OR checked_at < ?) AND "
        "(problem = '' OR checked_at IS NULL OR checked_at < ?) ORDER BY event_seq, sha256",
        (store.acked_seq(), epoch, checked_before, checked_before))
    return [PhotoUpload(*r) for r in rows]


def photo_held(conn: sqlite3.Connection, sha256: str, epoch: str, *, sent: bool = False) -> None:
    """The server holds this photo (in ``epoch``); clears any earlier problem."""
    now = utc_now()
    conn.execute("UPDATE photo_uploads SET held_epoch = ?, checked_at = ?, problem = '', "
                 "sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE sha256 = ?", (epoch, now, sent, now, sha256))


def photo_problem(conn: sqlite3.Connection, sha256: str, problem: str) -> None:
    """This photo cannot be sent now, and why (tried again after the recheck interval)."""
    conn.execute("UPDATE photo_uploads SET held_epoch = NULL, checked_at = ?, problem = ? WHERE sha256 = ?",
                 (utc_now(), problem, sha256))


def photo_uploads(store: Store) -> dict[str, int]:
    """How many noted photos the server holds, are waiting to be sent, or have a problem."""
    held, waiting, problems = store.conn.execute(
        "SELECT count(held_epoch), count(*) FILTER (WHERE held_epoch IS NULL AND problem = ''), "
        "count(*) FILTER (WHERE problem != '') FROM photo_uploads").fetchone()
    return {"held": held, "waiting": waiting, "problems": problems}


def photo_problems(store: Store) -> list[dict]:
    """Photos that cannot be sent, with the reason, oldest event first."""
    return [{"sha256": r[0], "path": r[1], "event_seq": r[2], "problem": r[3], "at": r[4]}
            for r in store.conn.execute("SELECT sha256, path, event_seq, problem, checked_at FROM photo_uploads "
                                        "WHERE problem != '' ORDER BY event_seq, sha256")]


def _not_ours(conn: sqlite3.Connection, path: Path) -> str:
    """Why this file must not be used as a station database ("" when it may).

    A fresh or empty file, or one of this station (its application id, or the
    ``_migrations`` of an older version that did not set one) may; the file of
    another program, or one written by a newer station version, may not.
    """
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    keep = "nothing was changed in it; pass another --db"
    if app_id not in (0, APPLICATION_ID):
        return f"{path} is the database of another program (application id {app_id:#x}); {keep}"
    if app_id == 0 and "_migrations" not in tables and tables:
        names = ", ".join(sorted(tables)[:5])
        return f"{path} is the database of another program (tables {names}); {keep}"
    if "_migrations" in tables:
        known = {name for name, _ in MIGRATIONS}
        unknown = sorted({r[0] for r in conn.execute("SELECT name FROM _migrations")} - known)
        if unknown:
            return (f"{path} was written by a newer station version (schema {', '.join(unknown[:3])}); "
                    f"{keep}, or update this station")
    if version > len(MIGRATIONS):
        return (f"{path} was written by a newer station version (schema version {version}, this station knows "
                f"{len(MIGRATIONS)}); {keep}, or update this station")
    return ""


def _no_space_left(path: Path) -> bool:
    """True when the disk holding ``path`` is (nearly) full: SQLite reports that as an I/O error on open."""
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def _explain(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    """Turn SQLite's message into one a clerk or a script can act on."""
    text = str(exc).lower()
    if "full" in text or ("disk i/o" in text and _no_space_left(path)):
        return DiskFull(f"disk full: database {path} cannot grow; nothing was recorded — free space on its disk")
    if "locked" in text or "busy" in text:
        return DatabaseBusy(f"database {path} is locked by another program; nothing was recorded — try again")
    if "readonly" in text or "read-only" in text:
        return DatabaseUnavailable(f"database {path} is read-only; nothing was recorded — check its permissions")
    if "unable to open" in text:
        return DatabaseUnavailable(f"cannot open database {path}; check the path and its folder's permissions")
    if "not a database" in text or "malformed" in text:
        return DatabaseUnavailable(f"{path} is not a usable SQLite database ({exc})")
    return DatabaseUnavailable(f"database {path}: {exc}")
