"""Return analytics: why things come back, what inspection found, how fast the floor works.

Pure queries over SQLAlchemy Core, so SQLite and PostgreSQL share them.  The
stations' events are the source; reading their JSON payloads for every report
would not answer at 10 million events, so the events are folded, once each,
into three narrow fact tables that the reports group and count with indexes:

* ``an_units``: one row per inspected unit (RMA, line, unit) — SKU, category,
  lot, supplier, checklist (id + content hash), the customer's reason code and
  whether inspection confirmed it, grade, channel, station, operator, its day,
  ISO week and clock hour, and the seconds of each step it went through
  (received → inspected, inspected → put away);
* ``an_checks``: one row per failed check of an inspected unit;
* ``an_rmas``: one row per received RMA — its reason code and the seconds
  from authorisation to receipt;
* ``an_cursor``: how far through the events the fold has come.

:func:`refresh` folds the new events (each report calls it first, so what a
report shows is at most one push old).  It is incremental and idempotent:
events are taken by their primary key after the cursor, and the last
``SETTLE`` seconds of events are looked at again on the next refresh, because
on PostgreSQL a push that started earlier may commit later with a smaller
key.  A corrected inspection (``refers_to`` the earlier one) replaces it; a
second inspection of the same unit (the ``inspected_twice`` conflict) is left
out until a person resolves it, as the stage projection does.

Every figure has a drill-down: :func:`units` (or :func:`rmas_waiting` for the
authorised → received step) with the same key returns the RMA codes behind it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from qc_checklists.reasons import reason_code
from sync.protocol import parse_stamp

metadata = sa.MetaData()

units_t = sa.Table(
    "an_units",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("rma_code", sa.String(64), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("unit_no", sa.Integer, nullable=False),
    sa.Column("lpn", sa.String(64), nullable=False, server_default=""),
    sa.Column("sku", sa.String(64), nullable=False, server_default=""),
    sa.Column("category", sa.String(64), nullable=False, server_default=""),
    sa.Column("lot", sa.String(64), nullable=False, server_default=""),
    sa.Column("supplier", sa.String(64), nullable=False, server_default=""),
    sa.Column("checklist", sa.String(140), nullable=False, server_default=""),  # its version: "id@hash12"
    sa.Column("checklist_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("reason_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("reason_confirmed", sa.String(16), nullable=False, server_default=""),
    sa.Column("grade", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False, server_default=""),
    sa.Column("station", sa.String(64), nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("inspected_at", sa.String(40), nullable=False),  # UTC, ISO-8601
    sa.Column("day", sa.String(10), nullable=False),  # YYYY-MM-DD (UTC)
    sa.Column("week", sa.String(8), nullable=False),  # YYYY-Www (ISO week)
    sa.Column("hour", sa.String(13), nullable=False),  # YYYY-MM-DDTHH (UTC): units per hour counts these
    sa.Column("received_at", sa.String(40)),
    sa.Column("inspect_secs", sa.Integer),  # received -> inspected
    sa.Column("put_away_at", sa.String(40)),
    sa.Column("putaway_secs", sa.Integer),  # inspected -> put away (first bin)
    sa.UniqueConstraint("rma_code", "line_no", "unit_no", name="an_units_unit"),
    # each report groups or filters by one of these, with the day for a period, and counts what the
    # index holds after it: PostgreSQL answers from the index alone (an index-only scan)
    sa.Index("an_units_reason", "reason_code", "reason_confirmed", "day"),
    sa.Index("an_units_sku", "sku", "day", "grade", "channel"),
    sa.Index("an_units_category", "category", "day", "grade", "channel"),
    # the reasons report by category: a category holds a large share of all units, too many to fetch
    # each row's reason from the table (1.8 s cold at 2.9 million units, bench/supervisor_bench.py)
    sa.Index("an_units_category_reason", "category", "day", "reason_code", "reason_confirmed"),
    sa.Index("an_units_lot", "lot", "day", "grade", "channel"),
    sa.Index("an_units_supplier", "supplier", "day", "grade", "channel"),
    sa.Index("an_units_checklist", "checklist", "day", "grade", "channel"),
    sa.Index("an_units_checklist_id", "checklist_id", "day"),
    sa.Index("an_units_day", "day", "grade", "reason_confirmed"),
    sa.Index("an_units_week", "week", "grade", "reason_confirmed"),
    sa.Index("an_units_station", "station", "day", "hour"),
    sa.Index("an_units_operator", "operator", "day", "hour"),
    sa.Index("an_units_inspected_at", "inspected_at"),  # drill-downs list the newest first
    sa.Index("an_units_lpn", "lpn"),
    sa.Index("an_units_inspect_secs", "inspect_secs"),
    sa.Index("an_units_putaway_secs", "putaway_secs"),
)

checks_t = sa.Table(
    "an_checks",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("item", sa.String(64), primary_key=True),
    sa.Column("checklist_id", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False, server_default=""),
    sa.Column("rma_code", sa.String(64), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Index("an_checks_item", "checklist_id", "item", "day"),
    sa.Index("an_checks_day", "day"),
)

rmas_t = sa.Table(
    "an_rmas",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("reason_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("received_event", sa.String(64)),
    sa.Column("received_at", sa.String(40)),
    sa.Column("day", sa.String(10)),  # of the receipt
    sa.Column("receive_secs", sa.Integer),  # authorised -> received
    sa.Index("an_rmas_receive_secs", "receive_secs"),
    sa.Index("an_rmas_day", "day"),
)

# --- rollups: the facts counted per key and day, folded with them (issue 12 part 6) ----------
# Each report sums these instead of grouping millions of fact rows. A row is changed by the same
# fold that changes the facts, in the same transaction, by the difference it made (+1 for a unit
# folded, -1 for one a correction replaced), so a rollup always equals its facts.

BUCKET = 600  # seconds: the width of a cycle-time bucket (a percentile is found in its bucket's facts)

daily_t = sa.Table(
    "an_daily",
    metadata,
    sa.Column("dim", sa.String(16), primary_key=True),  # a key of ROLLUP_DIMS
    sa.Column("key", sa.String(140), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("units", sa.Integer, nullable=False, server_default="0"),
    *(sa.Column(g, sa.Integer, nullable=False, server_default="0") for g in ("resellable", "discounted", "scrapped")),
    *(
        sa.Column(f"ch_{c}", sa.Integer, nullable=False, server_default="0")
        for c in ("restock", "b_stock", "refurbish", "return_to_vendor", "donate", "recycle", "destroy")
    ),
    sa.Column("yes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("no", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unclear", sa.Integer, nullable=False, server_default="0"),
    sa.Index("an_daily_day", "dim", "day"),
)

hours_t = sa.Table(  # units per clock hour per station and operator: throughput counts the hours
    "an_hours",
    metadata,
    sa.Column("dim", sa.String(16), primary_key=True),  # station / operator
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("hour", sa.String(13), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("units", sa.Integer, nullable=False, server_default="0"),
    sa.Index("an_hours_day", "dim", "day"),
)

secs_t = sa.Table(  # how many went through each step in each BUCKET of seconds, per day
    "an_secs",
    metadata,
    sa.Column("step", sa.String(24), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("bucket", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
)

fails_t = sa.Table(  # failed checks per checklist, item and day
    "an_fails",
    metadata,
    sa.Column("checklist_id", sa.String(64), primary_key=True),
    sa.Column("item", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("fails", sa.Integer, nullable=False, server_default="0"),
)

# --- what the SLA clocks and the risk list read, folded from the same events ------------------

sla_units_t = sa.Table(  # each inspected unit with a plate and a channel not put away yet (server/sla.py)
    "sla_open_units",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("rma_code", sa.String(64), nullable=False),
    sa.Column("lpn", sa.String(64), nullable=False),  # upper case, as put-aways are matched
    sa.Column("at", sa.String(40), nullable=False),  # the inspection's time as the station wrote it
    sa.Column("category", sa.String(64), nullable=False),
    sa.Index("sla_open_units_lpn", "lpn"),
)

sla_closed_t = sa.Table(  # what ends a unit's clock, whichever arrives first: a put-away, a correction
    "sla_closed",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),  # lpn (put away) / event (an inspection corrected)
    sa.Column("key", sa.String(64), primary_key=True),
)

serials_t = sa.Table(  # each GTIN/serial and the RMAs it was inspected (or found mismatched) on (server/risk.py)
    "risk_serials",
    metadata,
    sa.Column("serial", sa.String(140), primary_key=True),
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Index("risk_serials_rma", "rma_code"),
)

serial_counts_t = sa.Table(
    "risk_serial_counts",
    metadata,
    sa.Column("serial", sa.String(140), primary_key=True),
    sa.Column("rmas", sa.Integer, nullable=False),
    sa.Index("risk_serial_counts_rmas", "rmas"),
)

mismatches_t = sa.Table(  # the RMAs on which an item matched no line (item.mismatch)
    "risk_mismatches",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
)

gaps_t = sa.Table(  # keys below the highest folded that were not there yet when the fold passed
    "an_gaps",
    metadata,
    sa.Column("pk", sa.BigInteger, primary_key=True),
    sa.Column("noted_at", sa.Float, nullable=False),  # time.time() when first missed
)

cursor_t = sa.Table(
    "an_cursor",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("pk", sa.BigInteger, nullable=False),
)

# each step's seconds and the day a period filters it by
_STEP_COLUMNS = (
    ("authorized_received", rmas_t.c.receive_secs, rmas_t.c.day),
    ("received_inspected", units_t.c.inspect_secs, units_t.c.day),
    ("inspected_put_away", units_t.c.putaway_secs, units_t.c.day),
)

# the event types the fold reads
FOLDED = ("rma.received", "rma.receive_undone", "item.inspected", "unit.put_away")
CLOCKED = ("item.inspected", "unit.put_away", "item.mismatch")  # also folded without an RMA code (SLA, risk)
SETTLE = 120  # seconds: a missing key is looked for this long (a push may commit after a later one)
MAX_GAPS = 10_000  # missing keys noted before one event at most (a jump of the sequence is not a backlog)
BATCH = 2000
# batches one answer folds before it reports (the rest on the next ones): a first report over
# millions of events must not hold a request for minutes (`rma server refresh-analytics` folds all)
BATCHES_PER_ANSWER = 25
GRADES = ("resellable", "discounted", "scrapped")
CHANNELS = ("restock", "b_stock", "refurbish", "return_to_vendor", "donate", "recycle", "destroy")
CONFIRMED = ("yes", "no", "unclear", "")
# what the rates can be grouped by: the name in a URL -> the fact column
DIMENSIONS = {
    "sku": "sku",
    "category": "category",
    "lot": "lot",
    "supplier": "supplier",
    "checklist": "checklist",
    "reason": "reason_code",
    "station": "station",
    "operator": "operator",
}
# what a drill-down may filter on: the name in a URL -> the fact column
FILTERS = {
    **DIMENSIONS,
    "confirmed": "reason_confirmed",
    "grade": "grade",
    "channel": "channel",
    "day": "day",
    "week": "week",
}
STEPS = ("authorized_received", "received_inspected", "inspected_put_away")
# the rollup's dimensions: the name -> the fact column ("all": every unit under one key, for trends)
ROLLUP_DIMS = {**DIMENSIONS, "checklist_id": "checklist_id", "all": ""}
CONFIRM_COLUMNS = ("yes", "no", "unclear")
# markers in an_cursor: the rollups (and the SLA and risk tables) were made for what the fold held
# when this release first started on the database; a newer table gets a new marker
MARKERS = ("rollups-1", "clocks-1")


def create(engine: sa.Engine) -> None:
    """Create the fact tables, their indexes and the fold's cursor where missing."""
    metadata.create_all(engine)
    for table in metadata.tables.values():  # an index added to a table an older release made
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.select(cursor_t.c.pk).where(cursor_t.c.name == "events")).first() is None:
                conn.execute(cursor_t.insert().values(name="events", pk=0))
    except IntegrityError:
        pass  # another server process, starting at the same moment, made it


