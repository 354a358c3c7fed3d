"""The rollups the supervisors' reports read at scale (issue 12 part 6), against what the events say.

Events go through the real :meth:`ServerDb.push` in an unlucky order -- inspections before their
receipt, a put-away before its inspection, a correction before the inspection it corrects, a
receipt undone, a batch sent twice -- with folds in between (the settle window reads recent
events again).  Then every report read from the rollups (``an_daily``, ``an_hours``, ``an_secs``,
``an_fails``) equals the same report counted here from the fact rows, the rollups equal a count
made afresh from the facts, and the SLA clocks' open units (``sla_open_units``) and the risk
list's serials and mismatches equal what a reading of every event gives.  SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from server import analytics
from server.db import ServerDb, events, rmas
from server.sla import overdue_report
from sync.protocol import PushBatch, RmaRecord
from sync.sla import DEFAULT_POLICY

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=9)

RECORDS = [  # code, sku, category, lot, supplier, reason, customer
    ("RMA-1", "SKU-A", "shoes", "L1", "S1", "尺码偏小", "ann@x.com"),
    ("RMA-2", "SKU-A", "shoes", "L2", "S1", "defective", "ann@x.com"),
    ("RMA-3", "SKU-B", "electronics", "L3", "S2", "坏了", "ANN@x.com "),
    ("RMA-4", "SKU-C", "electronics", "L3", "S2", "changed my mind", "bob@x.com"),
    ("RMA-5", "SKU-C", "home", "", "", "", "cy@x.com"),
]


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat(timespec="milliseconds")


def inspected(code, unit, hours, grade, confirmed, *, lpn="", channel="restock", failed=(), serial="", refers_to=None):
    payload = {
        "line_no": 1,
        "unit_no": unit,
        "final": grade,
        "channel": channel,
        "category": "shoes" if code in ("RMA-1", "RMA-2") else "electronics",
        "reason_confirmed": confirmed,
        "checklist": {"id": "cl-" + code[-1], "hash": "ab" * 32},
        "answers": [{"item": "first", "failed": False}]
        + [{"item": f, "failed": True, "severity": "major"} for f in failed],
        "ended_at": at(hours),
    }
    if lpn:
        payload["lpn"] = lpn
    if serial:
        payload |= {"serial": serial, "gtin": "04000001"}
    return {"type": "item.inspected", "rma_code": code, "at": at(hours), "payload": payload, "refers_to": refers_to}


def event(kind, code, hours, refers_to=None, **payload):
    return {"type": kind, "rma_code": code, "at": at(hours), "payload": payload, "refers_to": refers_to}


class Station:
    """One station's events, pushed straight into the server database in order."""

    def __init__(self, db: ServerDb, name: str):
        self.db, self.name, self.seq = db, name, 0
        db.add_station(name)

    def batch(self, *bodies: dict) -> dict:
        out = []
        for body in bodies:
            self.seq += 1
            out.append(
                {"seq": self.seq, "id": body.pop("id", None) or str(uuid.uuid4()), "operator": f"op-{self.name}"} | body
            )
        return {"after_seq": self.seq - len(out), "events": out}

    def push(self, batch: dict) -> int:
        result = self.db.push(self.name, PushBatch.model_validate(json.loads(json.dumps(batch))))
        assert not result.rejected, result
        return result.stored


