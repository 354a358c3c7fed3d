"""The station at the sizes floor terminals have: 80×24 and 120×36 (issue 15, case 9).

The header keeps what needs someone to act on screen at any width; the rest
is abbreviated, cut with an ellipsis or left out, least important first.
Plain assertions on the rendered text here; pictures in test_screen_snapshots.py.
"""

from __future__ import annotations

import shutil
import time

import pytest
from textual.geometry import Region

from qc_checklists import standard_folder
from sync.store import Inspection, Store
from terminal.app import make_app
from terminal.messages import SyncStatus
from terminal.screens.inspect import InspectScreen
from terminal.widgets.status_bar import Header, StatusBar, SyncState, fit
from tests.conftest import add_rma, scanner_burst, wait_until

GADGET_GTIN = "5901234123457"
GADGETS = "checklist: gadgets\nitems:\n" + "".join(
    f"  - id: check_{n}\n    kind: pass_fail\n    severity: minor\n    prompt: Check number {n}\n" for n in range(1, 9)
)


def shown(widget) -> str:
    """The text a widget puts on the terminal, line by line."""
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def raise_alarms(app, offline_minutes: int = 25) -> None:
    """What a bad morning looks like: printer out of paper, sync down for long, a conflict, the disk full."""
    app.header.show_part("printer", "PRINTER NOT READY: paper out · 2 waiting")
    app.on_sync_status(
        SyncStatus(False, 7, "09:12:01", "server unreachable: connection refused (10.0.0.5:8080)", conflicts=1)
    )
    app.header.offline_since = time.monotonic() - offline_minutes * 60
    app.header.show_part("disk", "DISK FULL: 3 scans waiting, nothing lost")


@pytest.fixture
def station(tmp_path, db_path):
    with Store(db_path) as store:
        add_rma(
            store,
            "RMA-2026-000001",
            customer="Karin Larsen",
            lines=[{"sku": "GAD-1", "gtin": GADGET_GTIN, "description": "Gadget", "qty": 1, "category": "gadgets"}],
        )
        store.receive("RMA-2026-000001", "bench-t", "anna")
        store.add_operator("anna", "Anna Schmidt", "supervisor")
        for n, final in enumerate(["resellable", "discounted", "scrapped"], 1):  # today's dispositions
            add_rma(store, f"RMA-2026-00001{n}", lines=[{"sku": "S", "gtin": "", "qty": 1, "category": "general"}])
            store.receive(f"RMA-2026-00001{n}", "bench-t", "anna")
            store.save_inspection(
                Inspection(
                    rma_code=f"RMA-2026-00001{n}",
                    line_no=1,
                    checklist_id="general",
                    checklist_hash="ab" * 32,
                    answers=(
                        {"item": "damage", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None},
                    ),
                    suggested=final,
                    final=final,
                    started_at="2026-11-21T10:00:00.000+00:00",
                ),
                "bench-t",
                "qc1",
            )
    folder = tmp_path / "checklists"
    shutil.copytree(standard_folder(), folder)
    (folder / "gadgets.yaml").write_text(GADGETS, encoding="utf-8")
    return folder


@pytest.mark.parametrize("screen_name", ["receive", "inspect"])
async def test_states_that_need_action_are_in_the_header_at_80_columns(settings, station, screen_name):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        if screen_name == "inspect":
            await pilot.press("f7")
            await wait_until(pilot, lambda: isinstance(app.screen, InspectScreen))
        raise_alarms(app)
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "resellable" in bar.counts)
        await pilot.pause(0.1)
        line = shown(bar)
        assert "\n" not in line and len(line) <= 80
        for needed in ("PRINTER NOT READY: paper out", "1 CONFLICT", "OFFLINE 25", "DISK FULL", "anna"):
            assert needed in line, line


async def test_nobody_signed_in_shows_at_80_columns_with_every_alert(settings, station):
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        raise_alarms(app)
        await pilot.pause(0.2)
        line = shown(app.screen.query_one(StatusBar))
        for needed in ("NOT SIGNED IN", "PRINTER NOT READY", "CONFL", "OFFLINE", "DISK FULL"):
            assert needed in line, line