def catch_up(
    write: Callable[[], AbstractContextManager[sa.Connection]], events: sa.Table, *, batch: int = 20_000
) -> int:
    """Fill the rollups, SLA and risk tables for what the fold held before they existed; returns events read.

    A database that an earlier release folded has its facts but not these tables: the rollups are
    counted from the facts (one GROUP BY each), the SLA and risk tables are folded from the events
    the cursor passed (the next :func:`refresh` reads those after it, as always).  Done once (a
    marker in ``an_cursor``), under the cursor's lock; on a new database there is nothing to count.
    """
    read = 0
    with write() as conn:
        at = conn.execute(
            sa.select(cursor_t.c.pk).where(cursor_t.c.name == "events").with_for_update()
        ).scalar_one_or_none()
        held = set(conn.execute(sa.select(cursor_t.c.name).where(cursor_t.c.name.in_(MARKERS))).scalars())
        if len(held) == len(MARKERS):
            return 0
        if "rollups-1" not in held:
            _recount(conn)  # the facts of events after the cursor too: the fold sees them folded, counted
        if at and "clocks-1" not in held:
            read = _backfill_clocks(conn, events, at, batch)
        for name in MARKERS:
            if name not in held:
                conn.execute(cursor_t.insert().values(name=name, pk=0))
    return read


