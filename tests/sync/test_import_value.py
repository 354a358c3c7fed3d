"""The optional value column of an import: the unit value routing rules' thresholds read."""

from __future__ import annotations

from sync.imports import read_rma_file
from sync.store import Store

CSV = (
    "rma_code,status,sku,qty,category,value\n"
    "RMA-1,authorized,ELC-2,1,consumer_electronics,129.90\n"
    "RMA-1,authorized,ELC-3,1,consumer_electronics,\n"
    "RMA-2,authorized,APP-1,1,apparel,cheap\n"
)


def test_a_value_is_kept_per_line_and_an_empty_one_is_unknown(tmp_path):
    parsed = read_rma_file(text=CSV, kind="csv", name="rmas.csv")
    [rma] = parsed.rmas
    with Store(tmp_path / "station.db") as store:
        with store.write() as conn:
            store.upsert_rma(conn, rma.rma, rma.lines, rma.tracking)
        assert [ln.value for ln in store.get_rma("RMA-1").lines] == [129.9, None]


def test_a_value_that_is_not_a_number_refuses_its_rma_with_the_line():
    parsed = read_rma_file(text=CSV, kind="csv", name="rmas.csv")
    assert [r.rma["rma_code"] for r in parsed.rmas] == ["RMA-1"]
    assert any("4" in str(e) and "value 'cheap' is not a number" in str(e) for e in parsed.errors), parsed.errors


def test_a_file_without_the_column_still_imports():
    parsed = read_rma_file(text="rma_code,status,sku,qty\nRMA-3,authorized,S,1\n", kind="csv")
    assert parsed.rmas[0].lines[0]["value"] is None
