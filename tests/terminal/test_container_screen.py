"""The put-away screen at 80×24: a count (F4) lists missing and extra units; sort mode (F5) says each unit's bin."""

from __future__ import annotations

import pytest

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from sync.lpn import new_lpn
from sync.store import Store
from terminal.app import make_app
from terminal.screens.putaway import PutAwayScreen
from tests.conftest import wait_until
from tests.helpers.units import inspected_unit, received_rma
from tests.terminal.test_putaway_screen import banner, rung, scan, screen

BINS = bin_table(load_routing())


@pytest.fixture
def plates(db_path):
    """Three inspected b_stock units; the first two put away in B-GRADE; operator pat registered."""
    with Store(db_path) as store:
        received_rma(store, qty=3)
        store.add_operator("pat", "Pat Lee", "clerk")
        units = [inspected_unit(store, "discounted", "b_stock", "B-GRADE") for _n in range(3)]
        for lpn in units[:2]:
            store.put_away(lpn, "B-GRADE", "zone-1", "li", bins=BINS)
        return units


def recent(app) -> str:
    return str(screen(app).query_one("#recent").render())


async def put_away_screen(pilot) -> None:
    await pilot.press("f12")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PutAwayScreen))


async def test_a_count_lists_the_missing_and_extra_units_and_records_it(settings, plates, db_path):
    a, b, c = plates
    stranger = new_lpn()
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await put_away_screen(pilot)
        footer = app.screen.query_one("Footer")
        shown = {k.key for k in footer.query("FooterKey") if k.region.width and k.region.right <= 80}
        assert {"f4", "f5"} <= shown  # the keys are on screen at 80 columns
        rings = rung(app)
        await pilot.press("f4")
        assert banner(app)[0] == "COUNT"
        await scan(pilot, "BIN:B-GRADE")
        assert banner(app)[0] == "COUNT" and "the station has 2 units in it" in banner(app)[1]
        for plate in (a, c, stranger, a):
            await scan(pilot, plate)
        assert "3 units found in B-GRADE so far" in banner(app)[1]
        n = screen(app).handled
        await pilot.press("f4")
        await wait_until(pilot, lambda: screen(app).handled > n)
        word, text = banner(app)
        assert word == "COUNTED" and "B-GRADE counted: 3 found, 2 expected — 1 missing, 2 extra." in text
        assert f"missing: {b}" in recent(app) and f"extra: {c}" in recent(app) and f"extra: {stranger}" in recent(app)
        assert rings[-1] is True  # a count that found a difference rings the problem bell
    with Store(db_path) as store:
        [count] = [e.payload for e in store.events() if e.type == "bin.counted"]
        assert store.place_of(b).bin == "B-GRADE"  # the count moved nothing
    assert (count["bin"], count["missing"], count["extra"]) == ("B-GRADE", [b], [c, stranger])


async def test_esc_stops_a_count_and_nothing_is_recorded(settings, plates, db_path):
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await put_away_screen(pilot)
        await pilot.press("f4")
        await scan(pilot, "BIN:B-GRADE")
        await scan(pilot, plates[0])
        await pilot.press("escape")
        assert banner(app)[0] == "SCAN" and "Count of B-GRADE stopped; nothing recorded." in banner(app)[1]
        await scan(pilot, plates[2])  # put-away as before
        assert banner(app)[0] == "TO BIN"
    with Store(db_path) as store:
        assert [e for e in store.events() if e.type == "bin.counted"] == []


async def test_sort_mode_says_each_units_open_bin_or_that_it_is_there(settings, plates, db_path):
    a, _b, c = plates
    with Store(db_path) as store:
        store.register_container("GAYLORD-2", "gaylord", ["b_stock"], "zone-1", "li", bins=BINS)
        store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await put_away_screen(pilot)
        await pilot.press("f5")
        assert banner(app)[0] == "SORT"
        await scan(pilot, a)
        word, text = banner(app)
        assert word == "ALREADY IN BIN" and f"{a} is in B-GRADE already: leave it there." in text
        await scan(pilot, c)
        word, text = banner(app)
        assert word == "→ GAYLORD-2" and f"{c} (Earbuds) goes to GAYLORD-2" in text  # not the closed B-GRADE
        await scan(pilot, "BIN:GAYLORD-2")
        assert banner(app)[0] == "PUT AWAY"
    with Store(db_path) as store:
        assert store.place_of(c).bin == "GAYLORD-2"


async def test_a_bin_scanned_with_no_unit_in_hand_shows_what_is_in_it(settings, plates):
    a, b, _c = plates
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await put_away_screen(pilot)
        await scan(pilot, "BIN:B-GRADE")
        assert "B-GRADE (bin, takes B-STOCK): 2 units, open" in banner(app)[1]
        assert a in recent(app) and b in recent(app)


async def test_a_unit_into_a_closed_container_is_refused_with_the_bell(settings, plates, db_path):
    c = plates[2]
    with Store(db_path) as store:
        store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await put_away_screen(pilot)
        rings = rung(app)
        await scan(pilot, c)
        await scan(pilot, "BIN:B-GRADE")
        word, text = banner(app)
        assert word == "CONTAINER CLOSED" and "B-GRADE is closed (since" in text
        assert rings == [False, True]
    with Store(db_path) as store:
        assert store.place_of(c) is None