def _backfill_clocks(conn: sa.Connection, events: sa.Table, through: int, batch: int) -> int:
    """The SLA and risk tables as :func:`_fold_clocks` would have made them from the events through ``through``.

    Read once, in pk order, and kept in memory (a plate, an id, a serial per event), then written in
    bulk: one event at a time took a millisecond each, hours for ten million.
    """
    placed: set[str] = set()
    corrected: set[str] = set()
    inspections: list[dict] = []
    serials: dict[str, set[str]] = {}
    mismatched: set[str] = set()
    after, read = 0, 0
    while True:
        rows = conn.execute(
            sa.select(
                events.c.pk,
                events.c.event_id,
                events.c.type,
                events.c.rma_code,
                events.c.at,
                events.c.refers_to,
                events.c.payload,
            )
            .where(events.c.pk > after, events.c.pk <= through, events.c.type.in_(CLOCKED))
            .order_by(events.c.pk)
            .limit(batch)
        ).all()
        for row in rows:
            payload = _payload(row.payload)
            if payload is None:
                continue
            lpn = str(payload.get("lpn") or "").upper()[:64]
            if row.type == "unit.put_away":
                if lpn:
                    placed.add(lpn)
                continue
            if row.rma_code:
                serial = str(payload.get("serial") or "").strip()
                if serial:
                    key = f"{payload.get('gtin') or ''}/{serial}".lstrip("/")[:140]
                    serials.setdefault(key, set()).add(row.rma_code)
                if row.type == "item.mismatch":
                    mismatched.add(row.rma_code)
                    continue
            if row.type != "item.inspected":
                continue
            if row.refers_to:
                corrected.add(row.refers_to[:64])
            if lpn and payload.get("channel"):
                inspections.append(
                    {
                        "event_id": row.event_id,
                        "rma_code": row.rma_code or "",
                        "lpn": lpn,
                        "at": row.at,
                        "category": str(payload.get("category") or "general")[:64],
                    }
                )
        read += len(rows)
        if len(rows) < batch:
            break
        after = rows[-1].pk
    for table in (sla_units_t, sla_closed_t, serials_t, serial_counts_t, mismatches_t):
        conn.execute(table.delete())
    _bulk(conn, sla_units_t, [i for i in inspections if i["lpn"] not in placed and i["event_id"] not in corrected])
    _bulk(conn, sla_closed_t, [{"kind": "lpn", "key": k} for k in sorted(placed)])
    _bulk(conn, sla_closed_t, [{"kind": "event", "key": k} for k in sorted(corrected)])
    _bulk(
        conn, serials_t, [{"serial": k, "rma_code": c} for k, codes in sorted(serials.items()) for c in sorted(codes)]
    )
    _bulk(conn, serial_counts_t, [{"serial": k, "rmas": len(codes)} for k, codes in sorted(serials.items())])
    _bulk(conn, mismatches_t, [{"rma_code": c} for c in sorted(mismatched)])
    return read