@pytest.fixture
def folded(storage):
    """The events in an unlucky order over two stations, folded in four rounds; the pushed events too."""
    db = storage.db
    db.import_rmas(
        [
            RmaRecord.model_validate(
                {
                    "rma_code": code,
                    "status": "authorized",
                    "reason": reason,
                    "customer": customer,
                    "lines": [{"sku": sku, "qty": 3, "category": category, "lot": lot, "supplier": supplier}],
                }
            )
            for code, sku, category, lot, supplier, reason, customer in RECORDS
        ]
    )
    a, b = Station(db, "A"), Station(db, "B")
    first, corrected = str(uuid.uuid4()), str(uuid.uuid4())
    rounds = [
        # inspections before their receipt reached the server; a put-away before its inspection
        a.batch(
            inspected("RMA-1", 1, 30, "resellable", "yes", lpn="lp-1a", failed=["sole"]),
            inspected("RMA-1", 2, 31.5, "discounted", "no", lpn="LP-1B", channel="b_stock", failed=["sole", "box"]),
            event("unit.put_away", "RMA-2", 60, lpn="LP-2A", bin="B-1", channel="restock"),
            event("item.mismatch", "RMA-3", 40, serial="SN-9", gtin="04000001"),
        ),
        b.batch(
            event("rma.received", "RMA-1", 24),
            event("rma.received", "RMA-2", 48),
            event("rma.received", "RMA-3", 26),
            inspected("RMA-2", 1, 50, "resellable", "unclear", lpn="LP-2A"),
            # corrects an inspection station A sends later (B may not: a conflict; the figures follow it)
            inspected("RMA-3", 1, 29, "scrapped", "yes", lpn="LP-3A", channel="recycle", refers_to=first)
            | {"id": corrected},
        ),
        a.batch(
            inspected("RMA-3", 1, 28, "resellable", "no", lpn="LP-3A", serial="SN-9") | {"id": first},
            inspected("RMA-3", 2, 28.2, "scrapped", "", lpn="LP-3B", channel="return_to_vendor", failed=["power"]),
            event("unit.put_away", "RMA-1", 33, lpn="LP-1A", bin="B-1", channel="restock"),
            event("rma.received", "RMA-4", 100),
            inspected("RMA-4", 1, 101, "resellable", "yes", lpn="LP-4A", serial="SN-9"),
        ),
        a.batch(
            event("rma.receive_undone", "RMA-4", 102, refers_to="__receipt_of_4__"),
            event("rma.received", "RMA-4", 103),
            inspected("RMA-5", 1, 110, "discounted", "yes"),  # no plate: no put-away clock
            event("unit.put_away", "RMA-1", 40, refers_to="__move__", lpn="LP-1B", bin="B-2"),
            # a correction after the inspection it corrects: the figures lose the first, count this one
            inspected("RMA-1", 2, 32, "scrapped", "yes", lpn="LP-1B", channel="recycle", failed=["box"]),
        ),
    ]
    rounds[3]["events"][0]["refers_to"] = rounds[2]["events"][3]["id"]
    rounds[3]["events"][3]["refers_to"] = rounds[2]["events"][2]["id"]
    rounds[3]["events"][4]["refers_to"] = rounds[0]["events"][1]["id"]
    pushed = []
    for n, batch in enumerate(rounds):
        station = b if n == 1 else a
        assert station.push(batch) == len(batch["events"])
        if n == 1:
            assert station.push(batch) == 0  # sent again (the answer was lost): nothing new
        pushed += batch["events"]
        analytics.refresh(db.write, events, rmas)
    analytics.refresh(db.write, events, rmas)  # the settle window reads them all once more
    return db, pushed


def facts(conn) -> tuple[list[dict], list[dict], list[dict]]:
    return tuple(  # type: ignore[return-value]
        [dict(r._mapping) for r in conn.execute(sa.select(t))]
        for t in (analytics.units_t, analytics.checks_t, analytics.rmas_t)
    )


def rollups(conn) -> dict[str, set[tuple]]:
    """The rollups' rows that count something (a row counted down to nothing is no row)."""
    out = {}
    for table in (analytics.daily_t, analytics.hours_t, analytics.secs_t, analytics.fails_t):
        counted = [c for c in table.c if isinstance(c.type, sa.Integer) and not c.primary_key]
        out[table.name] = {tuple(r) for r in conn.execute(sa.select(table)) if any(r._mapping[c.name] for c in counted)}
    return out


def nearest_rank(values: list[int], share: float) -> float | None:
    if not values:
        return None
    return round(sorted(values)[max(0, math.ceil(share * len(values)) - 1)] / 3600, 2)


