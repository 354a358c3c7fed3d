"""The handoff's projection, run by the push in the transaction that stores the events.

:func:`project` looks at the push's new events only (work in proportion to what was pushed):

* unit events -- ``item.inspected`` (grade, channel, plate), ``unit.put_away``, ``item.undeclared``
  -- and container and bin events -- ``container.closed|moved|shipped``, ``bin.counted`` -- become
  one feed item each (``handoff_feed``), and update where each unit and container is;
* ``rma.received``, ``item.inspected``, ``line.not_received`` and ``rma.inspected`` may meet an RMA's
  refund policy; the decision is then made once, recorded, and its ``refund.decided`` webhook queued.

Payloads come from stations: every field is read defensively (a wrong type is a missing value), so
no payload can make a push fail.  The RMA rows of the refund events are locked (``FOR UPDATE``, in
code order, with those :meth:`server.db.ServerDb._project` locks, so two pushes cannot deadlock):
under READ COMMITTED two stations inspecting the last units of one RMA would otherwise each miss the
other's, and neither would decide.  Two pushes that insert the same new unit, bin or decision at once
meet the primary key; the push retries on that IntegrityError and then finds the row.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator

import sqlalchemy as sa

from server.handoff.tables import bins, feed, items, not_received, refunds, units
from server.hooks import outbox as hooks_outbox

# server.db's rmas table, the columns read here (server.db imports this module, not the other way)
_rmas = sa.table("rmas", sa.column("code"), sa.column("record"), sa.column("status"))

UNIT_EVENTS = ("item.inspected", "unit.put_away", "item.undeclared")
CONTAINER_EVENTS = ("container.closed", "container.moved", "container.shipped", "bin.counted")
FEED_EVENTS = UNIT_EVENTS + CONTAINER_EVENTS
REFUND_EVENTS = ("rma.received", "item.inspected", "line.not_received", "rma.inspected")
# the event types whose RMA rows ServerDb._project locks: this module locks them first, with its own
_PROJECTED = ("rma.received", "rma.receive_undone", "item.inspected", "rma.inspected")
# a scrapped unit routed here is the supplier's fault (a claim), not the customer's damage
SUPPLIER_CHANNELS = ("return_to_vendor",)
POLICIES = ("on_receipt", "after_inspection")
DEFAULT_POLICY = "after_inspection"
MAX_LISTED = 10_000  # plates listed in one container or count event (a payload is at most 16 KiB anyway)


def projects(rows: list[dict]) -> bool:
    """Whether :func:`project` writes anything for these rows (when not, a push commits at once)."""
    return any(r["type"] in FEED_EVENTS or (r["type"] in REFUND_EVENTS and r["rma_code"]) for r in rows)


def project(conn: sa.Connection, rows: list[dict], now: str, is_sqlite: bool) -> None:
    """Project the push's new events rows (as stored) into the feed, units, bins and refund decisions."""
    if not projects(rows):
        return
    feed_rows = [r for r in rows if r["type"] in FEED_EVENTS]
    refund_rows = [r for r in rows if r["type"] in REFUND_EVENTS and r["rma_code"]]
    payloads = {r["event_id"]: _payload(r["payload"]) for r in (*feed_rows, *refund_rows)}
    if feed_rows:
        _places(conn, feed_rows, payloads, is_sqlite)
    if refund_rows:
        _refunds(conn, rows, refund_rows, payloads, now)


# --- the feed, units and bins ----------------------------------------------------------------


