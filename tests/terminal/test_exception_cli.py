"""`rma exception ...` and `rma receive` for the exceptions, headless, on a real database file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma
from tests.conftest import add_rma


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "station.db"
    with Store(path) as store:
        add_rma(store, "RMA-5", tracking=("SF1023574470215", "SF1023574470223"))
        add_rma(
            store,
            "RMA-6",
            lines=[
                {"sku": "GEN-1", "qty": 3, "category": "general"},
                {"sku": "GEN-2", "qty": 1, "category": "general"},
            ],
        )
        store.receive("RMA-6", "dock-1", "anna")
        store.add_operator("sue", role="supervisor")
        store.add_operator("ben")
    return path


def run(tmp_path, db, *args: str):
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(
        rma, [*args, "--db", str(db)], env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False
    )


def last(db) -> tuple[str, str | None, dict]:
    with Store(db) as store:
        event = store.events()[-1]
    return event.type, event.rma_code, event.payload


def test_rma_receive_tells_a_second_parcel_by_its_tracking_number_and_exits_0(tmp_path, db):
    first = run(tmp_path, db, "receive", "SF1023574470215")
    second = run(tmp_path, db, "receive", "SF1023574470223")
    again = run(tmp_path, db, "receive", "SF1023574470223")
    assert (first.exit_code, second.exit_code, again.exit_code) == (0, 0, 1)
    assert second.output.startswith("SECOND PARCEL RMA-5") and "parcel 2" in second.output
    assert again.output.startswith("ALREADY RECEIVED")
    declared = run(tmp_path, db, "exception", "parcel", "RMA-5", "--operator", "ben")
    assert declared.exit_code == 0 and declared.output.startswith("SECOND PARCEL Parcel 3 of RMA-5")
    assert last(db)[2]["how"] == "clerk"


def test_not_received_closes_units_and_refuses_more_than_are_open(tmp_path, db):
    done = run(tmp_path, db, "exception", "missing", "RMA-6", "1", "--units", "2")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "Line 1 of RMA-6: 2 units of GEN-1 closed as not received."
    assert last(db) == (
        "line.not_received",
        "RMA-6",
        {"rma_code": "RMA-6", "line_no": 1, "sku": "GEN-1", "units": 2, "quantity": 2, "expected": 3},
    )
    refused = run(tmp_path, db, "exception", "missing", "RMA-6", "1", "--units", "2")
    assert refused.exit_code == 1 and refused.output.startswith("rma: Line 1 of RMA-6 has 1 open unit(s)")
    assert len(refused.output.strip().splitlines()) == 1


def test_attach_and_blind_need_a_supervisor_and_are_listed(tmp_path, db):
    run(tmp_path, db, "receive", "TORN-1")
    run(tmp_path, db, "receive", "TORN-2")
    listed = run(tmp_path, db, "exception", "parcels").output.splitlines()
    assert [line.split()[1] for line in listed] == ["TORN-2", "TORN-1"]
    refused = run(tmp_path, db, "exception", "attach", "TORN-1", "RMA-5", "--operator", "ben")
    assert refused.exit_code == 1 and "not a supervisor" in refused.output
    attached = run(tmp_path, db, "exception", "attach", "TORN-1", "RMA-5", "--operator", "ben", "--approved-by", "sue")
    assert attached.exit_code == 0, attached.output
    assert "attached to RMA-5, which is received by it. Approved by sue." in attached.output
    blind = run(tmp_path, db, "exception", "blind", "TORN-2", "--line", "SHOE-9:2:footwear", "--operator", "sue")
    assert blind.exit_code == 0 and blind.output.startswith("Blind RMA BLIND-")
    kind, code, payload = last(db)
    assert kind == "rma.blind_created" and code.startswith("BLIND-") and payload["lines"][0]["quantity"] == 2
    assert run(tmp_path, db, "exception", "parcels").output.strip() == "no unexpected parcel is waiting"
    assert len(run(tmp_path, db, "exception", "parcels", "--all").output.splitlines()) == 2


def test_an_undeclared_item_with_a_photo_is_put_away_in_the_exceptions_bin(tmp_path, db):
    photo = tmp_path / "cap.png"
    photo.write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"\0" * 40)
    done = run(
        tmp_path, db, "exception", "undeclared", "RMA-6", "4012345678901", "--note", "cap", "--photo", str(photo)
    )
    assert done.exit_code == 0, done.output
    _kind, _code, payload = last(db)
    assert payload["photos"][0]["sha256"] and (tmp_path / "photos").is_dir()
    lpn = payload["lpn"]
    wrong = run(tmp_path, db, "putaway", lpn, "RESTOCK")
    assert wrong.exit_code == 1 and "WRONG BIN" in wrong.output
    put = run(tmp_path, db, "putaway", lpn, "BIN:EXCEPTIONS")
    assert put.exit_code == 0 and put.output.startswith(f"{lpn} put away in EXCEPTIONS (EXCEPTIONS, RMA-6 line 0")