def test_every_report_from_the_rollups_equals_what_the_facts_count(folded):
    db, pushed = folded
    day = at(30)[:10]
    with db.read() as conn:
        units, checks, received = facts(conn)
        assert len(units) == 7  # the correction replaced one, RMA-5's counts too
        for period in (analytics.Period(), analytics.Period(since=day, until=day)):
            inside = [u for u in units if period.since <= u["day"] and (not period.until or u["day"] <= period.until)]
            by_reason = defaultdict(list)
            for u in inside:
                by_reason[u["reason_code"]].append(u["reason_confirmed"])
            expected = {
                code: (len(c), c.count("yes"), c.count("no"), c.count("unclear")) for code, c in by_reason.items()
            }
            got = {
                r["reason_code"]: (r["units"], r["confirmed"], r["not_confirmed"], r["unclear"])
                for r in analytics.reasons(conn, period)
            }
            assert got == expected
            for by, column in analytics.DIMENSIONS.items():
                groups = defaultdict(list)
                for u in inside:
                    groups[u[column]].append(u)
                expected_rates = {
                    key: (len(g), *(sum(u["grade"] == x for u in g) for x in analytics.GRADES),
                          *(sum(u["channel"] == c for u in g) for c in analytics.CHANNELS))
                    for key, g in groups.items()
                }  # fmt: skip
                got_rates = {
                    r[by]: (r["units"], *(r[g] for g in analytics.GRADES), *(r[c] for c in analytics.CHANNELS))
                    for r in analytics.rates(conn, by, period)
                }
                assert got_rates == expected_rates, by
            for by in ("station", "operator"):
                expected_hours = defaultdict(lambda: [0, set()])
                for u in inside:
                    expected_hours[u[by]][0] += 1
                    expected_hours[u[by]][1].add(u["hour"])
                got_hours = {r[by]: (r["units"], r["hours"]) for r in analytics.throughput(conn, by, period)}
                assert got_hours == {k: (n, len(h)) for k, (n, h) in expected_hours.items()}
            for per in ("day", "week"):
                groups = defaultdict(list)
                for u in inside:
                    groups[u[per]].append(u)
                expected_trend = {
                    key: (len(g), *(sum(u["grade"] == x for u in g) for x in analytics.GRADES))
                    for key, g in groups.items()
                }
                got_trend = {
                    r[per]: (r["units"], *(r[g] for g in analytics.GRADES)) for r in analytics.trends(conn, per, period)
                }
                assert got_trend == expected_trend
            fails = defaultdict(int)
            for c in checks:
                if period.since <= c["day"] and (not period.until or c["day"] <= period.until):
                    fails[(c["checklist_id"], c["item"])] += 1
            per_checklist = defaultdict(int)
            for u in inside:
                per_checklist[u["checklist_id"]] += 1
            got_fails = {
                (r["checklist"], r["item"]): (r["fails"], r["units"]) for r in analytics.failing_checks(conn, period)
            }
            assert got_fails == {k: (n, per_checklist[k[0]]) for k, n in fails.items()}
            steps = {s["step"]: s for s in analytics.cycle_times(conn, period)}
            receipts = [r for r in received if r["receive_secs"] is not None and period.since <= (r["day"] or "")]
            receipts = [r for r in receipts if not period.until or r["day"] <= period.until]
            for step, values in (
                ("authorized_received", [r["receive_secs"] for r in receipts]),
                ("received_inspected", [u["inspect_secs"] for u in inside if u["inspect_secs"] is not None]),
                ("inspected_put_away", [u["putaway_secs"] for u in inside if u["putaway_secs"] is not None]),
            ):  # fmt: skip
                assert steps[step]["count"] == len(values), step
                assert steps[step]["p50_hours"] == nearest_rank(values, 0.5), step
                assert steps[step]["p90_hours"] == nearest_rank(values, 0.9), step
        # what the unlucky order did: the late receipt timed RMA-1's units, the early put-away RMA-2's
        by_unit = {(u["rma_code"], u["unit_no"]): u for u in units}
        assert by_unit[("RMA-1", 1)]["inspect_secs"] == 6 * 3600
        assert by_unit[("RMA-2", 1)]["putaway_secs"] == 10 * 3600
        assert by_unit[("RMA-3", 1)]["grade"] == "scrapped"  # the correction, though it came first
        assert by_unit[("RMA-1", 2)]["grade"] == "scrapped"  # the correction that came after
        [again] = [r for r in received if r["rma_code"] == "RMA-4"]  # undone, then received again
        assert again["received_event"] == pushed[15]["id"] and again["receive_secs"] is not None
        folded_rollups = rollups(conn)
    with db.write() as conn:
        analytics._recount(conn)  # the rollups counted afresh from the facts: the fold's must be the same
    with db.read() as conn:
        assert rollups(conn) == folded_rollups