def _places(conn: sa.Connection, rows: list[dict], payloads: dict[str, dict], is_sqlite: bool) -> None:
    unit_sets: dict[tuple, dict] = {}  # (lpn,) -> the columns this push sets
    bin_sets: dict[tuple, dict] = {}  # (name,) -> the columns this push sets
    bins_seen: dict[tuple, dict] = {}  # bins put away into: created when missing, not changed
    out = []
    for r in rows:
        p, kind = payloads[r["event_id"]], r["type"]
        stamp = {"event_id": r["event_id"], "updated_at": r["server_at"]}
        lpn, place = _plate(p.get("lpn")), None
        grade = channel = None
        detail: dict = {}
        if kind == "item.inspected":
            grade, channel = _text(p.get("final"), 16), _text(p.get("channel"), 32)
            line_no, unit_no = _int(p.get("line_no")), _int(p.get("unit_no")) or 1
            sku = _text(p.get("sku"))
            detail = {"line_no": line_no, "unit_no": unit_no, "sku": sku, "bin_suggested": _bin(p.get("bin"))}
            if lpn:
                unit_sets[(lpn,)] = {
                    **unit_sets.get((lpn,), {}),
                    "rma_code": r["rma_code"],
                    "line_no": line_no,
                    "unit_no": unit_no,
                    "sku": sku,
                    "grade": grade,
                    "channel": channel,
                    "state": "inspected",
                    **stamp,
                }
        elif kind == "unit.put_away":
            place, channel = _bin(p.get("bin")), _text(p.get("channel"), 32)
            put_line, put_unit = _int(p.get("line")), _int(p.get("unit"))
            detail = {"from": _bin(p.get("from")), "line_no": put_line, "unit_no": put_unit}
            if lpn:
                sets = {"bin": place, "state": "put_away", **stamp}
                sets.update(
                    {k: v for k, v in (("channel", channel), ("line_no", put_line), ("unit_no", put_unit)) if v}
                )
                if r["rma_code"] or _text(p.get("rma")):
                    sets["rma_code"] = r["rma_code"] or _text(p.get("rma"))
                unit_sets[(lpn,)] = {**unit_sets.get((lpn,), {}), **sets}
            if place:
                bins_seen[(place,)] = {"kind": "bin", "state": "open", **stamp}
        elif kind == "item.undeclared":
            detail = {"barcode": _text(p.get("barcode"), 200)}
            if lpn:
                sets = {"state": "exception", "channel": "exceptions", **stamp}
                if r["rma_code"]:
                    sets["rma_code"] = r["rma_code"]
                unit_sets[(lpn,)] = {**unit_sets.get((lpn,), {}), **sets}
        elif kind == "bin.counted":
            place = _bin(p.get("bin"))
            detail = {name: _tally(p.get(name)) for name in ("expected", "found", "missing", "extra")}
            if place:
                count = {**detail, "at": r["at"], "station": r["station"], "operator": r["operator"], **stamp}
                bin_sets[(place,)] = {
                    **bin_sets.get((place,), {}),
                    "last_count": json.dumps(count, ensure_ascii=False),
                    **stamp,
                }
        else:  # container.closed / moved / shipped
            place = _bin(p.get("container"))
            plates = _plates(p.get("units"))
            if kind == "container.closed":
                sent = p.get("counts")
                counts = {
                    str(k)[:32]: n for k, n in (sent.items() if isinstance(sent, dict) else ()) if isinstance(n, int)
                }
                container_kind = _text(p.get("kind"), 32) or "container"
                detail = {"container_kind": container_kind, "units": plates, "counts": counts}
                sets = {"state": "closed", "kind": container_kind, "counts": json.dumps(counts), **stamp}
                unit_state = "put_away"
            else:
                to = _text(p.get("to"), 200)
                detail = {"to": to}
                sets = {"state": "moved" if kind == "container.moved" else "shipped", "moved_to": to, **stamp}
                unit_state = "put_away"
                if kind == "container.shipped":
                    unit_state = "shipped"
                    if not plates and place:  # no list sent: what the server holds in it, and this push put in
                        plates = _in_bin(conn, place, unit_sets)
                    detail["units"] = plates
            if place:
                bin_sets[(place,)] = {**bin_sets.get((place,), {}), **sets}
                for plate in plates:
                    unit_sets[(plate,)] = {**unit_sets.get((plate,), {}), "bin": place, "state": unit_state, **stamp}
        out.append(
            {
                "kind": kind,
                "event_id": r["event_id"],
                "station": r["station"],
                "operator": r["operator"],
                "at": r["at"],
                "server_at": r["server_at"],
                "rma_code": r["rma_code"],
                "lpn": lpn,
                "bin": place,
                "body": json.dumps({"grade": grade, "channel": channel, "detail": detail}, ensure_ascii=False),
            }
        )
    for key, sets in bins_seen.items():
        if key not in bin_sets:
            _upsert(conn, bins, ("name",), {key: sets}, {}, update=False)
    _upsert(conn, bins, ("name",), bin_sets, {"kind": "bin", "state": "open"})
    _upsert(conn, units, ("lpn",), unit_sets, {"state": "put_away"})
    if not is_sqlite:
        # cursors must become visible in cursor order: writers of the feed take turns (as for changes)
        conn.exec_driver_sql("LOCK TABLE handoff_feed IN EXCLUSIVE MODE")
    conn.execute(feed.insert(), out)


