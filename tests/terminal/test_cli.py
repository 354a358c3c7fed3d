"""The `rma` command line, run as a real process against real database files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sync.store import Store

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"


@pytest.fixture
def rma(tmp_path):
    """Run `rma ARGS...` in a clean environment (its own XDG folders); returns the CompletedProcess."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)

    def run(*args: str, check_code: int | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )
        assert "Traceback" not in done.stderr, done.stderr
        if check_code is not None:
            assert done.returncode == check_code, (done.stdout, done.stderr)
        return done

    return run


def test_help_lists_the_subcommands(rma):
    out = rma("--help", check_code=0).stdout
    for command in ("station", "demo", "import", "receive", "config"):
        assert command in out


def test_import_csv_then_receive(rma, tmp_path):
    csv = tmp_path / "rmas.csv"
    csv.write_text(
        HEADER + "RMA-100,SO-1,Eva Jensen,1Z999AA10123456784,wrong size,authorized,"
        "APP-1,4006381333931,Jacket,1,apparel\n"
        "RMA-100,SO-1,Eva Jensen,,wrong size,authorized,APP-2,,Beanie,2,apparel\n"
        "RMA-101,SO-2,Luca Rossi,,defective,cancelled,ELC-1,,Earbuds,1,consumer_electronics\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "s.db")
    out = rma("import", "rmas", str(csv), "--db", db, check_code=0).stdout
    assert "imported 2 RMAs (3 lines)" in out
    with Store(db) as store:
        assert [ln.sku for ln in store.get_rma("RMA-100").lines] == ["APP-1", "APP-2"]
        assert store.get_rma("RMA-100").tracking_numbers == ("1Z999AA10123456784",)

    done = rma(
        "receive",
        "rma-100",
        "RMA-100",
        "RMA-101",
        "1Z999AA10123456784",
        "5901234123457",
        "UNKNOWN-1",
        "--db",
        db,
        "--station",
        "conveyor-1",
        "--operator",
        "ben",
        check_code=1,
    )
    words = [line.split(" ")[0] for line in done.stdout.splitlines()]
    assert done.stdout.splitlines()[0].startswith("RECEIVED RMA-100")
    assert done.stdout.splitlines()[1].startswith("ALREADY RECEIVED")
    assert words[2] == "CANCELLED"
    assert done.stdout.splitlines()[3].startswith("ALREADY RECEIVED")  # the tracking number of RMA-100
    assert done.stdout.splitlines()[4].startswith("NOT AN RMA")
    assert done.stdout.splitlines()[5].startswith("NOT EXPECTED")
    with Store(db) as store:
        received = [e for e in store.events() if e.type == "rma.received"]
        assert [(e.station, e.operator, e.rma_code) for e in received] == [("conveyor-1", "ben", "RMA-100")]


def test_receive_exits_zero_when_every_code_is_received(rma, tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text(HEADER + "RMA-1,,,,,authorized,S,,,1,\nRMA-2,,,,,authorized,S,,,1,\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    rma("import", "rmas", str(csv), "--db", db, check_code=0)
    out = rma("receive", "RMA-1", "RMA-2", "--db", db, check_code=0).stdout
    assert [line.split()[0] for line in out.splitlines()] == ["RECEIVED", "RECEIVED"]


def test_import_reports_bad_rows_with_line_numbers_and_loads_the_rest(rma, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        HEADER + "RMA-1,SO-1,A,,r,authorized,S1,,d,1,apparel\n"  # line 2: good
        "RMA-2,SO-2,B,,r,shipped,S2,,d,1,apparel\n"  # line 3: bad status
        "RMA-3,SO-3,C,,r,authorized,S3,,d,two,apparel\n"  # line 4: bad qty
        "RMA-4,SO-4,D,,r,authorized,S4,4006381333932,d,1,x\n"  # line 5: bad check digit
        ",SO-5,E,,r,authorized,S5,,d,1,x\n"  # line 6: no code
        "RMA-6,SO-6,F,,r,authorized,S6,,d,1,x\n"  # line 7: good line ...
        "RMA-6,SO-6,F,,r,authorized,,,d,1,x\n",  # line 8: ... bad line of the same RMA
        encoding="utf-8",
    )
    db = str(tmp_path / "s.db")
    done = rma("import", "rmas", str(csv), "--db", db, check_code=1)
    err = done.stderr
    assert f"{csv}:3: status 'shipped'" in err
    assert f"{csv}:4: qty 'two' is not a whole number" in err
    assert f"{csv}:5: gtin '4006381333932' is not a valid GTIN" in err
    assert f"{csv}:6: rma_code is empty" in err
    assert f"{csv}:8: sku is empty" in err
    assert "imported 1 RMA " in done.stdout
    with Store(db) as store:
        assert store.get_rma("RMA-1") is not None
        assert store.get_rma("RMA-6") is None  # never half an RMA


def test_import_json_with_nested_lines(rma, tmp_path):
    data = [
        {
            "rma_code": "RMA-J1",
            "customer_name": "Rosa Costa",
            "status": "authorized",
            "tracking_number": ["123456789012", "999988887777"],
            "lines": [
                {"sku": "FTW-1", "qty": 1, "category": "footwear"},
                {"sku": "FTW-2", "qty": 1, "category": "footwear"},
            ],
        },
        {"rma_code": "RMA-J2", "status": "expired", "lines": []},
    ]
    path = tmp_path / "rmas.json"
    path.write_text("[\n" + ",\n".join(json.dumps(rma_) for rma_ in data) + "\n]\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    done = rma("import", "rmas", str(path), "--db", db, check_code=1)
    assert f"{path}:3: lines must be a non-empty list" in done.stderr  # the line the second RMA starts on
    with Store(db) as store:
        assert len(store.get_rma("RMA-J1").lines) == 2
        assert store.find_rma("999988887777")[0].code == "RMA-J1"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xff\x00garbage", "not UTF-8 (byte 0, line 1), not GB18030 (byte 0, line 1)"),
        (b"name,age\nx,1\n", "header lacks column(s) rma_code, status, sku, qty"),
        (b'[{"rma_code": ', "not valid JSON"),
    ],
)
def test_unreadable_import_files_give_one_line(rma, tmp_path, content, message):
    path = tmp_path / ("f.json" if content.startswith(b"[") else "f.csv")
    path.write_bytes(content)
    done = rma("import", "rmas", str(path), "--db", str(tmp_path / "s.db"), check_code=1)
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_database_folder_is_one_line(rma, tmp_path):
    done = rma("receive", "RMA-1", "--db", str(tmp_path / "no" / "such" / "s.db"), check_code=1)
    assert done.stderr.strip().endswith("does not exist; create it or pass another --db")


def test_receive_rejects_garbage_and_control_characters(rma, tmp_path):
    db = str(tmp_path / "s.db")
    done = rma("receive", "x" * 10_000, "\x01\x02\x03", "--db", db, check_code=1)
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["NOT", "NOT"]
    assert "nothing recorded" in done.stdout
    with Store(db) as store:
        assert store.events() == []


def test_config_shows_values_and_where_they_came_from(rma, tmp_path):
    cfg = tmp_path / "station.toml"
    cfg.write_text('station = "bench-7"\nprinter = "tcp://127.0.0.1:9100"\nserver_token = "s3cr3t-token"\n')
    out = rma("--config", str(cfg), "config", "--db", str(tmp_path / "x.db"), check_code=0).stdout
    assert "bench-7" in out and f"(file {cfg})" in out
    assert "(flag)" in out.splitlines()[2]  # db, given as a flag
    assert "s3cr3t-token" not in out
    # people put --config after the subcommand too
    assert "bench-7" in rma("config", "--config", str(cfg), check_code=0).stdout
    # the environment variable moves the file too
    env_out = subprocess.run(
        [sys.executable, "-m", "terminal", "config"],
        capture_output=True,
        text=True,
        env={**os.environ, "RMA_STATION_CONFIG": str(cfg)},
    ).stdout
    assert "bench-7" in env_out and "RMA_STATION_CONFIG" in env_out


def test_broken_config_file_is_one_line(rma, tmp_path):
    cfg = tmp_path / "station.toml"
    cfg.write_text('station = "unterminated\n')
    done = rma("--config", str(cfg), "config", check_code=1)
    assert "not valid TOML" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    cfg.write_text('statoin = "typo"\n')
    assert "unknown setting 'statoin'" in rma("--config", str(cfg), "config", check_code=1).stderr


def test_demo_creates_realistic_rmas(rma, tmp_path):
    db = tmp_path / "demo.db"
    rma("demo", "--db", str(db), "--no-station", check_code=0)
    with Store(db) as store:
        statuses = dict(store.conn.execute("SELECT status, count(*) FROM rmas GROUP BY status").fetchall())
        categories = {r[0] for r in store.conn.execute("SELECT DISTINCT category FROM rma_lines")}
        reasons = {r[0] for r in store.conn.execute("SELECT DISTINCT reason FROM rmas")}
    assert sum(statuses.values()) == 200
    assert statuses.get("cancelled") and statuses.get("expired")
    assert len(categories) >= 4 and len(reasons) >= 5