def test_the_open_units_of_the_sla_clocks_and_the_risk_tables_equal_a_reading_of_every_event(folded):
    db, pushed = folded
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                events.c.event_id, events.c.type, events.c.rma_code, events.c.at, events.c.refers_to, events.c.payload
            )
        ).all()
    # every event read, as the clocks did before the fold kept them
    placed = {str(json.loads(r.payload).get("lpn") or "").upper() for r in rows if r.type == "unit.put_away"}
    corrected = {r.refers_to for r in rows if r.type == "item.inspected" and r.refers_to}
    expected = set()
    for r in rows:
        p = json.loads(r.payload)
        lpn = str(p.get("lpn") or "").upper()
        if (
            r.type == "item.inspected"
            and lpn
            and p.get("channel")
            and lpn not in placed
            and r.event_id not in corrected
        ):
            expected.add((r.rma_code, lpn, r.at))
    assert expected == {("RMA-3", "LP-3A", at(29)), ("RMA-3", "LP-3B", at(28.2)), ("RMA-4", "LP-4A", at(101))}
    items = overdue_report(db, datetime.now(UTC) + timedelta(days=400), policy=DEFAULT_POLICY)
    assert {(i["code"], i["lpn"], i["started_at"]) for i in items if i["kind"] == "unit"} == {
        (code, lpn, _stamp(started)) for code, lpn, started in expected
    }
    # the risk list: the serial inspected on RMA-3 and RMA-4 (two customers), the mismatch on RMA-3
    ann, bob = _by_rmas(db.risk_report())
    assert ann.rmas == ["RMA-1", "RMA-2", "RMA-3"] and ann.mismatched_rmas == ["RMA-3"]
    assert ann.serials_seen_before == ["04000001/SN-9"] and bob.serials_seen_before == ["04000001/SN-9"]
    assert bob.rmas == ["RMA-4"] and bob.mismatches == 0
    assert db.risk_report(limit=1) == db.risk_report()[:1]  # the first by the same order, counted in SQL
    assert len(pushed) == 19


def _stamp(text: str) -> str:
    from sync.sla import stamp

    return stamp(datetime.fromisoformat(text))


def _by_rmas(flagged):
    found = {c.rmas[0]: c for c in flagged}
    assert set(found) == {"RMA-1", "RMA-4"}, flagged
    return found["RMA-1"], found["RMA-4"]


def test_a_database_an_earlier_release_folded_gains_the_rollups_and_clocks_on_start(folded):
    """As an upgrade finds it: the facts folded, the new tables empty (dropped here), no markers."""
    db, _pushed = folded
    kept = (analytics.sla_units_t, analytics.sla_closed_t, analytics.serials_t, analytics.serial_counts_t)
    kept += (analytics.mismatches_t,)

    def snapshot() -> tuple:
        with db.read() as conn:
            return rollups(conn), {t.name: {tuple(r) for r in conn.execute(sa.select(t))} for t in kept}

    before = snapshot()
    assert before[1]["sla_open_units"] and before[1]["risk_mismatches"]
    for table in (analytics.daily_t, analytics.hours_t, analytics.secs_t, analytics.fails_t, *kept):
        table.drop(db.engine)
    with db.write() as conn:
        conn.execute(analytics.cursor_t.delete().where(analytics.cursor_t.c.name.in_(analytics.MARKERS)))
        # the earlier release's fold went past every event (they settled): the new tables are filled from them
        last = conn.execute(sa.select(sa.func.max(events.c.pk))).scalar_one()
        conn.execute(analytics.cursor_t.update().where(analytics.cursor_t.c.name == "events").values(pk=last))
    db.create()  # what `rma server` does on start
    assert analytics.refresh(db.write, events, rmas) == 0  # each report's fold: nothing is left to read
    assert snapshot() == before
    db.create()  # and once only: a second start changes nothing
    assert snapshot() == before