def _in_bin(conn: sa.Connection, place: str, unit_sets: dict[tuple, dict]) -> list[str]:
    """The plates in a bin now: the server's, changed by what this push did so far."""
    held = set(
        conn.execute(
            sa.select(units.c.lpn).where(units.c.bin == place, units.c.state != "shipped").limit(MAX_LISTED)
        ).scalars()
    )
    for (plate,), sets in unit_sets.items():
        if sets.get("bin") == place and sets.get("state") != "shipped":
            held.add(plate)
        elif "bin" in sets and sets["bin"] != place:
            held.discard(plate)
    return sorted(held)


# --- refund decisions ------------------------------------------------------------------------


def _refunds(
    conn: sa.Connection, rows: list[dict], refund_rows: list[dict], payloads: dict[str, dict], now: str
) -> None:
    codes = {r["rma_code"] for r in refund_rows}
    lock = sorted(codes | {r["rma_code"] for r in rows if r["rma_code"] and r["type"] in _PROJECTED})
    state: dict[str, tuple[str, str, bool]] = {}  # code -> record, status, decided already
    for chunk in _chunks(lock, 500):
        for code, record, status, decided in conn.execute(
            sa.select(_rmas.c.code, _rmas.c.record, _rmas.c.status, refunds.c.rma_code)
            .select_from(_rmas.outerjoin(refunds, refunds.c.rma_code == _rmas.c.code))
            .where(_rmas.c.code.in_(chunk))
            .order_by(_rmas.c.code)
            .with_for_update(of=_rmas)
        ):
            state[code] = (record, status, decided is not None)
    open_codes = {c for c in codes if c in state and not state[c][2] and state[c][1] != "cancelled"}
    if not open_codes:
        return
    item_sets: dict[tuple, dict] = {}
    missing_sets: dict[tuple, dict] = {}
    for r in refund_rows:
        if r["rma_code"] not in open_codes:
            continue
        p = payloads[r["event_id"]]
        line_no = _int(p.get("line_no"))
        if r["type"] == "item.inspected" and line_no and _text(p.get("final"), 16):
            item_sets[(r["rma_code"], line_no, _int(p.get("unit_no")) or 1)] = {
                "grade": _text(p.get("final"), 16),
                "channel": _text(p.get("channel"), 32),
                "lpn": _plate(p.get("lpn")),
                "event_id": r["event_id"],
            }
        elif r["type"] == "line.not_received" and line_no and _int(p.get("quantity")) is not None:
            missing_sets[(r["rma_code"], line_no)] = {"quantity": _int(p.get("quantity")), "event_id": r["event_id"]}
    _upsert(conn, items, ("rma_code", "line_no", "unit_no"), item_sets, {})
    _upsert(conn, not_received, ("rma_code", "line_no"), missing_sets, {})
    decided, bodies = [], []
    for code in sorted(open_codes):
        record = _payload(state[code][0])
        policy = str(record.get("refund_policy")) if record.get("refund_policy") in POLICIES else DEFAULT_POLICY
        mine = [r for r in refund_rows if r["rma_code"] == code]
        if policy == "on_receipt":
            trigger = next((r for r in mine if r["type"] == "rma.received"), None)
            if trigger is None:
                continue
            lines = _lines(conn, code, record, inspected=False)
        else:
            if all(r["type"] == "rma.received" for r in mine):
                continue  # a receipt meets no part of this policy
            lines = _lines(conn, code, record, inspected=True)
            trigger = next((r for r in mine if r["type"] == "rma.inspected"), None)
            if trigger is None and all(ln["not_inspected"] == 0 for ln in lines):
                trigger = mine[-1]  # every unit is inspected or closed as not received
            if trigger is None:
                continue
        row = _decision(code, policy, lines, trigger, now)
        decided.append(row)
        bodies.append((row["id"], _webhook_body(row, record, now)))
    if decided:
        conn.execute(refunds.insert(), decided)
        hooks_outbox.enqueue_bodies(conn, hooks_outbox.HookKind.REFUND, bodies, now)