async def test_at_120_columns_the_dispositions_show_beside_the_alerts(settings, station):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 36)) as pilot:
        raise_alarms(app)
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "resellable" in bar.counts)
        await pilot.pause(0.1)
        line = shown(bar)
        for needed in (
            "PRINTER NOT READY: paper out",
            "1 CONFLICT",
            "OFFLINE 25 min",
            "DISK FULL",
            "res 1",
            "dsc 1",
            "scr 1",
        ):
            assert needed in line, line


async def test_without_alerts_120_columns_show_everything_in_full(settings, station):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 36)) as pilot:
        app.header.show_part("printer", "PRINTER ready")
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "resellable" in bar.counts)
        await pilot.pause(0.1)
        line = shown(bar)
        for full in (
            "STATION bench-t",
            "OPERATOR anna",
            "UNSENT",
            "resellable 1",
            "discounted 1",
            "scrapped 1",
            "PRINTER ready",
        ):
            assert full in line, line


def test_a_cut_segment_ends_in_an_ellipsis_and_a_short_outage_is_no_alarm():
    header = Header(
        station="returns-bench-north-7",
        operator="anna",
        unsent=3,
        counts={"received": 14, "unexpected": 2, "resellable": 5},
    )
    header.parts["camera"] = "CAMERA [b]live[/b]"
    header.set_sync(SyncState(False, waiting=2, last_error="server unreachable"))  # offline since just now
    line = fit(header.segments(), 40).plain
    assert "OFFLINE" not in line and len(line) <= 40  # a moment offline is the normal case: it gives way
    assert "returns-bench-north-7 │ anna" in line
    line = fit(header.segments(), 20).plain
    assert len(line) <= 20 and "returns-" in line and "…" in line  # the station's name, cut where it had to be
    header.offline_since -= 3600
    line = fit(header.segments(), 40).plain
    assert "OFFLINE 60 min" in line


async def test_the_inspect_screen_at_80x24_shows_the_whole_checklist(settings, station):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = InspectScreen(station)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.library is not None)
        scanner_burst(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: screen.rma is not None)
        scanner_burst(app, GADGET_GTIN)
        await wait_until(pilot, lambda: screen.draft is not None)
        await pilot.pause(0.2)
        form = screen.query_one("ChecklistForm")
        rows = list(form.query("ChecklistRow"))
        assert len(rows) == 8
        visible = [r for r in rows if form.region.contains_region(r.region) and r.region.height]
        assert len(visible) == 8, [r.region for r in rows]
        assert "Check number 8" in shown(rows[-1])
        footer = screen.query_one("Footer")  # the keys are still on screen
        assert footer.region.bottom == 24 and "enter" in {k.key for k in footer.query("FooterKey")}


# -- snapshots (pytest-textual-snapshot; `pytest --snapshot-update` accepts a deliberate change) -----------


def calm(app) -> None:
    """What would differ between two runs of the same screen: toasts, a blinking cursor."""
    from textual.widgets import Input

    app.clear_notifications()
    for field in app.screen.query(Input):
        field.cursor_blink = False


def receive_after_a_misread(settings):
    app = make_app(settings, operator="anna")

    async def before(pilot):
        await wait_until(pilot, lambda: app.operator == "anna")
        raise_alarms(app)
        scanner_burst(app, "4006381333932")  # a bad check digit: NOT READY, nothing recorded (no clock shown)
        await wait_until(pilot, lambda: app.screen.handled == 1 and "resellable" in app.header.counts)
        await pilot.pause(0.1)
        calm(app)

    return app, before


def inspect_half_way(settings, folder):
    app = make_app(settings, operator="anna")

    async def before(pilot):
        screen = InspectScreen(folder)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.library is not None and app.operator == "anna")
        raise_alarms(app)
        scanner_burst(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: screen.rma is not None)
        scanner_burst(app, GADGET_GTIN)
        await wait_until(pilot, lambda: screen.draft is not None)
        for key in "pfp":
            await pilot.press(key)
            await wait_until(pilot, lambda: screen.handled == screen.queued and not app.wedge.held)
        await wait_until(pilot, lambda: "resellable" in app.header.counts)
        await pilot.pause(0.1)
        calm(app)

    return app, before


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_receive_screen_with_printer_conflict_and_offline(snap_compare, settings, station, size):
    app, before = receive_after_a_misread(settings)
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_inspect_screen_with_printer_conflict_and_offline(snap_compare, settings, station, size):
    app, before = inspect_half_way(settings, station)
    assert snap_compare(app, terminal_size=size, run_before=before)