def _bulk(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        conn.execute(table.insert(), rows[start : start + 5000])


def _recount(conn: sa.Connection) -> None:
    """The rollups counted afresh from the fact tables."""
    for table in (daily_t, hours_t, secs_t, fails_t):
        conn.execute(table.delete())
    u = units_t.c
    for dim, column in ROLLUP_DIMS.items():
        key = u[column] if column else sa.literal("")
        conn.execute(
            daily_t.insert().from_select(
                [c.name for c in daily_t.c],
                sa.select(
                    sa.literal(dim),
                    key,
                    u.day,
                    sa.func.min(u.week),
                    sa.func.count(),
                    *(_count_if(u.grade, g) for g in GRADES),
                    *(_count_if(u.channel, c) for c in CHANNELS),
                    *(_count_if(u.reason_confirmed, c) for c in CONFIRM_COLUMNS),
                ).group_by(key, u.day),
            )
        )
    for dim in ("station", "operator"):
        conn.execute(
            hours_t.insert().from_select(
                ["dim", "key", "hour", "day", "units"],
                sa.select(sa.literal(dim), u[dim], u.hour, sa.func.min(u.day), sa.func.count()).group_by(
                    u[dim], u.hour
                ),
            )
        )
    for step, seconds, on_day in _STEP_COLUMNS:
        bucket = seconds // BUCKET
        conn.execute(
            secs_t.insert().from_select(
                ["step", "day", "bucket", "n"],
                sa.select(sa.literal(step), on_day, bucket, sa.func.count())
                .where(seconds.is_not(None), on_day.is_not(None))
                .group_by(on_day, bucket),
            )
        )
    c = checks_t.c
    conn.execute(
        fails_t.insert().from_select(
            ["checklist_id", "item", "day", "fails"],
            sa.select(c.checklist_id, c.item, c.day, sa.func.count()).group_by(c.checklist_id, c.item, c.day),
        )
    )


# --- the fold ----------------------------------------------------------------


def refresh(
    write: Callable[[], AbstractContextManager[sa.Connection]],
    events: sa.Table,
    rmas: sa.Table,
    *,
    batches: int | None = None,
) -> int:
    """Fold the events not folded yet into the fact tables; returns how many events were read.

    ``write`` opens one write transaction (``ServerDb.write``); one per batch of ``BATCH`` events,
    at most ``batches`` of them (None: until the end).  The cursor row is locked (FOR UPDATE), so
    server processes refreshing at the same time take turns instead of folding the same events
    twice.  Each event is read once: ``seen`` is the highest key folded, and a key below it that
    was not there when the fold passed (on PostgreSQL a push that started earlier may commit later
    with a smaller key; or a key a refused insert used up) is kept in ``an_gaps`` and looked for
    again for ``SETTLE`` seconds.  The cursor (``events``) stays below the oldest such key.  (Before,
    every refresh read the last ``SETTLE`` seconds of events again: at 500 events a second that was
    60,000 events for each report.)
    """
    read, done = 0, 0
    while batches is None or done < batches:
        with write() as conn:
            at = conn.execute(
                sa.select(cursor_t.c.pk).where(cursor_t.c.name == "events").with_for_update()
            ).scalar_one_or_none()
            if at is None:
                conn.execute(cursor_t.insert().values(name="events", pk=0))
                at = 0
            seen = conn.execute(sa.select(cursor_t.c.pk).where(cursor_t.c.name == "seen")).scalar_one_or_none()
            unseen = (
                seen is None
            )  # nothing folded by this release yet: from the cursor (each fold checks what it holds)
            if seen is None:
                seen = at
            waiting = list(conn.execute(sa.select(gaps_t.c.pk).order_by(gaps_t.c.pk)).scalars())
            wanted = events.c.pk > seen
            if waiting:
                wanted = sa.or_(wanted, events.c.pk.in_(waiting))
            rows = conn.execute(
                sa.select(
                    events.c.pk,
                    events.c.event_id,
                    events.c.type,
                    events.c.station,
                    events.c.operator,
                    events.c.at,
                    events.c.server_at,
                    events.c.rma_code,
                    events.c.refers_to,
                    events.c.payload,
                )
                .where(wanted)
                .order_by(events.c.pk)
                .limit(BATCH)
            ).all()
            now = time.time()
            counts = Rollup()
            found: list[int] = []
            missing: list[int] = []
            last = seen
            for row in rows:
                if row.type in FOLDED and row.rma_code:
                    _fold(conn, row, events, rmas, counts)
                if row.type in CLOCKED:
                    payload = _payload(row.payload)
                    if payload is not None:
                        _fold_clocks(conn, row, payload)
                if row.pk <= seen:
                    found.append(row.pk)  # a key that was missing: its push committed late
                    continue
                missing.extend(range(max(last + 1, row.pk - MAX_GAPS), row.pk))
                last = row.pk
            counts.flush(conn)
            if found:
                conn.execute(gaps_t.delete().where(gaps_t.c.pk.in_(found)))
            for start in range(0, len(missing), 1000):
                conn.execute(gaps_t.insert(), [{"pk": k, "noted_at": now} for k in missing[start : start + 1000]])
            if waiting or missing:
                conn.execute(gaps_t.delete().where(gaps_t.c.noted_at < now - SETTLE))  # never came: given up
            oldest = conn.execute(sa.select(sa.func.min(gaps_t.c.pk))).scalar() if (waiting or missing) else None
            moved = last if oldest is None else min(last, oldest - 1)
            if last > seen and unseen:  # nothing is written when nothing was folded (SQLite: no write lock taken)
                conn.execute(cursor_t.insert().values(name="seen", pk=last))
            elif last > seen:
                conn.execute(cursor_t.update().where(cursor_t.c.name == "seen").values(pk=last))
            if moved != at:
                conn.execute(cursor_t.update().where(cursor_t.c.name == "events").values(pk=moved))
            read, done = read + len(rows), done + 1
            if len(rows) < BATCH:
                return read
    return read


def _payload(text: str) -> dict | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _fold(conn: sa.Connection, row, events: sa.Table, rmas: sa.Table, counts: Rollup) -> None:
    payload = _payload(row.payload)
    if payload is None:
        return
    if row.type == "item.inspected":
        _fold_inspection(conn, row, payload, events, rmas, counts)
    elif row.type == "unit.put_away":
        _fold_put_away(conn, row, payload, counts)
    elif row.type == "rma.received":
        _fold_receipt(conn, row, rmas, counts)
    elif row.type == "rma.receive_undone":
        undone = sa.and_(rmas_t.c.rma_code == row.rma_code, rmas_t.c.received_event == row.refers_to)
        held = conn.execute(sa.select(rmas_t.c.day, rmas_t.c.receive_secs).where(undone)).first()
        if held is not None:
            counts.step("authorized_received", held.day, held.receive_secs, -1)
        conn.execute(
            rmas_t.update().where(undone).values(received_event=None, received_at=None, day=None, receive_secs=None)
        )


def _fold_clocks(conn: sa.Connection, row, payload: dict) -> None:
    """The SLA clocks' units not put away (server/sla.py) and the risk list's serials and mismatches (server/risk.py).

    Whatever order the events arrive in: a put-away (of any plate, a move too) or a correction is
    kept in ``sla_closed``, so an inspection arriving after it does not open a clock.
    """
    if row.type == "unit.put_away":
        lpn = str(payload.get("lpn") or "").upper()[:64]
        if lpn:
            _close(conn, "lpn", lpn)
            conn.execute(sla_units_t.delete().where(sla_units_t.c.lpn == lpn))
        return
    if row.rma_code:
        serial = str(payload.get("serial") or "").strip()
        if serial:
            _seen_serial(conn, f"{payload.get('gtin') or ''}/{serial}".lstrip("/")[:140], row.rma_code)
        if row.type == "item.mismatch":
            if conn.execute(sa.select(mismatches_t.c.rma_code).where(mismatches_t.c.rma_code == row.rma_code)).first():
                return
            conn.execute(mismatches_t.insert().values(rma_code=row.rma_code))
            return
    if row.type != "item.inspected":
        return
    if row.refers_to:
        _close(conn, "event", row.refers_to[:64])
        conn.execute(sla_units_t.delete().where(sla_units_t.c.event_id == row.refers_to))
    lpn = str(payload.get("lpn") or "").upper()[:64]
    if not lpn or not payload.get("channel"):
        return  # no plate or no channel: nothing to put away
    closed = conn.execute(
        sa.select(sla_closed_t.c.kind).where(
            sa.or_(
                sa.and_(sla_closed_t.c.kind == "lpn", sla_closed_t.c.key == lpn),
                sa.and_(sla_closed_t.c.kind == "event", sla_closed_t.c.key == row.event_id),
            )
        )
    ).first()
    if (
        closed is not None
        or conn.execute(sa.select(sla_units_t.c.event_id).where(sla_units_t.c.event_id == row.event_id)).first()
    ):
        return
    conn.execute(
        sla_units_t.insert().values(
            event_id=row.event_id,
            rma_code=row.rma_code or "",
            lpn=lpn,
            at=row.at,
            category=str(payload.get("category") or "general")[:64],
        )
    )


def _close(conn: sa.Connection, kind: str, key: str) -> None:
    held = sa.and_(sla_closed_t.c.kind == kind, sla_closed_t.c.key == key)
    if conn.execute(sa.select(sla_closed_t.c.kind).where(held)).first() is None:
        conn.execute(sla_closed_t.insert().values(kind=kind, key=key))


def _seen_serial(conn: sa.Connection, serial: str, code: str) -> None:
    held = sa.and_(serials_t.c.serial == serial, serials_t.c.rma_code == code)
    if conn.execute(sa.select(serials_t.c.serial).where(held)).first() is not None:
        return
    conn.execute(serials_t.insert().values(serial=serial, rma_code=code))
    counted = conn.execute(
        serial_counts_t.update().where(serial_counts_t.c.serial == serial).values(rmas=serial_counts_t.c.rmas + 1)
    ).rowcount
    if not counted:
        conn.execute(serial_counts_t.insert().values(serial=serial, rmas=1))


class Rollup:
    """What one batch of the fold changed in the rollups, summed per row, then written at once (:meth:`flush`)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.daily: dict[tuple[str, str, str], list] = {}  # (dim, key, day) -> [week, {column: delta}]
        self.hours: dict[tuple[str, str, str], list] = {}  # (dim, key, hour) -> [day, delta]
        self.secs: dict[tuple[str, str, int], int] = {}  # (step, day, bucket) -> delta
        self.fails: dict[tuple[str, str, str], int] = {}  # (checklist_id, item, day) -> delta

    def unit(self, fact, sign: int) -> None:
        """Count (``sign`` 1) or uncount (-1) an ``an_units`` row (a mapping of its columns)."""
        for dim, column in ROLLUP_DIMS.items():
            key = (dim, fact[column] if column else "", fact["day"])
            entry = self.daily.setdefault(key, [fact["week"], {}])
            deltas = entry[1]
            deltas["units"] = deltas.get("units", 0) + sign
            if fact["grade"] in GRADES:
                deltas[fact["grade"]] = deltas.get(fact["grade"], 0) + sign
            if fact["channel"] in CHANNELS:
                name = f"ch_{fact['channel']}"
                deltas[name] = deltas.get(name, 0) + sign
            if fact["reason_confirmed"] in CONFIRM_COLUMNS:
                deltas[fact["reason_confirmed"]] = deltas.get(fact["reason_confirmed"], 0) + sign
        for dim in ("station", "operator"):
            entry = self.hours.setdefault((dim, fact[dim], fact["hour"]), [fact["day"], 0])
            entry[1] += sign
        self.step("received_inspected", fact["day"], fact["inspect_secs"], sign)
        self.step("inspected_put_away", fact["day"], fact["putaway_secs"], sign)

    def step(self, step: str, day: str | None, secs: int | None, sign: int) -> None:
        """Count (or uncount) one pass through a step that took ``secs`` (None: it has not ended)."""
        if secs is not None and day is not None:
            key = (step, day, secs // BUCKET)
            self.secs[key] = self.secs.get(key, 0) + sign

    def failed(self, checklist_id: str, item: str, day: str, sign: int) -> None:
        """Count (or uncount) a failed check."""
        key = (checklist_id, item, day)
        self.fails[key] = self.fails.get(key, 0) + sign

    def flush(self, conn: sa.Connection) -> None:
        """Add the batch's differences to the rollups' rows (made when missing), in key order."""
        daily = [
            {"dim": k[0], "key": k[1], "day": k[2], "week": week, **deltas}
            for k, (week, deltas) in sorted(self.daily.items())
            if any(deltas.values())
        ]
        hours = [
            {"dim": k[0], "key": k[1], "hour": k[2], "day": day, "units": n}
            for k, (day, n) in sorted(self.hours.items())
            if n
        ]
        secs = [{"step": k[0], "day": k[1], "bucket": k[2], "n": n} for k, n in sorted(self.secs.items()) if n]
        fails = [
            {"checklist_id": k[0], "item": k[1], "day": k[2], "fails": n} for k, n in sorted(self.fails.items()) if n
        ]
        counted = [c.name for c in daily_t.c if c.name not in ("dim", "key", "day", "week")]
        for row in daily:
            for name in counted:
                row.setdefault(name, 0)
        _add(conn, daily_t, daily, counted)
        _add(conn, hours_t, hours, ["units"])
        _add(conn, secs_t, secs, ["n"])
        _add(conn, fails_t, fails, ["fails"])
        self._reset()


def _add(conn: sa.Connection, table: sa.Table, rows: list[dict], counted: list[str]) -> None:
    """INSERT each row, or add its counts to the row of its key already there (one statement for all)."""
    if not rows:
        return
    stmt: Any = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={name: table.c[name] + stmt.excluded[name] for name in counted},
    )
    for start in range(0, len(rows), 1000):
        conn.execute(stmt, rows[start : start + 1000])


def _utc(text: str) -> datetime | None:
    try:
        return parse_stamp(text).astimezone(UTC)
    except (ValueError, TypeError):
        return None


def _secs(start: str | None, end: str | None) -> int | None:
    a, b = _utc(start or ""), _utc(end or "")
    return max(0, int((b - a).total_seconds())) if a and b else None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _record(conn: sa.Connection, rmas: sa.Table, code: str) -> tuple[dict, str]:
    """The RMA's record as imported (a dict) and when it was authorised ("" when unknown)."""
    found = conn.execute(sa.select(rmas.c.record, rmas.c.created_at).where(rmas.c.code == code)).first()
    if found is None:
        return {}, ""
    try:
        return json.loads(found.record), found.created_at
    except ValueError:
        return {}, found.created_at


def _fold_receipt(conn: sa.Connection, row, rmas: sa.Table, counts: Rollup) -> None:
    held = conn.execute(sa.select(rmas_t.c.received_event).where(rmas_t.c.rma_code == row.rma_code)).first()
    if held is not None and held.received_event:
        return  # received before (a second receipt is a conflict, not a new receipt)
    record, authorized = _record(conn, rmas, row.rma_code)
    at = _utc(row.at)
    values = {
        "reason_code": reason_code(record.get("reason", "")),
        "received_event": row.event_id,
        "received_at": _iso(at) if at else None,
        "day": at.date().isoformat() if at else None,
        "receive_secs": _secs(authorized, row.at),
    }
    if held is None:
        conn.execute(rmas_t.insert().values(rma_code=row.rma_code, **values))
    else:
        conn.execute(rmas_t.update().where(rmas_t.c.rma_code == row.rma_code).values(**values))
    counts.step("authorized_received", values["day"], values["receive_secs"], 1)
    if at:  # units inspected before this receipt reached the server
        for unit in conn.execute(
            sa.select(units_t.c.event_id, units_t.c.inspected_at, units_t.c.day, units_t.c.inspect_secs).where(
                units_t.c.rma_code == row.rma_code, units_t.c.received_at.is_(None)
            )
        ).all():
            secs = _secs(_iso(at), unit.inspected_at)
            counts.step("received_inspected", unit.day, unit.inspect_secs, -1)
            counts.step("received_inspected", unit.day, secs, 1)
            conn.execute(
                units_t.update()
                .where(units_t.c.event_id == unit.event_id)
                .values(received_at=_iso(at), inspect_secs=secs)
            )


def _fold_put_away(conn: sa.Connection, row, payload: dict, counts: Rollup) -> None:
    if row.refers_to:
        return  # a move to another bin: the first put-away is the step's end
    lpn = str(payload.get("lpn") or "")
    at = _utc(row.at)
    if not lpn or at is None:
        return
    unit = conn.execute(
        sa.select(units_t.c.event_id, units_t.c.inspected_at, units_t.c.day).where(
            units_t.c.lpn == lpn, units_t.c.rma_code == row.rma_code, units_t.c.put_away_at.is_(None)
        )
    ).first()
    if unit is not None:
        secs = _secs(unit.inspected_at, _iso(at))
        counts.step("inspected_put_away", unit.day, secs, 1)
        conn.execute(
            units_t.update().where(units_t.c.event_id == unit.event_id).values(put_away_at=_iso(at), putaway_secs=secs)
        )


def _fold_inspection(conn: sa.Connection, row, payload: dict, events: sa.Table, rmas: sa.Table, counts: Rollup) -> None:
    if conn.execute(sa.select(units_t.c.event_id).where(units_t.c.event_id == row.event_id)).first():
        return  # folded already (the settle window reads recent events twice)
    line_no, unit_no = payload.get("line_no"), payload.get("unit_no") or 1
    at = _utc(str(payload.get("ended_at") or row.at)) or _utc(row.at)
    if not isinstance(line_no, int) or not isinstance(unit_no, int) or at is None:
        return
    if row.refers_to:  # a correction replaces the inspection it refers to
        replaced = conn.execute(sa.select(units_t).where(units_t.c.event_id == row.refers_to)).first()
        if replaced is not None:
            counts.unit(replaced._mapping, -1)
            for check in conn.execute(sa.select(checks_t).where(checks_t.c.event_id == row.refers_to)):
                counts.failed(check.checklist_id, check.item, check.day, -1)
        conn.execute(checks_t.delete().where(checks_t.c.event_id == row.refers_to))
        conn.execute(units_t.delete().where(units_t.c.event_id == row.refers_to))
    taken = conn.execute(
        sa.select(units_t.c.event_id).where(
            units_t.c.rma_code == row.rma_code, units_t.c.line_no == line_no, units_t.c.unit_no == unit_no
        )
    ).first()
    if taken is not None:
        return  # inspected twice: the first stays until the conflict is resolved
    record, _authorized = _record(conn, rmas, row.rma_code)
    lines = [ln for ln in record.get("lines") or [] if isinstance(ln, dict)]
    line = lines[line_no - 1] if 1 <= line_no <= len(lines) else {}  # line numbers count the record's lines
    checklist = payload.get("checklist") or {}
    confirmed = payload.get("reason_confirmed") or ""
    received = conn.execute(sa.select(rmas_t.c.received_at).where(rmas_t.c.rma_code == row.rma_code)).scalar()
    lpn = str(payload.get("lpn") or "")[:64]
    put_away = _first_put_away(conn, events, row.rma_code, lpn) if lpn else None
    inspected = _iso(at)
    year, week, _weekday = at.isocalendar()
    day = at.date().isoformat()
    fact = dict(
        event_id=row.event_id,
        rma_code=row.rma_code,
        line_no=line_no,
        unit_no=unit_no,
        lpn=lpn,
        sku=str(payload.get("sku") or line.get("sku") or "")[:64],
        category=str(payload.get("category") or line.get("category") or "")[:64],
        lot=str(payload.get("lot") or line.get("lot") or "")[:64],
        supplier=str(line.get("supplier") or "")[:64],
        checklist=f"{checklist.get('id', '')}@{str(checklist.get('hash', ''))[:12]}"[:140]
        if checklist.get("id")
        else "",
        checklist_id=str(checklist.get("id") or "")[:64],
        reason_code=reason_code(record.get("reason", "")),
        reason_confirmed=confirmed if confirmed in CONFIRMED else "",
        grade=str(payload.get("final") or "")[:16],
        channel=str(payload.get("channel") or "")[:32],
        station=row.station,
        operator=row.operator,
        inspected_at=inspected,
        day=day,
        week=f"{year}-W{week:02d}",
        hour=inspected[:13],
        received_at=received,
        inspect_secs=_secs(received, inspected),
        put_away_at=put_away,
        putaway_secs=_secs(inspected, put_away),
    )
    conn.execute(units_t.insert().values(**fact))
    counts.unit(fact, 1)
    failed = [
        a
        for a in payload.get("answers") or []
        if isinstance(a, dict) and a.get("failed") and isinstance(a.get("item"), str)
    ]
    seen: set[str] = set()
    for answer in failed:
        if answer["item"] in seen:
            continue
        seen.add(answer["item"])
        conn.execute(
            checks_t.insert().values(
                event_id=row.event_id,
                item=answer["item"][:64],
                checklist_id=str(checklist.get("id") or "")[:64],
                severity=str(answer.get("severity") or "")[:16],
                rma_code=row.rma_code,
                day=day,
            )
        )
        counts.failed(str(checklist.get("id") or "")[:64], answer["item"][:64], day, 1)


def _first_put_away(conn: sa.Connection, ev: sa.Table, code: str, lpn: str) -> str | None:
    """When the unit with this plate was first put away, if that event was folded before its inspection."""
    for at, payload in conn.execute(
        sa.select(ev.c.at, ev.c.payload)
        .where(ev.c.rma_code == code, ev.c.type == "unit.put_away", ev.c.refers_to.is_(None))
        .order_by(ev.c.pk)
    ):
        try:
            if json.loads(payload).get("lpn") == lpn:
                moment = _utc(at)
                return _iso(moment) if moment else None
        except ValueError:
            continue
    return None


# --- the reports ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a report covers (UTC, both ends included; "" leaves an end open)."""

    since: str = ""
    until: str = ""

    def on(self, column: sa.ColumnElement) -> list[sa.ColumnElement[bool]]:
        """The conditions that keep a day ``column`` inside the period."""
        conditions = []
        if self.since:
            conditions.append(column >= self.since)
        if self.until:
            conditions.append(column <= self.until)
        return conditions


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count_if(column: sa.ColumnElement, value: str) -> sa.ColumnElement:
    return sa.func.sum(sa.case((column == value, 1), else_=0))


def reasons(conn: sa.Connection, period: Period = Period(), **where: str) -> list[dict]:
    """The customer's reason against the inspector's finding: per reason code, units and confirmed rate.

    ``confirmed_rate`` is the share of units whose finding was recorded ("yes", "no" or "can't tell")
    in which the reason was confirmed; units without a finding count in ``units`` only.
    ``where``: the same filters as :func:`units` (e.g. ``sku="SHOE-1"``).
    """
    u, d = units_t.c, daily_t.c
    stmt = (
        sa.select(
            u.reason_code,
            sa.func.count().label("units"),
            _count_if(u.reason_confirmed, "yes").label("confirmed"),
            _count_if(u.reason_confirmed, "no").label("not_confirmed"),
            _count_if(u.reason_confirmed, "unclear").label("unclear"),
        )
        .where(*period.on(u.day), *_filters(where))
        .group_by(u.reason_code)
    )
    if not where:  # the rollup: the same sums, per reason code and day
        stmt = (
            sa.select(
                d.key.label("reason_code"),
                sa.func.sum(d.units).label("units"),
                sa.func.sum(d.yes).label("confirmed"),
                sa.func.sum(d.no).label("not_confirmed"),
                sa.func.sum(d.unclear).label("unclear"),
            )
            .where(d.dim == "reason", *period.on(d.day))
            .group_by(d.key)
            .having(sa.func.sum(d.units) > 0)
        )
    out = []
    for r in conn.execute(stmt):
        recorded = r.confirmed + r.not_confirmed + r.unclear
        out.append(
            {
                "reason_code": r.reason_code,
                "units": r.units,
                "confirmed": r.confirmed,
                "not_confirmed": r.not_confirmed,
                "unclear": r.unclear,
                "not_recorded": r.units - recorded,
                "confirmed_rate": _rate(r.confirmed, recorded),
            }
        )
    return sorted(out, key=lambda r: (-r["units"], r["reason_code"]))


def rates(conn: sa.Connection, by: str, period: Period = Period(), limit: int = 100, **where: str) -> list[dict]:
    """Grade and channel counts and rates per value of ``by`` (a key of :data:`DIMENSIONS`), most units first."""
    column = units_t.c[DIMENSIONS[by]]
    u, d = units_t.c, daily_t.c
    stmt = (
        sa.select(
            column.label("key"),
            sa.func.count().label("units"),
            *(_count_if(u.grade, g).label(g) for g in GRADES),
            *(_count_if(u.channel, c).label(f"ch_{c}") for c in CHANNELS),
        )
        .where(*period.on(u.day), *_filters(where))
        .group_by(column)
        .order_by(sa.func.count().desc(), column)
        .limit(limit)
    )
    if not where:  # the rollup: the same sums, per key and day
        total = sa.func.sum(d.units)
        stmt = (
            sa.select(
                d.key.label("key"),
                total.label("units"),
                *(sa.func.sum(d[g]).label(g) for g in GRADES),
                *(sa.func.sum(d[f"ch_{c}"]).label(f"ch_{c}") for c in CHANNELS),
            )
            .where(d.dim == by, *period.on(d.day))
            .group_by(d.key)
            .having(total > 0)
            .order_by(total.desc(), d.key)
            .limit(limit)
        )
    out = []
    for r in conn.execute(stmt):
        m = r._mapping
        row = {by: r.key, "units": r.units}
        for g in GRADES:
            row[g] = m[g]
            row[f"{g}_rate"] = _rate(m[g], r.units)
        for c in CHANNELS:
            row[c] = m[f"ch_{c}"]
        out.append(row)
    return out


def failing_checks(conn: sa.Connection, period: Period = Period(), limit: int = 20) -> list[dict]:
    """The checks that fail most: per checklist and item, fails, units inspected with it, and the fail rate."""
    f = fails_t.c
    fails = sa.func.sum(f.fails)
    stmt = (
        sa.select(f.checklist_id, f.item, fails.label("fails"))
        .where(*period.on(f.day))
        .group_by(f.checklist_id, f.item)
        .having(fails > 0)
        .order_by(fails.desc(), f.checklist_id, f.item)
        .limit(limit)
    )
    rows = conn.execute(stmt).all()
    inspected: dict[str, int] = {}
    ids = sorted({r.checklist_id for r in rows})
    if ids:
        d = daily_t.c
        inspected.update(
            conn.execute(
                sa.select(d.key, sa.func.sum(d.units))
                .where(d.dim == "checklist_id", *period.on(d.day), d.key.in_(ids))
                .group_by(d.key)
            ).all()
        )
    return [
        {
            "checklist": r.checklist_id,
            "item": r.item,
            "fails": r.fails,
            "units": inspected.get(r.checklist_id, 0),
            "fail_rate": _rate(r.fails, inspected.get(r.checklist_id, 0)),
        }
        for r in rows
    ]


def throughput(conn: sa.Connection, by: str = "station", period: Period = Period()) -> list[dict]:
    """Units per hour per station (or operator): units over the clock hours in which any was inspected."""
    if by not in ("station", "operator"):
        raise ValueError("throughput is per station or per operator")
    h = hours_t.c
    stmt = (
        sa.select(h.key.label("key"), sa.func.sum(h.units).label("units"), sa.func.count().label("hours"))
        .where(h.dim == by, h.units > 0, *period.on(h.day))
        .group_by(h.key)
        .order_by(h.key)
    )
    return [
        {by: r.key, "units": r.units, "hours": r.hours, "units_per_hour": round(r.units / r.hours, 2)}
        for r in conn.execute(stmt)
    ]


def cycle_times(conn: sa.Connection, period: Period = Period()) -> list[dict]:
    """Per step (authorised → received → inspected → put away): how many, p50 and p90 in hours.

    A percentile is the value at its rank (nearest rank).  The rollup ``an_secs`` counts each step
    per day and ``BUCKET`` of seconds, so the rank's bucket is found there, and the value is read
    as the row at its rank inside that bucket (ORDER BY … OFFSET over the step's index): the same
    value as ranking every row, and the same query on SQLite and PostgreSQL.
    """
    out = []
    s = secs_t.c
    for step, column, day in _STEP_COLUMNS:
        buckets = conn.execute(
            sa.select(s.bucket, sa.func.sum(s.n))
            .where(s.step == step, *period.on(s.day))
            .group_by(s.bucket)
            .order_by(s.bucket)
        ).all()
        n = sum(count for _bucket, count in buckets)
        row = {"step": step, "count": n, "p50_hours": None, "p90_hours": None}
        for name, share in (("p50_hours", 0.5), ("p90_hours", 0.9)):
            if n:
                rank = max(0, math.ceil(share * n) - 1)  # nearest rank: the smallest value at or above the share
                before, found = 0, buckets[-1][0]
                for bucket, count in buckets:
                    if rank < before + count:
                        found = bucket
                        break
                    before += count
                low, high = found * BUCKET, (found + 1) * BUCKET
                secs = conn.execute(
                    sa.select(column)
                    .where(column >= low, column < high, day.is_not(None), *period.on(day))
                    .order_by(column)
                    .offset(rank - before)
                    .limit(1)
                ).scalar()
                row[name] = round(secs / 3600, 2) if secs is not None else None
        out.append(row)
    return out


def trends(conn: sa.Connection, per: str = "day", period: Period = Period()) -> list[dict]:
    """Units, grades and the confirmed rate per day or ISO week, oldest first."""
    if per not in ("day", "week"):
        raise ValueError("trends are per day or per week")
    d = daily_t.c
    column, total = d[per], sa.func.sum(d.units)
    stmt = (
        sa.select(
            column.label("key"),
            total.label("units"),
            *(sa.func.sum(d[g]).label(g) for g in GRADES),
            sa.func.sum(d.yes).label("confirmed"),
            sa.func.sum(d.yes + d.no + d.unclear).label("recorded"),
        )
        .where(d.dim == "all", *period.on(d.day))
        .group_by(column)
        .having(total > 0)
        .order_by(column)
    )
    out = []
    for r in conn.execute(stmt):
        m = r._mapping
        out.append(
            {
                per: r.key,
                "units": r.units,
                **{g: m[g] for g in GRADES},
                "confirmed_rate": _rate(r.confirmed, r.recorded),
            }
        )
    return out


# --- drill-down -----------------------------------------------------------------


def _filters(where: dict[str, str]) -> list[sa.ColumnElement[bool]]:
    conditions = []
    for name, value in where.items():
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}; known: {', '.join(sorted(FILTERS))}")
        conditions.append(units_t.c[FILTERS[name]] == value)
    return conditions