def _lines(conn: sa.Connection, code: str, record: dict, *, inspected: bool) -> list[dict]:
    """Each RMA line: its units refunded, not received, scrapped for customer damage, not inspected."""
    missing = dict(
        conn.execute(
            sa.select(not_received.c.line_no, not_received.c.quantity).where(not_received.c.rma_code == code)
        ).all()
    )
    seen: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    if inspected:
        for line_no, unit_no, grade, channel in conn.execute(
            sa.select(items.c.line_no, items.c.unit_no, items.c.grade, items.c.channel).where(items.c.rma_code == code)
        ):
            seen[line_no].append((unit_no, grade, channel or ""))
    out = []
    for n, line in enumerate(record.get("lines") or [], 1):
        qty = _int(line.get("qty")) or 0
        absent = max(0, min(qty, missing.get(n, 0)))
        here = qty - absent
        units_seen = sorted(u for u in seen.get(n, ()) if 1 <= u[0] <= qty)[:here]
        damaged = sum(1 for _, grade, channel in units_seen if grade == "scrapped" and channel not in SUPPLIER_CHANNELS)
        not_inspected = here - len(units_seen) if inspected else 0
        refunded = here - damaged - not_inspected
        value = line.get("value") if isinstance(line.get("value"), int | float) else None
        out.append(
            {
                "line_no": n,
                "sku": _text(line.get("sku")) or "",
                "qty": qty,
                "refunded": refunded,
                "not_received": absent,
                "customer_damage": damaged,
                "not_inspected": not_inspected,
                "value": value,
                "amount": round(refunded * value, 2) if value is not None else None,
            }
        )
    return out


def _decision(code: str, policy: str, lines: list[dict], trigger: dict, now: str) -> dict:
    """The refunds row: full / partial / none, with its reason in one line."""
    total, refunded = sum(ln["qty"] for ln in lines), sum(ln["refunded"] for ln in lines)
    decision = "full" if refunded == total else "none" if refunded == 0 else "partial"
    problems = []
    for ln in lines:
        where = f"line {ln['line_no']} ({ln['sku']})"
        if ln["not_received"]:
            problems.append(f"{where}: {ln['not_received']} of {ln['qty']} not received")
        if ln["customer_damage"]:
            problems.append(f"{where}: {ln['customer_damage']} scrapped for customer damage")
        if ln["not_inspected"]:
            problems.append(f"{where}: {ln['not_inspected']} not inspected")
    if policy == "on_receipt":
        reason = f"refund on receipt: received at {trigger['station']}"
        reason += f"; {'; '.join(problems)}" if problems else f"; all {total} unit(s) refunded"
    else:
        reason = "; ".join(problems) or f"all {total} unit(s) received and inspected, none scrapped for customer damage"
    amounts = [ln["amount"] for ln in lines]
    return {
        "rma_code": code,
        "id": "rfd_" + uuid.uuid4().hex,
        "decision": decision,
        "policy": policy,
        "reason": reason,
        "lines": json.dumps(lines),
        "amount": round(sum(a for a in amounts if a is not None), 2) if amounts and None not in amounts else None,
        "event_id": trigger["event_id"],
        "station": trigger["station"],
        "operator": trigger["operator"],
        "at": trigger["at"],
        "decided_at": now,
    }


