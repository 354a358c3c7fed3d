"""Import files of expected returns: whole RMAs or none, one line per problem, bounded memory."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"
HOSTILE = "\u009b31m\u202eevil\u200b\u200d\ufeff\x07\x1b[2J\u2028x\x85y\u00a0z\tq"


def run(tmp_path, *args: str):
    """`rma ARGS...` in this process, with a config file of our own."""
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def no_controls(text: str) -> bool:
    return text.isprintable()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_control_and_invisible_characters_never_reach_the_database(tmp_path, kind):
    path = tmp_path / f"rmas.{kind}"
    if kind == "csv":
        path.write_text(HEADER + f'"RMA\u200b-7","SO-7","{HOSTILE}",,"{HOSTILE}",authorized,"SKU\u202e-1",,'
                                 f'"{HOSTILE}",1,apparel\n', encoding="utf-8")
    else:
        path.write_text(json.dumps([{"rma_code": "RMA\u200b-7", "order_ref": "SO-7", "customer_name": HOSTILE,
                                     "reason": HOSTILE, "status": "authorized",
                                     "lines": [{"sku": "SKU\u202e-1", "description": HOSTILE, "qty": 1}]}]),
                        encoding="utf-8")
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    with Store(db) as store:
        rma_ = store.get_rma("RMA-7")  # the zero-width space is gone: the plain scan finds it
        assert rma_ is not None
        assert rma_.customer_name == "31mevil[2J x y z q"
        assert all(no_controls(v) for v in (rma_.customer_name, rma_.reason, rma_.lines[0].sku,
                                            rma_.lines[0].description))
        assert rma_.lines[0].sku == "SKU-1"
    received = run(tmp_path, "receive", "RMA-7", "--db", str(db), "--station", "b", "--operator", "anna")
    assert received.exit_code == 0 and received.stdout.isprintable() is False  # (its newline)
    assert all(line.isprintable() for line in received.stdout.splitlines())


def test_scans_and_imports_clean_text_the_same_way():
    from sync.imports import parse_csv
    from terminal.scanning import read_scan

    code = "RMA\u009b-\u200b9\u202e"
    parsed = parse_csv(HEADER + f"{code},,,,,authorized,S,,,1,\n")
    assert parsed.rmas[0].rma["rma_code"] == read_scan(code).text.upper() == "RMA-9"
