"""`rma label container`, `rma container show|close|move|ship` and `rma count` on a real station database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync.lpn import new_lpn
from sync.store import Store
from terminal.cli import rma
from tests.helpers.units import inspected_unit, received_rma
from tests.terminal.test_label_cli import zpl_decoded


@pytest.fixture
def station(tmp_path):
    """A station database with three inspected b_stock units (their plates), a station config with no printer."""
    (tmp_path / "station.toml").write_text('station = "zone-1"\n[bins]\nOUTLET = ["b_stock", "donate"]\n')
    with Store(tmp_path / "station.db") as store:
        received_rma(store, qty=3)
        return [inspected_unit(store, "discounted", "b_stock", "B-GRADE") for _n in range(3)]


@pytest.fixture
def run(tmp_path):
    """Run `rma ARGS... --db station.db` in process; (exit code, stdout, stderr)."""

    def invoke(*args: str):
        result = CliRunner().invoke(
            rma,
            [*args, "--db", str(tmp_path / "station.db")],
            env={"RMA_STATION_CONFIG": str(tmp_path / "station.toml"), "XDG_DATA_HOME": str(tmp_path / "data")},
            catch_exceptions=False,
        )
        return result.exit_code, result.stdout, result.stderr, result.stdout_bytes

    return invoke


def events(tmp_path, prefix: str) -> list:
    with Store(tmp_path / "station.db") as store:
        return [(e.type, e.payload) for e in store.events() if e.type.startswith(prefix)]


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_tote_from_its_label_to_the_dock_and_out_of_the_building(station, run, tmp_path):
    a, b, c = station
    code, _out, err, zpl = run("label", "container", "tote-7", "--kind", "tote", "--takes", "b_stock", "--out", "-")
    assert code == 0, err
    assert zpl_decoded(zpl) == [["BIN:TOTE-7"]]
    for lpn in (a, b):
        code, out, err, _b = run("putaway", lpn, "BIN:TOTE-7")
        assert code == 0, err
    code, out, err, _b = run("container", "show", "BIN:TOTE-7")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "TOTE-7 (tote, takes B-STOCK): 2 units, open"
    assert [line.split()[0] for line in lines[1:]] == sorted([a, b]) and "ELC-2" in lines[1]
    manifest = tmp_path / "manifest.zpl"
    code, out, err, _b = run("container", "close", "TOTE-7", "--out", str(manifest))
    assert code == 0, err
    assert out.splitlines()[0] == "TOTE-7 closed with 2 units (B-STOCK 2); it takes no more. Its manifest follows."
    assert zpl_decoded(manifest.read_bytes()) == [["BIN:TOTE-7"]]
    code, out, err, _b = run("putaway", c, "TOTE-7")
    assert code == 1 and one_line(err).startswith("rma: CONTAINER CLOSED: TOTE-7 is closed (since ")
    code, out, err, _b = run("container", "move", "TOTE-7", "dock 3")
    assert (code, out.strip()) == (0, "TOTE-7 moved to DOCK 3."), err
    code, out, err, _b = run("container", "ship", "TOTE-7")
    assert code == 0, err
    assert out.strip() == "TOTE-7 shipped to DOCK 3: 2 units left the building; TOTE-7 is empty and open again."
    code, out, err, _b = run("putaway", "--where", a)
    assert code == 0 and out.strip().startswith(f"{a} left the building in TOTE-7 to DOCK 3 on "), err
    assert [t for t, _p in events(tmp_path, "container.")] == [
        "container.registered",
        "container.closed",
        "container.moved",
        "container.shipped",
    ]
    assert events(tmp_path, "container.shipped")[0][1] == {
        "container": "TOTE-7",
        "to": "DOCK 3",
        "units": sorted([a, b]),
    }


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("container", "close", "NOWHERE", "--out", "-"),
            "rma: UNKNOWN BIN: no bin or container NOWHERE at this station",
        ),
        (("container", "close", "B-GRADE", "--out", "-"), "rma: CONTAINER EMPTY: B-GRADE is empty; nothing recorded"),
        (("container", "close", "B-GRADE"), "rma: say where the manifest goes: --out PATH or --printer URL"),
        (("container", "ship", "B-GRADE", "DOCK 1"), "rma: CONTAINER OPEN: B-GRADE is open; nothing recorded"),
        (("container", "move", "B-GRADE", " "), "rma: NO DESTINATION: move B-GRADE where?"),
        (("label", "container", "TOTE-9", "--out", "-"), "rma: UNKNOWN BIN: no container TOTE-9 at this station yet"),
        (("label", "container", "TOTE-9", "--takes", "bstock", "--out", "-"), "rma: BAD CHANNEL: 'bstock' is not"),
        (("count", "B-GRADE", "5901234123457"), "rma: NOT A PLATE: 5901234123457 is not a license plate"),
        (("count", "SHELF-9"), "rma: UNKNOWN BIN: no bin or container SHELF-9 at this station"),
    ],
)
def test_each_refusal_is_one_line_exit_1_and_records_nothing(station, run, tmp_path, args, line):
    code, _out, err, _b = run(*args)
    assert code == 1 and one_line(err).startswith(line)
    assert events(tmp_path, "container.") == [] and events(tmp_path, "bin.") == []


def test_a_count_lists_the_missing_and_the_extra_units_and_is_recorded(station, run, tmp_path):
    a, b, c = station
    for lpn in (a, b):
        assert run("putaway", lpn, "B-GRADE")[0] == 0
    stranger = new_lpn()
    code, out, err, _b = run("count", "BIN:B-GRADE", a, c.lower(), stranger)
    assert code == 0, err
    assert out.splitlines() == [
        "B-GRADE counted: 3 found, 2 expected — 1 missing, 2 extra.",
        f"  missing: {b}",
        f"  extra: {c}",
        f"  extra: {stranger}",
    ]
    [(_t, payload)] = events(tmp_path, "bin.counted")
    assert payload == {
        "bin": "B-GRADE",
        "expected": sorted([a, b]),
        "found": [a, c, stranger],
        "missing": [b],
        "extra": [c, stranger],
    }
    code, out, _err, _b = run("container", "show", "B-GRADE")
    assert out.splitlines()[-1].endswith("by zone-1: 1 missing, 2 extra.")


def test_show_without_a_name_lists_every_bin_and_container(station, run):
    code, out, err, _b = run("container", "show")
    assert code == 0, err
    assert "B-GRADE (bin, takes B-STOCK): 0 units, open" in out.splitlines()
    assert "OUTLET (bin, takes B-STOCK, DONATE): 0 units, open" in out.splitlines()
