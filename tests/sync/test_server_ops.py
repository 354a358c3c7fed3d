"""`rma server import rmas FILE` and `rma server export inspections|movements` (issue 11 part 7)."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

from click.testing import CliRunner

from server.cli import server as server_cli
from server.db import utc_now
from sync.protocol import PushBatch
from terminal.cli import rma as station_cli

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"


def server(*args: str):
    return CliRunner().invoke(server_cli, list(args))


def station(tmp_path, *args: str):
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(station_cli, list(args), env={"RMA_STATION_CONFIG": str(config)})


def problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ".csv:" in line]


def test_the_server_import_reports_the_station_importers_problems_and_stores_the_good_rmas(storage, tmp_path):
    path = tmp_path / "rmas.csv"
    path.write_text(
        HEADER
        + "RMA-1,SO-1,李雷,SF100|SF101,damaged,authorized,SKU-1,,Kettle,1,kitchen\n"
        + "RMA-1,SO-1,李雷,,damaged,authorized,SKU-2,,Lid,2,kitchen\n"
        + "RMA-2,SO-2,Ann,,,authorized,SKU-3,12345,,1,\n"  # a GTIN with a wrong length: RMA-2 not loaded
        + "RMA-3,SO-3,Bo,,,maybe,SKU-4,,,1,\n"  # not a status
        + "RMA-4,SO-4,Cy,,,authorized,SKU-5,,,0,\n",  # qty 0
        encoding="utf-8",
    )
    at_station = station(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "station.db"))
    at_server = server("import", "rmas", str(path), "--db", storage.url)
    assert at_server.exit_code == 1 and at_station.exit_code == 1
    assert problems(at_server.stderr) == problems(at_station.stderr) != []
    assert at_server.stdout.startswith("imported 1 RMAs (2 lines)") and "3 problem(s)" in at_server.stdout
    timeline = storage.db.timeline("RMA-1")
    assert timeline.rma is not None and [ln.sku for ln in timeline.rma.lines] == ["SKU-1", "SKU-2"]
    assert timeline.rma.tracking_numbers == ["SF100", "SF101"] and timeline.rma.customer_name == "李雷"
    # the code path of POST /api/v1/rmas: every station pulls what was imported
    pulled = storage.db.changes_after(0, 100).changes
    assert [(c.kind, c.rma.rma_code if c.rma else "") for c in pulled] == [("rma", "RMA-1")]
    again = server("import", "rmas", str(path), "--db", storage.url)
    assert "0 new, 0 changed, 1 unchanged" in again.stdout


def test_a_record_the_server_refuses_is_a_problem_line_and_the_rest_is_loaded(sqlite_storage, tmp_path):
    path = tmp_path / "rmas.json"
    path.write_text(
        json.dumps(
            [
                {"rma_code": "RMA-7", "status": "authorized", "lines": [{"sku": "S" * 80, "qty": 1}]},
                {"rma_code": "RMA-8", "status": "cancelled", "lines": [{"sku": "SKU-8", "qty": 3}]},
            ],
            indent=1,
        ),
        encoding="utf-8",
    )
    done = server("import", "rmas", str(path), "--db", sqlite_storage.url)
    assert done.exit_code == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{path}:2: RMA RMA-7 not loaded: lines.0.sku:"), line
    assert sqlite_storage.db.timeline("RMA-8").status == "cancelled"


def test_a_file_that_cannot_be_read_is_one_line_and_nothing_is_imported(sqlite_storage, tmp_path):
    path = tmp_path / "rmas.csv"
    path.write_bytes(
        (HEADER + "RMA-1,,").encode() + b"\xff\xff" + b",,,authorized,S,,,1,\n"
    )  # neither UTF-8 nor GB18030
    done = server("import", "rmas", str(path), "--db", sqlite_storage.url)
    assert done.exit_code == 1 and done.stderr.count("\n") == 1 and "not UTF-8" in done.stderr
    assert sqlite_storage.db.changes_after(0, 10).changes == []


def _push(db, station: str, after: int, events: list[dict]) -> None:
    batch = PushBatch.model_validate(
        {"after_seq": after, "events": [{"seq": after + n, **e} for n, e in enumerate(events, 1)]}
    )
    assert db.push(station, batch).stored == len(events)


def _event(kind: str, rma_code: str | None = None, **payload) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "operator": "op1",
        "at": "2026-11-21T10:00:00.000+08:00",
        "rma_code": rma_code,
        "payload": payload,
    }


def test_export_movements_and_inspections_since_a_time_as_csv_and_json(storage, tmp_path):
    db = storage.db
    db.add_station("A")
    first = [
        _event("rma.received", "RMA-1", scanned="SF100", matched_by="tracking"),
        _event("rmas.imported", None, count=3),  # not a movement
    ]
    _push(db, "A", 0, first)
    time.sleep(0.01)
    since = utc_now()
    inspected = _event(
        "item.inspected",
        "RMA-1",
        line_no=1,
        unit_no=1,
        sku="SKU-1",
        category="kitchen",
        serial="SN9",
        final="discounted",
        suggested="resellable",
        override={"reason": "scuffed", "note": ""},
        answers=[{"item": "scratches", "failed": True}, {"item": "power", "failed": False}],
        checklist={"id": "kitchen", "hash": "abc"},
        photos=[{"item": "scratches", "sha256": "f" * 64}],
    )
    _push(db, "A", 2, [inspected, _event("parcel.unexpected", None, scanned="YT9")])

    every = server("export", "movements", "--db", storage.url)
    assert every.exit_code == 0, every.stderr
    rows = list(csv.DictReader(io.StringIO(every.stdout)))
    assert [(r["type"], r["kind"]) for r in rows] == [
        ("rma.received", "receipt"),
        ("item.inspected", "inspection"),
        ("parcel.unexpected", "receipt"),
    ]
    assert rows[0]["event_id"] == first[0]["id"] and rows[0]["scanned"] == "SF100"

    later = server("export", "movements", "--since", since, "--db", storage.url)
    assert [r["event_id"] for r in csv.DictReader(io.StringIO(later.stdout))] == [
        rows[1]["event_id"],
        rows[2]["event_id"],
    ]

    out = tmp_path / "inspections.json"
    done = server(
        "export", "inspections", "--since", since[:10], "--format", "json", "-o", str(out), "--db", storage.url
    )
    assert done.exit_code == 0, done.stderr
    [item] = json.loads(out.read_text(encoding="utf-8"))
    assert item["event_id"] == inspected["id"] and item["final"] == "discounted" and item["suggested"] == "resellable"
    assert item["override_reason"] == "scuffed" and item["failed_items"] == "scratches"
    assert item["photos"] == "f" * 64 and item["serial"] == "SN9" and item["checklist_hash"] == "abc"
    assert (
        json.loads(
            server("export", "inspections", "--since", "2999-01-01", "--format", "json", "--db", storage.url).stdout
        )
        == []
    )


def test_export_refuses_a_since_that_is_no_time(sqlite_storage):
    done = server("export", "inspections", "--since", "yesterday", "--db", sqlite_storage.url)
    assert done.exit_code == 1 and done.stderr.count("\n") == 1 and "--since" in done.stderr
