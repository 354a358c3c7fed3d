"""`rma putaway LPN BIN` and `rma putaway --where LPN`, run as a real process on a real database file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sync.lpn import new_lpn
from sync.store import Store
from tests.helpers.units import inspected_unit, received_rma


@pytest.fixture
def units(tmp_path):
    """A database with two inspected units: (restock plate, b_stock plate)."""
    with Store(tmp_path / "station.db") as store:
        received_rma(store)
        return inspected_unit(store, "resellable", "restock", "RESTOCK"), inspected_unit(
            store, "discounted", "b_stock", "B-GRADE"
        )


@pytest.fixture
def rma(tmp_path):
    """Run `rma ARGS... --db station.db --station zone-1` in a clean environment."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "terminal", *args, "--db", str(tmp_path / "station.db"), "--station", "zone-1"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


def put_events(tmp_path) -> list:
    with Store(tmp_path / "station.db") as store:
        return [e for e in store.events() if e.type == "unit.put_away"]


def test_putaway_records_the_unit_in_its_bin_and_where_says_so(rma, units, tmp_path):
    restock, _b_stock = units
    done = rma("putaway", restock.lower(), "BIN:restock")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"{restock} put away in RESTOCK")
    assert [(e.payload["lpn"], e.payload["bin"], e.station) for e in put_events(tmp_path)] == [
        (restock, "RESTOCK", "zone-1")
    ]
    where = rma("putaway", "--where", restock)
    assert where.returncode == 0 and f"{restock} (Earbuds, RESTOCK) is in RESTOCK since" in where.stdout


def test_where_of_a_unit_not_put_away_names_its_bin(rma, units):
    _restock, b_stock = units
    where = rma("putaway", "--where", b_stock)
    assert where.returncode == 0 and "is not put away yet; it goes to B-GRADE" in where.stdout


@pytest.mark.parametrize(
    ("which", "bin", "says"),
    [
        ("restock", "B-GRADE", "rma: WRONG BIN: Bin B-GRADE takes b_stock, not restock: put {lpn} in RESTOCK"),
        ("restock", "SHELF-9", "rma: UNKNOWN BIN: No bin SHELF-9 at this station"),
        ("garbled", "RESTOCK", "rma: NOT A PLATE: LP12345 is not a license plate"),
        ("stranger", "RESTOCK", "rma: NOT INSPECTED: {lpn} is on no unit inspected at this station"),
    ],
)
def test_a_refusal_is_one_line_exit_1_and_nothing_recorded(rma, units, tmp_path, which, bin, says):
    lpn = {"restock": units[0], "garbled": "LP12345", "stranger": new_lpn()}[which]
    done = rma("putaway", lpn, bin)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(says.format(lpn=lpn))
    assert put_events(tmp_path) == []


def test_a_unit_already_in_the_bin_is_said_once_and_not_recorded_again(rma, units, tmp_path):
    restock, _ = units
    assert rma("putaway", restock, "RESTOCK").returncode == 0
    again = rma("putaway", restock, "RESTOCK")
    assert again.returncode == 1 and again.stderr.startswith(f"rma: ALREADY IN BIN: {restock} is in RESTOCK already")
    assert len(put_events(tmp_path)) == 1


def test_a_move_to_a_station_bin_is_a_second_event(rma, units, tmp_path):
    _, b_stock = units
    (tmp_path / "station.toml").write_text('[bins]\nB-GRADE-2 = ["b_stock"]\n')
    assert rma("putaway", b_stock, "B-GRADE").returncode == 0
    moved = rma("--config", str(tmp_path / "station.toml"), "putaway", b_stock, "b-grade-2")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith(f"{b_stock} moved from B-GRADE to B-GRADE-2")
    assert [(e.payload["bin"], e.payload["from"]) for e in put_events(tmp_path)] == [
        ("B-GRADE", None),
        ("B-GRADE-2", "B-GRADE"),
    ]


def test_a_bin_is_needed_unless_where_is_asked(rma, units):
    done = rma("putaway", units[0])
    assert done.returncode == 2 and done.stderr.startswith("rma: which bin?")
