"""Return analytics on the real server: stations' events folded into facts, reports, drill-downs, the API.

Real stations (SQLite files) push real events to the server on a loopback port, over SQLite and
over PostgreSQL; the reports are read through the HTTP API and through :mod:`server.analytics`.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from server import analytics
from server.db import events, rmas
from sync.client import SyncClient
from sync.protocol import parse_stamp
from sync.store import Inspection

RMAS = [
    {
        "rma_code": "RMA-A",
        "reason": "尺码偏小",
        "status": "authorized",
        "lines": [{"sku": "SHOE-1", "qty": 2, "category": "footwear", "lot": "L1", "supplier": "S1"}],
    },
    {
        "rma_code": "RMA-B",
        "reason": "defective",
        "status": "authorized",
        "lines": [{"sku": "GAD-1", "qty": 1, "category": "consumer_electronics", "supplier": "S2"}],
    },
    {
        "rma_code": "RMA-C",
        "reason": "坏了",
        "status": "authorized",
        "lines": [{"sku": "GAD-1", "qty": 1, "category": "consumer_electronics", "supplier": "S2"}],
    },
    {"rma_code": "RMA-D", "reason": "no reason we know", "status": "authorized", "lines": [{"sku": "X-1", "qty": 1}]},
]
# (rma, hours after its receipt, grade, failed check, reason confirmed)
UNITS = [
    ("RMA-A", 1, "resellable", "", "yes"),
    ("RMA-A", 2, "discounted", "outsole_wear", "no"),
    ("RMA-B", 3, "scrapped", "powers_on", "yes"),
    ("RMA-C", 4, "scrapped", "powers_on", "unclear"),
    ("RMA-D", 10, "resellable", "", ""),
]
CHANNEL = {"resellable": "restock", "discounted": "b_stock", "scrapped": "recycle"}
CHECKLISTS = {"RMA-A": "footwear", "RMA-B": "consumer_electronics", "RMA-C": "consumer_electronics", "RMA-D": "general"}


@pytest.fixture
def floor(storage, server, tokens, make_station):
    """Four RMAs imported, received and inspected (five units) at station A, one unit put away; all pushed."""
    erp = {"Authorization": f"Bearer {tokens['erp']}"}
    answer = requests.post(f"{server.url}/api/v1/rmas", json={"rmas": RMAS}, headers=erp, timeout=10)
    assert answer.status_code == 200, answer.text
    station, client = make_station("A"), SyncClient(server.url, tokens["A"])
    client.sync(station)
    received = {}
    for rma in RMAS:
        received[rma["rma_code"]] = parse_stamp(station.receive(rma["rma_code"], "A", "op1").rma.received_at)
    lpns = []
    for code, hours, grade, failed, confirmed in UNITS:
        answers = [{"item": "first", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None}]
        if failed:
            answers.append({"item": failed, "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "major"})
        saved = station.save_inspection(
            Inspection(
                rma_code=code,
                line_no=1,
                checklist_id=CHECKLISTS[code],
                checklist_hash="c" * 64,
                answers=tuple(answers),
                suggested=grade,
                final=grade,
                started_at=(received[code] + timedelta(hours=hours, minutes=-5)).isoformat(timespec="milliseconds"),
                ended_at=(received[code] + timedelta(hours=hours)).isoformat(timespec="milliseconds"),
                reason_confirmed=confirmed,
                channel=CHANNEL[grade],
                suggested_channel=CHANNEL[grade],
                bin=CHANNEL[grade].upper(),
                routing_id="standard",
                routing_hash="1" * 64,
            ),
            "A",
            "op1",
        )
        lpns.append(saved.lpn)
    station.put_away(lpns[0], "RESTOCK-1", "A", "op2", bins={"RESTOCK-1": {"restock"}})
    client.sync(station)
    assert station.unsent_count() == 0
    return {"url": server.url, "erp": erp, "station": {"Authorization": f"Bearer {tokens['A']}"}, "db": storage.db}


def test_reasons_report_counts_what_inspection_found_per_reason_code(floor):
    answer = requests.get(f"{floor['url']}/api/v1/reports/reasons", headers=floor["erp"], timeout=10)
    assert answer.status_code == 200, answer.text
    rows = {r["reason_code"]: r for r in answer.json()["reasons"]}
    assert set(rows) == {"size_too_small", "defective", ""}
    assert (rows["defective"]["units"], rows["defective"]["confirmed"], rows["defective"]["unclear"]) == (2, 1, 1)
    assert rows["defective"]["confirmed_rate"] == 0.5
    assert (rows["size_too_small"]["confirmed"], rows["size_too_small"]["not_confirmed"]) == (1, 1)
    assert (rows[""]["units"], rows[""]["not_recorded"], rows[""]["confirmed_rate"]) == (1, 1, None)
    # every row drills down to the RMAs behind it
    drilled = requests.get(f"{floor['url']}{rows['defective']['drill']}", headers=floor["erp"], timeout=10).json()
    assert sorted(drilled["rma_codes"]) == ["RMA-B", "RMA-C"]
    unclassified = requests.get(f"{floor['url']}{rows['']['drill']}", headers=floor["erp"], timeout=10).json()
    assert unclassified["rma_codes"] == ["RMA-D"]
    narrowed = requests.get(
        f"{floor['url']}/api/v1/reports/units",
        params={"reason": "defective", "confirmed": "yes"},
        headers=floor["erp"],
        timeout=10,
    ).json()
    assert narrowed["rma_codes"] == ["RMA-B"]


def test_reasons_report_as_csv_and_only_for_integrations(floor):
    answer = requests.get(
        f"{floor['url']}/api/v1/reports/reasons",
        params={"format": "csv", "supplier": "S2"},
        headers=floor["erp"],
        timeout=10,
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert (row["reason_code"], row["units"], row["confirmed"], row["confirmed_rate"]) == ("defective", "2", "1", "0.5")
    refused = requests.get(f"{floor['url']}/api/v1/reports/reasons", headers=floor["station"], timeout=10)
    assert refused.status_code == 403 and "reports are for integration tokens" in refused.json()["detail"]
    bad = requests.get(
        f"{floor['url']}/api/v1/reports/reasons", params={"since": "last week"}, headers=floor["erp"], timeout=10
    )
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
    spec = requests.get(f"{floor['url']}/openapi.json", timeout=10).json()
    assert "/api/v1/reports/reasons" in spec["paths"] and "ReasonsReport" in spec["components"]["schemas"]


def test_rates_checks_throughput_cycle_times_and_trends(floor):
    db = floor["db"]
    analytics.refresh(db.write, events, rmas)
    analytics.refresh(db.write, events, rmas)  # again: the recent events are read twice, folded once
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(analytics.units_t)).scalar_one() == 5
        by_supplier = {r["supplier"]: r for r in analytics.rates(conn, "supplier")}
        assert (by_supplier["S2"]["units"], by_supplier["S2"]["scrapped_rate"]) == (2, 1.0)
        assert (by_supplier["S1"]["resellable"], by_supplier["S1"]["discounted"]) == (1, 1)
        assert (by_supplier["S1"]["restock"], by_supplier["S1"]["b_stock"], by_supplier["S2"]["recycle"]) == (1, 1, 2)
        assert {r["lot"]: r["units"] for r in analytics.rates(conn, "lot")} == {"L1": 2, "": 3}
        by_checklist = {r["checklist"]: r["units"] for r in analytics.rates(conn, "checklist")}
        assert by_checklist["consumer_electronics@cccccccccccc"] == 2
        worst = analytics.failing_checks(conn)[0]
        assert (worst["checklist"], worst["item"], worst["fails"], worst["units"]) == (
            "consumer_electronics",
            "powers_on",
            2,
            2,
        )
        drilled = analytics.units(conn, failed="consumer_electronics/powers_on")
        assert sorted(analytics.codes(drilled)) == ["RMA-B", "RMA-C"]
        [station] = analytics.throughput(conn, "station")
        assert (station["station"], station["units"], station["hours"], station["units_per_hour"]) == ("A", 5, 5, 1.0)
        steps = {s["step"]: s for s in analytics.cycle_times(conn)}
        assert steps["authorized_received"]["count"] == 4
        assert (steps["received_inspected"]["count"], steps["received_inspected"]["p50_hours"]) == (5, 3.0)
        assert steps["received_inspected"]["p90_hours"] == 10.0
        assert steps["inspected_put_away"]["count"] == 1
        slowest = analytics.units(conn, step="received_inspected", limit=1)
        assert analytics.codes(slowest) == ["RMA-D"]
        assert sum(t["units"] for t in analytics.trends(conn, "week")) == 5
        days = analytics.trends(conn, "day")
        assert sum(t["units"] for t in days) == 5 and [t["day"] for t in days] == sorted(t["day"] for t in days)
        one_day = days[0]["day"]
        assert len(analytics.units(conn, day=one_day)) == days[0]["units"]


def test_lot_and_supplier_columns_reach_the_server_and_a_long_one_is_refused_by_its_line(sqlite_storage, tmp_path):
    from server.ops import import_rma_file
    from sync.imports import RmaFile

    path = tmp_path / "rmas.csv"
    path.write_text(
        "rma_code,status,sku,qty,lot,supplier\n"
        "RMA-1,authorized,SKU-1,1,LOT-7,ACME\n"
        f"RMA-2,authorized,SKU-2,1,{'L' * 65},ACME\n"
        "RMA-3,authorized,SKU-3,1,,\n",
        encoding="utf-8",
    )
    problems: list[tuple[int, str]] = []
    source = RmaFile(path)
    source.check(lambda line, why: problems.append((line, why)))  # as `rma server import rmas` does
    import_rma_file(sqlite_storage.db, source, lambda line, why: problems.append((line, why)))
    assert problems == [(3, "lot is longer than 64 characters")]
    one, three = sqlite_storage.db.timeline("RMA-1").rma, sqlite_storage.db.timeline("RMA-3").rma
    assert (one.lines[0].lot, one.lines[0].supplier) == ("LOT-7", "ACME")
    assert "lot" not in three.model_dump()["lines"][0]  # a line without them is the record it always was


def test_refresh_analytics_folds_what_the_reports_left_and_a_report_folds_in_batches(floor, monkeypatch):
    from click.testing import CliRunner

    from server.cli import server as server_cli

    db = floor["db"]
    monkeypatch.setattr(analytics, "BATCH", 3)  # the floor's events take several batches
    first = analytics.refresh(db.write, events, rmas, batches=1)
    assert first == 3
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(analytics.units_t)).scalar_one() == 0
    done = CliRunner().invoke(server_cli, ["refresh-analytics", "--db", db.url])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("analytics: ") and done.output.endswith(" events read\n")
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(analytics.units_t)).scalar_one() == 5


def test_a_correction_replaces_an_inspection_a_second_one_does_not_count_and_order_does_not_matter(
    sqlite_storage, sqlite_server, sqlite_tokens
):
    """Events as a station sends them, in an unlucky order: the put-away first, then the inspection,
    its correction, and another station's inspection of the same unit (an inspected_twice conflict)."""
    import uuid

    url, db = sqlite_server.url, sqlite_storage.db
    erp = {"Authorization": f"Bearer {sqlite_tokens['erp']}"}
    record = {"rma_code": "RMA-X", "reason": "defective", "status": "authorized", "lines": [{"sku": "K-1", "qty": 1}]}
    assert requests.post(f"{url}/api/v1/rmas", json={"rmas": [record]}, headers=erp, timeout=10).ok
    first, correction = str(uuid.uuid4()), str(uuid.uuid4())

    def inspected(grade: str, confirmed: str, at: str, event_id: str, refers_to: str | None = None) -> dict:
        payload = {"line_no": 1, "unit_no": 1, "sku": "K-1", "final": grade, "lpn": "LPX", "ended_at": at}
        return {
            "id": event_id,
            "type": "item.inspected",
            "operator": "op1",
            "at": at,
            "rma_code": "RMA-X",
            "refers_to": refers_to,
            "payload": payload | {"reason_confirmed": confirmed},
        }

    pushed = [
        {
            "id": str(uuid.uuid4()),
            "type": "unit.put_away",
            "operator": "op2",
            "at": "2026-11-21T12:00:00.000+00:00",
            "rma_code": "RMA-X",
            "payload": {"lpn": "LPX", "bin": "B-1"},
        },
        {
            "id": str(uuid.uuid4()),
            "type": "rma.received",
            "operator": "op1",
            "at": "2026-11-21T08:00:00.000+00:00",
            "rma_code": "RMA-X",
            "payload": {},
        },
        inspected("resellable", "no", "2026-11-21T09:00:00.000+00:00", first),
        inspected("scrapped", "yes", "2026-11-21T10:00:00.000+00:00", correction, refers_to=first),
    ]
    for seq, body in enumerate(pushed, 1):
        body["seq"] = seq
    a = {"Authorization": f"Bearer {sqlite_tokens['A']}"}
    answer = requests.post(f"{url}/api/v1/events", json={"after_seq": 0, "events": pushed}, headers=a, timeout=10)
    assert answer.ok and answer.json()["acked_seq"] == 4, answer.text
    twice = inspected("discounted", "unclear", "2026-11-21T11:00:00.000+00:00", str(uuid.uuid4())) | {"seq": 1}
    b = {"Authorization": f"Bearer {sqlite_tokens['B']}"}
    answer = requests.post(f"{url}/api/v1/events", json={"after_seq": 0, "events": [twice]}, headers=b, timeout=10)
    assert answer.ok and answer.json()["conflicts"] == 1, answer.text

    analytics.refresh(db.write, events, rmas)
    with db.read() as conn:
        [unit] = analytics.units(conn)
        assert (unit["grade"], unit["reason_confirmed"], unit["station"]) == ("scrapped", "yes", "A")
        [reason] = analytics.reasons(conn)
        assert (reason["reason_code"], reason["units"], reason["confirmed"]) == ("defective", 1, 1)
        steps = {s["step"]: s for s in analytics.cycle_times(conn)}
        assert steps["received_inspected"]["p50_hours"] == 2.0  # 08:00 -> the corrected 10:00
        assert steps["inspected_put_away"]["p50_hours"] == 2.0  # 10:00 -> 12:00, though pushed first
