"""`rma demo --db PATH`: a demo database may be made again; a station's database is never touched."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma
from terminal.demo import create_demo_database, is_demo_database


def run(tmp_path, *args: str):
    """`rma ARGS...` in this process, with a config file of our own."""
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def station_db(tmp_path):
    """A real station database holding an import and receipts (events), closed."""
    path = tmp_path / "station.db"
    with Store(path) as store:
        with store.write() as conn:
            for n in range(1, 6):
                store.upsert_rma(
                    conn,
                    {"rma_code": f"RMA-{n}", "status": "authorized", "customer_name": "Eva"},
                    [{"sku": f"SKU-{n}", "qty": 1}],
                )
        for n in range(1, 6):
            store.receive(f"RMA-{n}", "bench-1", "anna")
        assert len(store.events()) == 5
    return path


def test_demo_refuses_a_station_database_and_leaves_it_untouched(tmp_path, station_db):
    before = digest(station_db)
    result = run(tmp_path, "demo", "--db", str(station_db), "--no-station")
    assert result.exit_code != 0
    assert "not a demo database" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert digest(station_db) == before
    with Store(station_db) as store:
        assert [e.rma_code for e in store.events()] == [f"RMA-{n}" for n in range(1, 6)]
        assert store.get_rma("RMA-1").customer_name == "Eva"


@pytest.mark.parametrize("content", [b"", b"my notes, not a database\n", b"SQLite format 3\x00" + b"\x00" * 84])
def test_demo_refuses_any_other_file(tmp_path, content):
    other = tmp_path / "other.db"
    other.write_bytes(content)
    result = run(tmp_path, "demo", "--db", str(other), "--no-station")
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert other.read_bytes() == content


def test_an_earlier_demo_database_is_made_afresh(tmp_path):
    path = tmp_path / "demo.db"
    assert run(tmp_path, "demo", "--db", str(path), "--no-station", "--rmas", "5").exit_code == 0
    assert is_demo_database(path)
    with Store(path) as store:
        store.receive("RMA-2026-000001", "demo-bench", "anna")
    again = run(tmp_path, "demo", "--db", str(path), "--no-station", "--rmas", "7")
    assert again.exit_code == 0, again.stderr
    with Store(path) as store:
        assert store.conn.execute("SELECT count(*) FROM rmas").fetchone()[0] == 7
        assert not [e for e in store.events() if e.type == "rma.received"]  # fresh demo data


def test_create_demo_database_refuses_a_station_database_too(station_db):
    from terminal.demo import NotADemoDatabase

    before = digest(station_db)
    with pytest.raises(NotADemoDatabase):
        create_demo_database(station_db, 3)
    assert digest(station_db) == before