UNIT_COLUMNS = (
    "rma_code",
    "line_no",
    "unit_no",
    "lpn",
    "sku",
    "category",
    "lot",
    "supplier",
    "reason_code",
    "reason_confirmed",
    "grade",
    "channel",
    "station",
    "operator",
    "inspected_at",
)


def units(
    conn: sa.Connection,
    period: Period = Period(),
    *,
    failed: str = "",
    step: str = "",
    limit: int = 500,
    **where: str,
) -> list[dict]:
    """The inspected units behind a figure: the same key the report grouped by, newest first.

    ``where``: keys of :data:`FILTERS` (``reason="defective", confirmed="no"``); ``failed``: the units
    that failed this check ("checklist_id/item"); ``step``: the units that went through that step
    (a key of :data:`STEPS`, slowest first).
    """
    u = units_t.c
    conditions = [*period.on(u.day), *_filters(where)]
    order: Sequence[sa.ColumnElement] = (u.inspected_at.desc(), u.rma_code, u.line_no, u.unit_no)
    source: sa.FromClause = units_t
    if failed:  # joined (a check is failed once per unit): the planner starts from the check's index
        checklist_id, _slash, item = failed.partition("/")
        c = checks_t.c
        source = units_t.join(
            checks_t, sa.and_(c.event_id == u.event_id, c.checklist_id == checklist_id, c.item == item)
        )
        # newest first, by an expression the inspected_at index does not give: PostgreSQL otherwise walks
        # that index through millions of units looking for the few with this check (1 s at 3M units)
        order = (sa.func.coalesce(u.inspected_at, "").desc(), u.rma_code, u.line_no, u.unit_no)
    if step == "received_inspected":
        conditions.append(u.inspect_secs.is_not(None))
        order = (u.inspect_secs.desc(), u.rma_code)
    elif step == "inspected_put_away":
        conditions.append(u.putaway_secs.is_not(None))
        order = (u.putaway_secs.desc(), u.rma_code)
    elif step:
        raise ValueError(f"units are drilled by step received_inspected or inspected_put_away, not {step!r}")
    stmt = sa.select(*(u[c] for c in UNIT_COLUMNS)).select_from(source).where(*conditions).order_by(*order).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def received_rmas(conn: sa.Connection, period: Period = Period(), limit: int = 500, **where: str) -> list[dict]:
    """The RMAs behind the authorised → received step (slowest first); ``reason=`` narrows to one reason."""
    r = rmas_t.c
    conditions = [r.receive_secs.is_not(None), *period.on(r.day)]
    for name, value in where.items():
        if name != "reason":
            raise ValueError(f"received RMAs are drilled by reason only, not {name!r}")
        conditions.append(r.reason_code == value)
    stmt = (
        sa.select(r.rma_code, r.reason_code, r.received_at, r.receive_secs)
        .where(*conditions)
        .order_by(r.receive_secs.desc(), r.rma_code)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]


def codes(rows: Iterable[dict]) -> list[str]:
    """The distinct RMA codes of drill-down rows, in their order."""
    return list(dict.fromkeys(row["rma_code"] for row in rows))
