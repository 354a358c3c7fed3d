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
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
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

cursor_t = sa.Table(
    "an_cursor",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("pk", sa.BigInteger, nullable=False),
)

# the event types the fold reads
FOLDED = ("rma.received", "rma.receive_undone", "item.inspected", "unit.put_away")
SETTLE = 120  # seconds: events younger than this are looked at again (a push may commit after a later one)
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


def create(engine: sa.Engine) -> None:
    """Create the fact tables, their indexes and the fold's cursor where missing."""
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.select(cursor_t.c.pk).where(cursor_t.c.name == "events")).first() is None:
                conn.execute(cursor_t.insert().values(name="events", pk=0))
    except IntegrityError:
        pass  # another server process, starting at the same moment, made it


# --- the fold ----------------------------------------------------------------


def refresh(
    write: Callable[[], AbstractContextManager[sa.Connection]],
    events: sa.Table,
    rmas: sa.Table,
    *,
    batches: int | None = None,
) -> int:
    """Fold the events after the cursor into the fact tables; returns how many events were read.

    ``write`` opens one write transaction (``ServerDb.write``); one per batch of ``BATCH`` events,
    at most ``batches`` of them (None: until the end).  The cursor row is locked (FOR UPDATE), so
    server processes refreshing at the same time take turns instead of folding the same events
    twice.  The cursor moves only past events older than ``SETTLE`` with none younger before them;
    the younger ones are read again next time (and folded once: each fold checks what it holds).
    """
    read, after, clean, done = 0, 0, True, 0
    while batches is None or done < batches:
        with write() as conn:
            at = conn.execute(
                sa.select(cursor_t.c.pk).where(cursor_t.c.name == "events").with_for_update()
            ).scalar_one_or_none()
            if at is None:
                conn.execute(cursor_t.insert().values(name="events", pk=0))
                at = 0
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
                .where(events.c.pk > max(at, after))
                .order_by(events.c.pk)
                .limit(BATCH)
            ).all()
            if not rows:
                return read
            settled = (datetime.now(UTC) - timedelta(seconds=SETTLE)).isoformat(timespec="milliseconds")
            moved = at
            for row in rows:
                if row.type in FOLDED and row.rma_code:
                    _fold(conn, row, events, rmas)
                clean = clean and row.server_at < settled
                if clean:
                    moved = row.pk
            if moved > at:
                conn.execute(cursor_t.update().where(cursor_t.c.name == "events").values(pk=moved))
            read, after, done = read + len(rows), rows[-1].pk, done + 1
            if len(rows) < BATCH:
                return read
    return read


def _fold(conn: sa.Connection, row, events: sa.Table, rmas: sa.Table) -> None:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return
    if not isinstance(payload, dict):
        return
    if row.type == "item.inspected":
        _fold_inspection(conn, row, payload, events, rmas)
    elif row.type == "unit.put_away":
        _fold_put_away(conn, row, payload)
    elif row.type == "rma.received":
        _fold_receipt(conn, row, rmas)
    elif row.type == "rma.receive_undone":
        conn.execute(
            rmas_t.update()
            .where(rmas_t.c.rma_code == row.rma_code, rmas_t.c.received_event == row.refers_to)
            .values(received_event=None, received_at=None, day=None, receive_secs=None)
        )


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


def _fold_receipt(conn: sa.Connection, row, rmas: sa.Table) -> None:
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
    if at:  # units inspected before this receipt reached the server
        for unit in conn.execute(
            sa.select(units_t.c.event_id, units_t.c.inspected_at).where(
                units_t.c.rma_code == row.rma_code, units_t.c.received_at.is_(None)
            )
        ).all():
            conn.execute(
                units_t.update()
                .where(units_t.c.event_id == unit.event_id)
                .values(received_at=_iso(at), inspect_secs=_secs(_iso(at), unit.inspected_at))
            )


def _fold_put_away(conn: sa.Connection, row, payload: dict) -> None:
    if row.refers_to:
        return  # a move to another bin: the first put-away is the step's end
    lpn = str(payload.get("lpn") or "")
    at = _utc(row.at)
    if not lpn or at is None:
        return
    unit = conn.execute(
        sa.select(units_t.c.event_id, units_t.c.inspected_at).where(
            units_t.c.lpn == lpn, units_t.c.rma_code == row.rma_code, units_t.c.put_away_at.is_(None)
        )
    ).first()
    if unit is not None:
        conn.execute(
            units_t.update()
            .where(units_t.c.event_id == unit.event_id)
            .values(put_away_at=_iso(at), putaway_secs=_secs(unit.inspected_at, _iso(at)))
        )