def test_a_push_that_commits_after_a_later_one_is_folded_once_and_nothing_is_read_twice(postgres, tmp_path):
    """PostgreSQL hands out keys at insert: an event stored with a smaller key may commit after one with a
    larger key was folded.  The fold notes the missing key and folds the event when it is there; an event
    is read once, never again (each report used to read the last two minutes of events again)."""
    from tests.sync.conftest import ServerStorage

    storage = ServerStorage("postgresql", tmp_path, postgres)
    db = storage.db
    try:
        db.import_rmas(
            [
                RmaRecord.model_validate({"rma_code": code, "status": "authorized", "lines": [{"sku": "K", "qty": 1}]})
                for code in ("RMA-L", "RMA-M")
            ]
        )
        a, b = Station(db, "A"), Station(db, "B")
        late = a.batch(inspected("RMA-L", 1, 10, "scrapped", "no", lpn="LP-L"))
        with db.engine.connect() as slow:  # a push of station A, stored but not committed yet
            slow_tx = slow.begin()
            slow.execute(
                events.insert().values(
                    station="A", seq=1, event_id=late["events"][0]["id"], type="item.inspected", operator="op-A",
                    at=late["events"][0]["at"], server_at=at(10), rma_code="RMA-L", refers_to=None,
                    payload=json.dumps(late["events"][0]["payload"]),
                )
            )  # fmt: skip
            b.push(b.batch(inspected("RMA-M", 1, 11, "resellable", "yes", lpn="LP-M")))
            assert analytics.refresh(db.write, events, rmas) == 1  # B's, with the larger key
            with db.read() as conn:
                assert conn.execute(sa.select(analytics.gaps_t.c.pk)).scalars().all() != []
            slow_tx.commit()
        assert analytics.refresh(db.write, events, rmas) == 1  # A's, late
        assert analytics.refresh(db.write, events, rmas) == 0  # nothing is read twice
        with db.read() as conn:
            assert {r["reason_confirmed"] for r in analytics.units(conn)} == {"no", "yes"}
            assert {r["units"] for r in analytics.rates(conn, "sku")} == {2}
            assert conn.execute(sa.select(analytics.gaps_t.c.pk)).scalars().all() == []
            cursor = conn.execute(sa.select(analytics.cursor_t.c.pk).where(analytics.cursor_t.c.name == "events"))
            assert cursor.scalar_one() == conn.execute(sa.select(sa.func.max(events.c.pk))).scalar_one()
        due = overdue_report(db, datetime.now(UTC) + timedelta(days=400))
        assert {i["lpn"] for i in due if i["kind"] == "unit"} == {"LP-L", "LP-M"}
    finally:
        db.close()


def test_the_overdue_report_counts_every_one_and_lists_a_page(sqlite_storage):
    import requests

    from tests.helpers.server_thread import ServerThread
    from tests.sync.test_sla import seed

    db = sqlite_storage.db
    seed(db)
    erp = {"Authorization": f"Bearer {db.add_station('erp', 'integration')}"}
    running = ServerThread(db, rate=0).start()
    try:
        url = f"{running.url}/api/v1/reports/overdue"
        whole = requests.get(url, headers=erp, timeout=10).json()
        page = requests.get(url, params={"limit": 1, "offset": 1}, headers=erp, timeout=10).json()
        assert len(whole["items"]) == 3 and page["items"] == whole["items"][1:2]
        assert (page["overdue"], page["due_soon"]) == (whole["overdue"], whole["due_soon"]) == (3, 0)
    finally:
        running.stop()
