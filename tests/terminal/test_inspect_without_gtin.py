"""A line without a GTIN can be inspected: by its SKU barcode, or picked by hand (issue 15, case 5)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qc_checklists import standard_folder
from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.screens.inspect_dialogs import PickLine
from tests.terminal.test_inspect_screen import Bench, open_bench

ALL_PASS_GENERAL = ("p", "p", "p", "p", "1", "p", "p")  # the standard 'general' checklist, every check passed


@pytest.fixture
def settings(tmp_path):
    """An RMA imported with `rma import` whose two lines have no GTIN, received at the dock."""
    db = tmp_path / "station.db"
    csv = tmp_path / "rmas.csv"
    csv.write_text(
        "rma_code,customer_name,status,sku,gtin,description,qty,category\n"
        "RMA-7,Eva Costa,authorized,MAT-77,,Yoga mat,1,general\n"
        "RMA-7,Eva Costa,authorized,BAND-9,,Resistance band,1,general\n",
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "terminal", "import", "rmas", str(csv), "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        assert [ln.gtin for ln in store.get_rma("RMA-7").lines] == ["", ""]
        store.receive("RMA-7", "dock-1", "anna")
        store.add_operator("qc1", "Chloé Dubois", "inspector")
    return Settings(station="bench-9", db=str(db), sources={"db": "flag"})


async def test_a_line_without_gtin_is_inspected_by_sku_scan_and_by_picking(settings):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        bench: Bench = await open_bench(app, pilot, standard_folder())
        await bench.scan("RMA-7")
        assert bench.word == "SCAN ITEM"

        await bench.scan("MAT-7")  # only an exact SKU counts
        assert bench.word == "NOT FOUND" and bench.screen.draft is None
        await bench.scan("RMA-7")
        await bench.scan("mat-77")  # the SKU barcode on the item, any case
        assert bench.word == "INSPECT" and bench.screen.draft.line.line_no == 1
        await bench.key(*ALL_PASS_GENERAL, "enter")
        assert bench.word == "RESELLABLE"
        [by_sku] = [e.payload for e in bench.events("item.inspected")]
        assert (by_sku["line_no"], by_sku["sku"], by_sku["scanned"]) == (1, "MAT-77", "mat-77")
        assert by_sku["matched_by"] == "sku" and by_sku["picked_by_hand"] is False

        # the band's label is gone: the inspector picks its line by number
        await bench.key("f4")
        assert isinstance(app.screen, PickLine)
        assert [o.id for o in app.screen.query_one("OptionList")._options] == ["2"]  # line 1 is done
        await bench.key("2")
        assert bench.word == "INSPECT" and bench.screen.draft.line.line_no == 2
        await bench.key(*ALL_PASS_GENERAL, "enter")
        assert bench.word == "RESELLABLE" and "RMA-7 is fully inspected" in bench.text("#banner")
        by_hand = bench.events("item.inspected")[-1].payload
        assert (by_hand["line_no"], by_hand["sku"], by_hand["scanned"]) == (2, "BAND-9", "")
        assert by_hand["matched_by"] == "hand" and by_hand["picked_by_hand"] is True
        assert bench.events()[-1].type == "rma.inspected"
    with Store(settings.db_path) as store:
        assert store.get_rma("RMA-7").stage == "inspected"