def _webhook_body(row: dict, record: dict, now: str) -> str:
    """The ``refund.decided`` delivery's body (Standard Webhooks' type / timestamp / data)."""
    return json.dumps(
        {
            "type": hooks_outbox.HookKind.REFUND.value,
            "timestamp": now,
            "data": {**decision_view(row), "order_ref": _text(record.get("order_ref")) or ""},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decision_view(row) -> dict:
    """A refunds row as integrations see it (the webhook's data, ``GET /rmas/{code}/refund``'s decision)."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "id": get("id"),
        "rma_code": get("rma_code"),
        "decision": get("decision"),
        "policy": get("policy"),
        "reason": get("reason"),
        "lines": json.loads(get("lines") or "[]"),
        "amount": get("amount"),
        "event_id": get("event_id"),
        "station": get("station"),
        "operator": get("operator"),
        "at": get("at"),
        "decided_at": get("decided_at"),
    }


# --- writing -----------------------------------------------------------------------------------


def _upsert(
    conn: sa.Connection,
    table: sa.Table,
    key: tuple[str, ...],
    sets: dict[tuple, dict],
    defaults: dict,
    *,
    update: bool = True,
) -> None:
    """Insert the rows of ``sets`` that are missing (with ``defaults``), update the columns set of the others.

    Updates go in key order, so two pushes updating the same rows take their locks in one order.
    """
    if not sets:
        return
    held: set[tuple] = set()
    columns = [table.c[k] for k in key]
    wanted = sorted(sets)
    for chunk in _chunks(wanted, 500):
        where = (
            columns[0].in_([k[0] for k in chunk])
            if len(key) == 1
            else sa.tuple_(*columns).in_([tuple(k) for k in chunk])
        )
        held |= {tuple(r) for r in conn.execute(sa.select(*columns).where(where))}
    blank = {c.name: None for c in table.c}
    new = [{**blank, **defaults, **sets[k], **dict(zip(key, k, strict=True))} for k in wanted if k not in held]
    if new:
        conn.execute(table.insert(), new)
    if not update:
        return
    groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for k in wanted:
        if k in held:
            names = tuple(sorted(sets[k]))
            groups[names].append(
                {**{f"k_{n}": v for n, v in zip(key, k, strict=True)}, **{f"v_{n}": sets[k][n] for n in names}}
            )
    for names, params in groups.items():
        statement = (
            table.update()
            .where(*[table.c[n] == sa.bindparam(f"k_{n}") for n in key])
            .values({n: sa.bindparam(f"v_{n}") for n in names})
        )
        conn.execute(statement, params)


# --- reading payloads defensively ----------------------------------------------------------------


def _payload(text: str | None) -> dict:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _text(value: object, most: int = 64) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:most] or None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**31) < value < 2**31 else None
    if isinstance(value, str) and value.strip().isdigit():
        return _int(int(value.strip()))
    return None


def _plate(value: object) -> str | None:
    text = _text(value, 64)
    return text.upper() if text else None


def _bin(value: object) -> str | None:
    """A bin's or container's name as compared: upper case, runs of white space as one space (as the station)."""
    text = _text(value, 64)
    return " ".join(text.split()).upper() if text else None


def _plates(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(p for p in (_plate(v) for v in value[:MAX_LISTED]) if p))


def _tally(value: object) -> int | list[str] | None:
    """A count's figure: a number, or a list of plates."""
    if isinstance(value, list):
        return _plates(value)
    return _int(value)


def _chunks(values: list, size: int) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def timeline_entries(db, code: str) -> list:
    """The RMA's refund decision as a timeline step (none while undecided); ``db`` is a ServerDb."""
    from sync.protocol import TimelineEntry

    with db.read() as conn:
        row = conn.execute(sa.select(refunds).where(refunds.c.rma_code == code)).first()
    if row is None:
        return []
    view = decision_view(row)
    return [
        TimelineEntry(
            at=row.at,
            what="refund.decided",
            station=row.station,
            operator=row.operator,
            event_id=row.id,
            server_at=row.decided_at,
            detail={k: view[k] for k in ("decision", "policy", "reason", "lines", "amount", "event_id")},
        )
    ]
