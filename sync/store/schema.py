"""The station database's schema: named migrations, and the check that a file is ours to migrate.

Each migration is a function of a :class:`sqlite_utils.Database`, applied
once, in its own ``BEGIN IMMEDIATE`` transaction, and recorded by name in
``_migrations`` (see :meth:`sync.store.base.Database.migrate`).  A migration
is never edited once released: a change is a new one at the end of the list.
``PRAGMA application_id`` tells a station database apart from another
program's file, and ``PRAGMA user_version`` counts the migrations applied, so
a file written by a newer station is refused, untouched, instead of damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from gettext import gettext as _
from pathlib import Path

import sqlite_utils

from sync.store.records import CHANNELS

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]

# PRAGMA application_id of a station database ("RMAS"), so it is told apart from another program's file
APPLICATION_ID = 0x524D4153


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
    db.execute(
        "ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'clerk' "
        "CHECK (role IN ('clerk', 'inspector', 'supervisor'))"
    )


def _m007_channels_lpn(db: sqlite_utils.Database) -> None:
    # where each inspected unit goes (its channel, decided by routing rules, and the bin), and its license plate
    channels = ", ".join(f"'{c}'" for c in ("", *CHANNELS))  # '': inspected before channels existed
    for column in ("channel", "suggested_channel"):
        db.execute(
            f"ALTER TABLE inspections ADD COLUMN {column} TEXT NOT NULL DEFAULT '' CHECK ({column} IN ({channels}))"
        )
    for column in ("channel_reason", "bin", "routing_id", "routing_hash"):
        db.execute(f"ALTER TABLE inspections ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE inspections ADD COLUMN lpn TEXT")  # NULL: inspected before license plates
    db.execute("CREATE UNIQUE INDEX inspections_lpn ON inspections(lpn) WHERE lpn IS NOT NULL")
    # the unit value of a line (for routing rules' value thresholds), when the import gave one
    db.execute("ALTER TABLE rma_lines ADD COLUMN value REAL CHECK (value IS NULL OR value >= 0)")


def _m008_reason_code(db: sqlite_utils.Database) -> None:
    # the reason code the customer's reason text maps to (qc_checklists.reasons, given by the importer); the text
    # itself stays in `reason`. '' = not known to the vocabulary, or an RMA loaded before this column.
    db.execute("ALTER TABLE rmas ADD COLUMN reason_code TEXT NOT NULL DEFAULT ''")


def _m009_operator_language(db: sqlite_utils.Database) -> None:
    # an operator may read another language than the station's ("zh-CN"); "" is the station's
    db.execute("ALTER TABLE operators ADD COLUMN language TEXT NOT NULL DEFAULT ''")


def _m010_putaway(db: sqlite_utils.Database) -> None:
    # where each inspected unit is now (the bin its last put-away put it in); the moves are unit.put_away events
    db.execute(
        """CREATE TABLE unit_places (
            lpn TEXT PRIMARY KEY,            -- the unit's license plate (inspections.lpn)
            bin TEXT NOT NULL,               -- upper case, as printed on the bin's label
            channel TEXT NOT NULL, rma_code TEXT NOT NULL, line_no INTEGER NOT NULL, unit_no INTEGER NOT NULL,
            event_id TEXT NOT NULL,          -- the unit.put_away event that put it there
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX unit_places_bin ON unit_places(bin)")


def _m011_containers(db: sqlite_utils.Database) -> None:
    # the bins, totes, gaylords and pallets this station labelled, closed or moved (a routing or station.toml
    # bin it never did has no row: an open bin, here); the events are container.* in the outbox
    db.execute(
        """CREATE TABLE containers (
            name TEXT PRIMARY KEY,           -- upper case, as printed on its label (BIN:<name>)
            kind TEXT NOT NULL DEFAULT 'bin' CHECK (kind IN ('bin','tote','gaylord','pallet')),
            takes TEXT NOT NULL DEFAULT '[]', -- JSON list of channels it takes besides the routing's/station's
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closed')),
            location TEXT NOT NULL DEFAULT '',
            closed_at TEXT, closed_event TEXT,
            event_id TEXT NOT NULL, updated_at TEXT NOT NULL
        )"""
    )
    # units that left the building in a shipped container (their unit_places row is gone with them)
    db.execute(
        """CREATE TABLE unit_shipments (
            lpn TEXT PRIMARY KEY, container TEXT NOT NULL, destination TEXT NOT NULL,
            event_id TEXT NOT NULL, at TEXT NOT NULL
        )"""
    )
    # each count of a bin (the bin.counted event's figures), the newest per bin shown by rma container show
    db.execute(
        """CREATE TABLE bin_counts (
            event_id TEXT PRIMARY KEY, bin TEXT NOT NULL, at TEXT NOT NULL,
            station TEXT NOT NULL, operator TEXT NOT NULL,
            expected INTEGER NOT NULL, found INTEGER NOT NULL,
            missing TEXT NOT NULL, extra TEXT NOT NULL  -- JSON lists of plates
        )"""
    )
    db.execute("CREATE INDEX bin_counts_bin ON bin_counts(bin, at)")


def _m015_risk(db: sqlite_utils.Database) -> None:
    # what the server knew of the customer's returns when it authorised the RMA (sync.protocol.Risk); a row
    # only for an RMA worth a full inspection; the customer themselves never reaches the station
    db.execute(
        """CREATE TABLE rma_risk (
            rma_code TEXT PRIMARY KEY REFERENCES rmas(code),
            returns_30d INTEGER NOT NULL,    -- the customer's returns authorised in 30 days, this one counted
            mismatches INTEGER NOT NULL      -- their earlier returns with an item that matched no line
        )"""
    )


def _m012_exceptions(db: sqlite_utils.Database) -> None:
    # what ends on a shelf no more (sync/store/exceptions.py): the second and later parcels of an RMA (its first is
    # its receipt, rmas.received_event), lines closed as not received, undeclared items, and what became of each
    # unexpected parcel (attached to an RMA, or given a blind RMA)
    db.execute(
        """CREATE TABLE parcels (
            event_id TEXT PRIMARY KEY,       -- the rma.parcel_received or parcel.attached event
            rma_code TEXT NOT NULL REFERENCES rmas(code),
            parcel_no INTEGER NOT NULL CHECK (parcel_no >= 2),
            parcel_key TEXT NOT NULL DEFAULT '',  -- its tracking number (JD: and parcel number); '' when unknown
            scanned TEXT NOT NULL DEFAULT '', how TEXT NOT NULL,  -- scan / clerk / attached
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL,
            UNIQUE (rma_code, parcel_no)
        )"""
    )
    db.execute("CREATE UNIQUE INDEX parcels_key ON parcels(rma_code, parcel_key) WHERE parcel_key != ''")
    db.execute(
        """CREATE TABLE lines_not_received (
            event_id TEXT PRIMARY KEY,       -- the line.not_received event
            rma_code TEXT NOT NULL REFERENCES rmas(code), line_no INTEGER NOT NULL,
            units INTEGER NOT NULL CHECK (units > 0),
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX lines_not_received_line ON lines_not_received(rma_code, line_no)")
    db.execute(
        """CREATE TABLE undeclared_items (
            event_id TEXT PRIMARY KEY,       -- the item.undeclared event
            rma_code TEXT NOT NULL REFERENCES rmas(code),
            barcode TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', photos TEXT NOT NULL DEFAULT '[]',
            lpn TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, bin TEXT NOT NULL,
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE parcel_resolutions (
            parcel_event TEXT PRIMARY KEY REFERENCES unexpected_parcels(event_id),
            event_id TEXT NOT NULL,          -- the parcel.attached or rma.blind_created event
            kind TEXT NOT NULL CHECK (kind IN ('attached', 'blind')),
            rma_code TEXT NOT NULL, approved_by TEXT NOT NULL,
            at TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL
        )"""
    )


def _m014_priority(db: sqlite_utils.Database) -> None:
    # the RMA's priority (sync.protocol.RmaRecord.priority): which SLA limits its backlog clocks count with
    db.execute("ALTER TABLE rmas ADD COLUMN priority TEXT NOT NULL DEFAULT 'standard'")


MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("002_inspections", _m002_inspections),
    ("003_sync", _m003_sync),
    ("004_photo_uploads", _m004_photo_uploads),
    ("005_restored_stream", _m005_restored_stream),
    ("006_operator_roles", _m006_operator_roles),
    ("007_channels_lpn", _m007_channels_lpn),
    ("008_reason_code", _m008_reason_code),
    ("009_operator_language", _m009_operator_language),
    ("010_putaway", _m010_putaway),
    ("011_containers", _m011_containers),
    ("012_exceptions", _m012_exceptions),
    ("015_risk", _m015_risk),
    ("014_priority", _m014_priority),
]


def refusal(
    conn: sqlite3.Connection,
    path: Path,
    *,
    application_id: int,
    migrations: Sequence[Migration],
    older_tables: Collection[str] = (),
) -> str:
    """Why this file must not be opened as this kind of database ("" when it may).

    A fresh or empty file, or one of ours (its application id, the
    ``_migrations`` of an older version that did not set one, or only the
    ``older_tables`` of a version before named migrations) may; the file of
    another program, or one written by a newer version, may not.
    """
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id not in (0, application_id):
        return _(
            "{path} is the database of another program (application id {id:#x}); "
            "nothing was changed in it; pass another --db"
        ).format(path=path, id=app_id)
    if app_id == 0 and "_migrations" not in tables and tables and not tables <= set(older_tables):
        names = ", ".join(sorted(tables)[:5])
        return _(
            "{path} is the database of another program (tables {names}); nothing was changed in it; pass another --db"
        ).format(path=path, names=names)
    if "_migrations" in tables:
        known = {name for name, _step in migrations}
        unknown = sorted({r[0] for r in conn.execute("SELECT name FROM _migrations")} - known)
        if unknown:
            return _(
                "{path} was written by a newer station version (schema {schema}); nothing was changed in it; "
                "pass another --db, or update this station"
            ).format(path=path, schema=", ".join(unknown[:3]))
    if version > len(migrations):
        return _(
            "{path} was written by a newer station version (schema version {version}, this station knows "
            "{known}); nothing was changed in it; pass another --db, or update this station"
        ).format(path=path, version=version, known=len(migrations))
    return ""