def _fold_inspection(conn: sa.Connection, row, payload: dict, events: sa.Table, rmas: sa.Table) -> None:
    if conn.execute(sa.select(units_t.c.event_id).where(units_t.c.event_id == row.event_id)).first():
        return  # folded already (the settle window reads recent events twice)
    line_no, unit_no = payload.get("line_no"), payload.get("unit_no") or 1
    at = _utc(str(payload.get("ended_at") or row.at)) or _utc(row.at)
    if not isinstance(line_no, int) or not isinstance(unit_no, int) or at is None:
        return
    if row.refers_to:  # a correction replaces the inspection it refers to
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
    conn.execute(
        units_t.insert().values(
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
    )
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
    u = units_t.c
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
    u = units_t.c
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
    c = checks_t.c
    stmt = (
        sa.select(c.checklist_id, c.item, sa.func.count().label("fails"))
        .where(*period.on(c.day))
        .group_by(c.checklist_id, c.item)
        .order_by(sa.func.count().desc(), c.checklist_id, c.item)
        .limit(limit)
    )
    rows = conn.execute(stmt).all()
    inspected: dict[str, int] = {}
    ids = sorted({r.checklist_id for r in rows})
    if ids:
        u = units_t.c
        inspected.update(
            conn.execute(
                sa.select(u.checklist_id, sa.func.count())
                .where(*period.on(u.day), u.checklist_id.in_(ids))
                .group_by(u.checklist_id)
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
    column, u = units_t.c[by], units_t.c
    stmt = (
        sa.select(
            column.label("key"),
            sa.func.count().label("units"),
            sa.func.count(sa.distinct(u.hour)).label("hours"),
        )
        .where(*period.on(u.day))
        .group_by(column)
        .order_by(column)
    )
    return [
        {by: r.key, "units": r.units, "hours": r.hours, "units_per_hour": round(r.units / r.hours, 2)}
        for r in conn.execute(stmt)
    ]


def cycle_times(conn: sa.Connection, period: Period = Period()) -> list[dict]:
    """Per step (authorised → received → inspected → put away): how many, p50 and p90 in hours.

    A percentile is read as the row at its rank in the step's index (ORDER BY … OFFSET), the same
    query on SQLite and PostgreSQL.
    """
    out = []
    for step, column, day in (
        ("authorized_received", rmas_t.c.receive_secs, rmas_t.c.day),
        ("received_inspected", units_t.c.inspect_secs, units_t.c.day),
        ("inspected_put_away", units_t.c.putaway_secs, units_t.c.day),
    ):
        where = [column.is_not(None), *period.on(day)]
        n = conn.execute(sa.select(sa.func.count()).select_from(column.table).where(*where)).scalar_one()
        row = {"step": step, "count": n, "p50_hours": None, "p90_hours": None}
        for name, share in (("p50_hours", 0.5), ("p90_hours", 0.9)):
            if n:
                rank = max(0, math.ceil(share * n) - 1)  # nearest rank: the smallest value at or above the share
                secs = conn.execute(sa.select(column).where(*where).order_by(column).offset(rank).limit(1)).scalar()
                row[name] = round(secs / 3600, 2) if secs is not None else None
        out.append(row)
    return out


def trends(conn: sa.Connection, per: str = "day", period: Period = Period()) -> list[dict]:
    """Units, grades and the confirmed rate per day or ISO week, oldest first."""
    if per not in ("day", "week"):
        raise ValueError("trends are per day or per week")
    column, u = units_t.c[per], units_t.c
    stmt = (
        sa.select(
            column.label("key"),
            sa.func.count().label("units"),
            *(_count_if(u.grade, g).label(g) for g in GRADES),
            _count_if(u.reason_confirmed, "yes").label("confirmed"),
            sa.func.sum(sa.case((u.reason_confirmed != "", 1), else_=0)).label("recorded"),
        )
        .where(*period.on(u.day))
        .group_by(column)
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
    if failed:
        checklist_id, _slash, item = failed.partition("/")
        conditions.append(
            u.event_id.in_(
                sa.select(checks_t.c.event_id).where(checks_t.c.checklist_id == checklist_id, checks_t.c.item == item)
            )
        )
    if step == "received_inspected":
        conditions.append(u.inspect_secs.is_not(None))
        order = (u.inspect_secs.desc(), u.rma_code)
    elif step == "inspected_put_away":
        conditions.append(u.putaway_secs.is_not(None))
        order = (u.putaway_secs.desc(), u.rma_code)
    elif step:
        raise ValueError(f"units are drilled by step received_inspected or inspected_put_away, not {step!r}")
    stmt = sa.select(*(u[c] for c in UNIT_COLUMNS)).where(*conditions).order_by(*order).limit(limit)
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
