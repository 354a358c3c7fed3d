"""The backlog names each RMA's priority and puts what is due first at the top (issue 12 part 1, priorities): an
express RMA due sooner comes before an older standard one, and the F11 screen shows the priority at 80×24."""

from __future__ import annotations

from textual.widgets import DataTable

from sync.sla import DEFAULT_LIMITS, Limit, Policy, policy_to_wire
from sync.store import Store
from terminal.app import make_app
from terminal.backlog import station_backlog
from terminal.screens.backlog import BacklogScreen
from terminal.widgets.status_bar import StatusBar
from tests.conftest import wait_until
from tests.helpers.units import inspected_unit, received_rma
from tests.terminal.test_backlog import aged

HOSTILE_PRIORITY = "[b]x[/b]"  # a priority the import would refuse, as if it reached the station anyway


def received(store: Store, code: str, priority: str = "") -> None:
    """One expected RMA (of this priority, when given) received at the bench."""
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {
                "rma_code": code,
                "status": "authorized",
                "reason": "wrong size",
                **({"priority": priority} if priority else {}),
            },
            [{"sku": "GEN-7", "gtin": "4006381333931", "description": "Yoga mat", "qty": 1, "category": "general"}],
        )
    store.receive(code, "bench-t", "anna")


def make_priority_backlog(db_path, *extra: tuple[str, str]) -> None:
    """The server's limits (express: inspect within 4 h), RMA-STD received 10 h ago and RMA-EXP, express, 5 h ago."""
    with Store(db_path) as store:
        policy = Policy(dict(DEFAULT_LIMITS), priorities={"express": {"inspect": Limit(4, "hours")}}, source="sla.yaml")
        with store.write() as conn:
            store.keep_sla_policy(conn, policy_to_wire(policy))  # as the sync worker keeps what the server sent
        received(store, "RMA-STD")
        received(store, "RMA-EXP", "express")
        for code, priority in extra:
            received(store, code, priority)
    aged(db_path, "rmas", "received_at", "code", "RMA-STD", 10)  # due in 14 h by the 24 h default
    aged(db_path, "rmas", "received_at", "code", "RMA-EXP", 5)  # due 1 h ago by express's 4 h
    for n, (code, _priority) in enumerate(extra):
        aged(db_path, "rmas", "received_at", "code", code, 1 + n / 10)  # due in about 23 h


def test_the_backlog_names_the_priority_and_puts_an_express_rma_due_sooner_before_an_older_standard_one(db_path):
    make_priority_backlog(db_path)
    with Store(db_path) as store:
        backlog = station_backlog(store)
    assert [(w.code, w.priority, w.state) for w in backlog] == [
        ("RMA-EXP", "express", "overdue"),  # younger, but its 4 h passed
        ("RMA-STD", "standard", "on_time"),  # older, due in 14 h
    ]
    assert backlog[0].due_at < backlog[1].due_at and backlog[0].started_at > backlog[1].started_at


def table_lines(table: DataTable) -> list[str]:
    """What the table draws, line by line, as plain text."""
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(table.region.height)]


async def test_f11_at_80x24_shows_the_priority_column_and_a_priority_is_never_markup(db_path, settings):
    make_priority_backlog(db_path, ("RMA-ODD", HOSTILE_PRIORITY))
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "1 overdue" in bar.text(80).plain)  # the header counts the express one
        await wait_until(
            pilot, lambda: "F11" in " ".join(str(k.key_display or k.key) for k in app.screen.query("FooterKey")).upper()
        )
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, BacklogScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        await pilot.pause()
        headers = [str(column.label) for column in table.ordered_columns]
        assert "priority" in headers
        at = headers.index("priority")
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(3)]
        assert [row[1] for row in rows] == ["RMA-EXP", "RMA-STD", "RMA-ODD"]  # due soonest first
        assert rows[0][at] == "express" and rows[2][at] == HOSTILE_PRIORITY
        assert "standard" not in rows[1][at]  # the usual case stays quiet
        assert table.virtual_size.width <= table.region.width <= 80  # every column shown, no sideways scrolling
        drawn = table_lines(table)
        assert "priority" in drawn[0]
        assert "RMA-EXP" in drawn[1] and "express" in drawn[1] and "overdue" in drawn[1]
        assert "RMA-ODD" in drawn[3] and HOSTILE_PRIORITY in drawn[3]  # drawn as written, not as a bold "x"


async def test_a_full_backlog_of_long_skus_and_plates_still_fits_80_columns_beside_its_scrollbar(db_path, settings):
    """More rows than the screen holds (a scrollbar), plates, 12-letter SKUs, "due soon", ages in minutes: the SKU
    gives way (cut with …), every other column is whole and nothing scrolls sideways."""
    with Store(db_path) as store:
        with store.write() as conn:
            for n in range(24):
                store.upsert_rma(
                    conn,
                    {"rma_code": f"RMA-2026-{n:06d}", "status": "authorized", **({"priority": "express"} if n else {})},
                    [{"sku": "ABCDEFGHIJKL", "gtin": "4006381333931", "qty": 1, "category": "general"}],
                )
        for n in range(24):
            store.receive(f"RMA-2026-{n:06d}", "bench-t", "anna")
        received_rma(store)
        plate = inspected_unit(store, "resellable", "restock", "RESTOCK")
    aged(db_path, "rmas", "received_at", "code", "RMA-2026-000000", 20)  # due soon: 4 h of its 24 h left
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, BacklogScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 26)
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width < table.region.width <= 80
        drawn = table_lines(table)
        assert any(plate in line for line in drawn) and any("due soon" in line for line in drawn)
        assert any("express" in line and "ABCDEFG…" in line for line in drawn)
        assert not any("ABCDEFGHIJKL" in line for line in drawn)  # the SKU gave way, not another column


def test_the_demo_has_express_rmas_and_limits_for_them_so_its_backlog_shows_one_first(tmp_path):
    from terminal.demo import CAMERA_RMA, create_demo_database

    path = create_demo_database(tmp_path / "demo.db", 5)
    with Store(path) as store:
        store.receive("RMA-2026-000001", "demo-bench", "anna")  # what the README says to type first
        store.receive(CAMERA_RMA, "demo-bench", "anna")  # what the demo's camera receives a few seconds later
        backlog = station_backlog(store)
    assert [(w.code, w.priority) for w in backlog] == [(CAMERA_RMA, "express"), ("RMA-2026-000001", "standard")]
