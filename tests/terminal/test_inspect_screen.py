"""The inspect screen, driven like a bench: scans, single keys, command barcodes, dialogs.

Real SQLite files, the real checklists; a scan is typed into the scan field as
a burst, or routed as the wedge would (``post_scan``: one Scanned message).  Single-key
presses are followed by a short pause: the app's wedge holds printable keys
for ~50 ms to tell a scanner from a person.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import zlib

import pytest

from qc_checklists import standard_folder
from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.screens.dialogs import SupervisorApproval
from terminal.screens.inspect import InspectScreen
from terminal.screens.inspect_dialogs import OverrideReason, PhotoDialog
from tests.conftest import post_scan

GENERAL_GTIN = "4006381333931"  # line 1 of RMA-1: general
GADGET_GTIN = "5901234123457"  # line 2 of RMA-1: gadgets (8 pass/fail checks)
STRANGER_GTIN = "4012345678901"  # on no RMA
GADGETS = "checklist: gadgets\nitems:\n" + "".join(
    f"  - id: check_{n}\n    kind: pass_fail\n    severity: {sev}\n    prompt: Check number {n}\n"
    + ("    photo_required_on_fail: true\n" if n == 1 else "")
    for n, sev in enumerate(["critical", "major", "minor", "minor", "minor", "minor", "major", "minor"], 1)
)


@pytest.fixture
def folder(tmp_path):
    """The standard checklists plus an 8-item pass/fail 'gadgets' checklist."""
    folder = tmp_path / "checklists"
    shutil.copytree(standard_folder(), folder)
    (folder / "gadgets.yaml").write_text(GADGETS, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path):
    db = tmp_path / "station.db"
    with Store(db) as store:
        with store.write() as conn:
            store.upsert_rma(
                conn,
                {"rma_code": "RMA-1", "status": "authorized", "customer_name": "Eva Costa", "reason": "defective"},
                [
                    {"sku": "GEN-1", "gtin": GENERAL_GTIN, "qty": 1, "category": "general", "description": "Yoga mat"},
                    {"sku": "GAD-2", "gtin": GADGET_GTIN, "qty": 1, "category": "gadgets", "description": "Gadget"},
                ],
            )
            store.upsert_rma(
                conn,
                {"rma_code": "RMA-2", "status": "authorized"},
                [{"sku": "GEN-9", "gtin": GENERAL_GTIN, "qty": 1, "category": "general"}],
            )
        store.receive("RMA-1", "dock-1", "anna")
        store.add_operator("qc1", "Chloé Dubois", "inspector")
        store.add_operator("anna", "Anna Schmidt", "supervisor")
    return Settings(station="bench-9", db=str(db), sources={"db": "flag"})


class Bench:
    """Drives the inspect screen and waits until each input has been handled."""

    def __init__(self, app, pilot, screen: InspectScreen):
        self.app, self.pilot, self.screen = app, pilot, screen
        self.actions = 0  # keypresses and scans from the item scan on (the budget)

    async def settle(self) -> None:
        """Wait until every queued input is handled, or a dialog waits for the inspector."""
        calm = 0
        for _ in range(500):
            await self.pilot.pause(0.01)
            idle = not self.app.wedge.held and (
                self.app.screen is not self.screen
                or (self.screen.handled == self.screen.queued and self.screen.inbox.empty())
            )
            calm = calm + 1 if idle else 0
            if calm >= 2:
                return
        raise AssertionError("the inspect screen did not settle")

    async def type_scan(self, text: str) -> None:
        """A scan typed as a fast burst into the focused scan field."""
        await self.pilot.press(*text, "enter")
        self.actions += 1
        await self.settle()

    async def scan(self, text: str) -> None:
        """A scan as the wedge routes it (works whatever has focus)."""
        post_scan(self.app, text, source="wedge")
        self.actions += 1
        await self.settle()

    async def key(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)  # settle() waits out the wedge holding a printable key ~50 ms
            self.actions += 1
            await self.settle()

    async def typed(self, text: str) -> None:
        """Text typed into the focused field (a path, a reading, a remark), then Enter."""
        await self.pilot.press(*text, "enter")
        await self.settle()

    @property
    def word(self) -> str:
        return self.screen.query_one("#banner").word

    def text(self, selector: str) -> str:
        return str(self.screen.query_one(selector).render())

    def events(self, type_: str | None = None):
        with Store(self.app.settings.db_path) as store:
            return [e for e in store.events() if type_ is None or e.type == type_]


async def open_bench(app, pilot, folder, ready=lambda app: True) -> Bench:
    """Open the inspect screen on ``folder``'s checklists; wait until it and ``ready(app)`` are."""
    screen = InspectScreen(folder)
    await app.push_screen(screen)
    b = Bench(app, pilot, screen)
    for _ in range(300):
        await pilot.pause(0.01)
        if screen.library is not None and app.operator and ready(app):
            break
    await b.settle()
    return b


@pytest.fixture
async def bench(settings, folder):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        yield await open_bench(app, pilot, folder)


def png(path, colour=(200, 30, 30)) -> bytes:
    """Write a real 1×1 PNG; return its bytes."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" + bytes(colour)))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(data)
    return data


async def test_all_pass_general_item_is_saved_resellable(bench):
    await bench.type_scan("RMA-1")
    assert bench.word == "SCAN ITEM" and "Yoga mat" in bench.text("#rma")
    await bench.type_scan(GENERAL_GTIN)
    assert bench.word == "INSPECT" and bench.screen.draft.checklist.id == "general"
    await bench.key("p", "p", "p", "p", "1", "p", "p")  # 5 pass/fail + 2 choices ("1" / p = first passing)
    assert "RESELLABLE" in bench.text("#suggestion") and "Enter confirms" in bench.text("#suggestion")
    await bench.key("enter")
    assert bench.word == "RESELLABLE"
    [event] = bench.events("item.inspected")
    p = event.payload
    assert (p["suggested"], p["final"], p["override"]) == ("resellable", "resellable", None)
    assert p["checklist"]["id"] == "general" and len(p["checklist"]["hash"]) == 64
    assert [a["item"] for a in p["answers"]] == [
        "matches_line",
        "damage",
        "safe_and_clean",
        "signs_of_use",
        "contents",
        "labels",
        "packaging",
    ]
    assert not any(a["failed"] for a in p["answers"])
    assert (event.operator, event.station, p["inspector"], p["gtin"]) == ("qc1", "bench-9", "qc1", "0" + GENERAL_GTIN)
    assert p["started_at"] <= p["ended_at"]
    await bench.pilot.pause(0.2)
    assert "resellable 1" in bench.text("#status")


async def test_minor_fail_is_recorded_and_stays_resellable(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "f", "p", "p", "p", "p", "p")
    assert "1 fail(s) below every rule's threshold: #3 Check number 3" in bench.text("#suggestion")
    await bench.key("enter")
    assert bench.word == "RESELLABLE"
    answers = {a["item"]: a for a in bench.events("item.inspected")[0].payload["answers"]}
    assert answers["check_3"] == {
        "item": "check_3",
        "kind": "pass_fail",
        "answer": "fail",
        "failed": True,
        "severity": "minor",
    }


async def test_three_minor_fails_suggest_discounted(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "f", "f", "f", "p", "p", "p", "enter")
    assert bench.word == "DISCOUNTED"
    assert bench.events("item.inspected")[0].payload["why"] == ["more than 2 minor fails: check_3, check_4, check_5"]


async def test_critical_fail_with_photo_is_scrapped(bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short relative path to type
    photo = png(tmp_path / "defect.png")
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("f")  # check_1 is critical and needs a photo: the dialog opens at once
    assert isinstance(bench.app.screen, PhotoDialog)
    await bench.typed("defect.png")
    assert bench.app.screen is bench.screen and "SCRAPPED" in bench.text("#suggestion")
    await bench.key("p", "p", "p", "p", "p", "p", "p", "enter")
    assert bench.word == "SCRAPPED"
    p = bench.events("item.inspected")[0].payload
    assert p["final"] == "scrapped" and p["why"] == ["any critical fail: check_1"]
    digest = hashlib.sha256(photo).hexdigest()  # kept beside the database, by hash
    assert p["photos"] == [
        {"item": "check_1", "sha256": digest, "path": str(tmp_path / "photos" / f"{digest}.png"), "bytes": len(photo)}
    ]


async def test_photo_required_blocks_saving_until_photo_or_no_camera_exception(bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a photo")
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("f")
    await bench.typed("notes.txt")  # refused in the dialog, which stays open
    assert isinstance(bench.app.screen, PhotoDialog)
    assert "not a JPEG, PNG or WebP photo" in str(bench.app.screen.query_one("#problem").render())
    await bench.pilot.press("escape")
    await bench.settle()
    await bench.key("p", "p", "p", "p", "p", "p", "p")
    await bench.key("enter")  # the photo is still missing: the dialog asks again
    assert isinstance(bench.app.screen, PhotoDialog)
    await bench.pilot.press("escape")
    await bench.settle()
    assert bench.word == "PHOTO NEEDED" and bench.events("item.inspected") == []
    await bench.key("enter")
    await bench.pilot.press("f12")  # no camera at this station: an explicit, recorded exception
    await bench.settle()
    assert bench.word == "SCRAPPED"
    assert bench.events("item.inspected")[0].payload["photos"] == [
        {"item": "check_1", "exception": "no camera at this station"}
    ]


async def test_override_needs_a_reason_and_is_recorded(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "p", "p", "p", "p", "p", "p")
    await bench.key("d")  # suggested resellable; the inspector says discounted
    assert isinstance(bench.app.screen, OverrideReason)
    await bench.pilot.press("5")  # Other: needs words
    await bench.pilot.pause(0.15)
    await bench.pilot.press("enter")
    await bench.pilot.pause(0.05)
    assert "'Other' needs a few words" in str(bench.app.screen.query_one("#problem").render())
    await bench.pilot.press("escape")  # cancelled: nothing saved
    await bench.settle()
    assert bench.events("item.inspected") == [] and bench.screen.draft is not None
    await bench.key("d")
    await bench.pilot.press("1")
    await bench.pilot.pause(0.15)
    await bench.pilot.press(*"scuff on lid", "enter")
    await bench.settle()
    assert isinstance(bench.app.screen, SupervisorApproval)  # the site setting: overrides need a supervisor
    await bench.pilot.press(*"anna", "enter")
    await bench.settle()
    assert bench.word == "DISCOUNTED"
    p = bench.events("item.inspected")[0].payload
    assert (p["suggested"], p["final"]) == ("resellable", "discounted")
    assert p["override"] == {"reason": "Defect worse than the checklist captures", "note": "scuff on lid"}
    assert p["approved_by"] == "anna"


async def test_item_that_matches_no_line_is_a_mismatch(bench):
    await bench.type_scan("RMA-1")
    await bench.scan(f"]C101{STRANGER_GTIN.zfill(14)}\x1d21SN-77")
    assert bench.word == "ITEM MISMATCH" and bench.screen.draft is None
    assert bench.screen.query_one("#banner").has_class("bad")  # red
    [event] = bench.events("item.mismatch")
    assert event.rma_code == "RMA-1" and event.payload["gtin"] == STRANGER_GTIN.zfill(14)
    assert event.payload["serial"] == "SN-77"


async def test_extra_unit_and_reused_serial_are_mismatches(bench):
    await bench.type_scan("RMA-1")
    await bench.scan(f"01{GENERAL_GTIN.zfill(14)}21SER-1")
    await bench.key("p", "p", "p", "p", "p", "p", "p", "enter")
    assert bench.word == "RESELLABLE"
    await bench.scan(GENERAL_GTIN)  # the line's only unit is done
    assert bench.word == "ITEM MISMATCH" and "more units" in bench.events("item.mismatch")[-1].payload["reason"]
    await bench.key("escape")
    await bench.scan("RMA-2")
    await bench.key("y")  # not received yet: receive it first
    await bench.scan(f"01{GENERAL_GTIN.zfill(14)}21SER-1")  # same serial as on RMA-1
    assert bench.word == "ITEM MISMATCH"
    assert "was inspected before, on RMA-1" in bench.events("item.mismatch")[-1].payload["reason"]


async def test_rma_not_received_is_offered_for_receiving(bench):
    await bench.type_scan("RMA-2")
    from terminal.screens.dialogs import Confirm

    assert isinstance(bench.app.screen, Confirm) and bench.word == "NOT RECEIVED"
    await bench.pilot.press("n")
    await bench.settle()
    assert bench.events("rma.received")[-1].rma_code == "RMA-1"  # nothing new
    await bench.type_scan("RMA-2")
    await bench.pilot.press("y")
    await bench.settle()
    assert bench.word == "SCAN ITEM" and bench.events("rma.received")[-1].rma_code == "RMA-2"


async def test_all_pass_takes_at_most_ten_keypresses_or_scans(bench):
    """An 8-item checklist, all pass: item scan + 8 keys + Enter = 10, counted."""
    await bench.type_scan("RMA-1")
    bench.actions = 0
    await bench.type_scan(GADGET_GTIN)  # the item scan counts
    for _ in range(8):
        await bench.key("p")
    await bench.key("enter")
    [event] = bench.events("item.inspected")
    assert bench.word == "RESELLABLE" and len(event.payload["answers"]) == 8
    assert bench.actions == 10


async def test_command_barcodes_answer_and_confirm(bench):
    await bench.scan("RMA-1")
    await bench.scan(GADGET_GTIN)
    for command in ["PASS"] * 6 + ["FAIL", "PASS"]:  # check_7 (major) fails
        await bench.scan(f"CMD:{command}")
    assert "DISCOUNTED" in bench.text("#suggestion")
    await bench.scan("CMD:DISCOUNTED")  # the suggested disposition's barcode confirms it
    assert bench.word == "DISCOUNTED"
    assert bench.events("item.inspected")[0].payload["override"] is None


async def test_a_remark_is_typed_after_moving_to_it(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GENERAL_GTIN)
    # reach the note (the last item) with the arrow keys and type a remark
    await bench.key("up")
    await bench.typed("box re-taped")
    assert bench.screen.draft.answers["remarks"] == "box re-taped"


async def test_measurement_reading(settings, tmp_path):
    folder = tmp_path / "ck"
    folder.mkdir()
    shutil.copy(standard_folder() / "general.yaml", folder)
    (folder / "gadgets.yaml").write_text(
        "checklist: gadgets\nitems:\n"
        "  - {id: battery, kind: measurement, severity: major, prompt: Battery health, unit: '%', min: 80, max: 100}\n"
        "  - {id: works, kind: pass_fail, severity: critical, prompt: Works}\n"
    )
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        b = await open_bench(app, pilot, folder)
        screen = b.screen
        await b.type_scan("RMA-1")
        await b.type_scan(GADGET_GTIN)
        assert app.focused is screen.query_one("#reading")
        await b.typed("abc")
        assert "'abc' is not a number — type the reading, e.g. 90%" in b.text("#hint")
        assert "battery" not in screen.draft.answers
        await b.typed("71")
        assert screen.draft.answers["battery"] == 71.0 and "DISCOUNTED" in b.text("#suggestion")
        await b.key("p", "enter")
        assert b.word == "DISCOUNTED"
        answers = b.events("item.inspected")[0].payload["answers"]
        assert answers[0] == {
            "item": "battery",
            "kind": "measurement",
            "answer": 71.0,
            "failed": True,
            "severity": "major",
        }


async def test_invalid_checklist_refuses_inspection_and_says_why(settings, tmp_path):
    folder = tmp_path / "ck"
    folder.mkdir()
    shutil.copy(standard_folder() / "general.yaml", folder)
    (folder / "gadgets.yaml").write_text(GADGETS.replace("severity: major", "severity: serious", 1))
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        b = await open_bench(app, pilot, folder)
        screen = b.screen
        assert b.word == "CHECKLIST INVALID"
        assert f"gadgets: {folder / 'gadgets.yaml'}:10: unknown severity 'serious'" in b.text("#banner")
        await b.type_scan("RMA-1")
        await b.type_scan(GADGET_GTIN)
        assert b.word == "CHECKLIST INVALID" and screen.draft is None
        assert "checklist 'gadgets'" in b.text("#banner") and "unknown severity" in b.text("#banner")
        await b.type_scan(GENERAL_GTIN)  # other categories still work
        assert b.word == "INSPECT" and screen.draft.checklist.id == "general"
        assert b.events("item.inspected") == []


async def test_bad_check_digit_is_not_read(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan("4006381333932")
    assert bench.word == "NOT READ" and "check digit" in bench.text("#banner")
    assert bench.events("item.mismatch") == [] and bench.screen.draft is None


async def test_item_before_rma_and_keys_without_item(bench):
    await bench.type_scan(GENERAL_GTIN)
    assert bench.word == "SCAN RMA" and "Scan the RMA label first" in bench.text("#banner")
    assert bench.events("item.mismatch") == []


async def test_f6_f7_switch_between_receive_and_inspect(settings):
    from terminal.screens.receive import ReceiveScreen

    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, ReceiveScreen)
        await pilot.press("f7")
        await pilot.pause(0.1)
        assert isinstance(app.screen, InspectScreen)
        inspect = app.screen
        await pilot.press("f6")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ReceiveScreen)
        await pilot.press("f7")
        await pilot.pause(0.1)
        assert app.screen is inspect  # the same screen, its state kept
        await pilot.press("f6")
        await pilot.pause(0.1)
        await pilot.press(*"RMA-2", "enter")  # receiving still works as before
        for _ in range(100):
            await pilot.pause(0.02)
            if app.screen.query_one("#banner").word == "RECEIVED":
                break
        assert app.screen.query_one("#banner").word == "RECEIVED"


async def test_standard_electronics_checklist_end_to_end(settings, tmp_path):
    """The shipped consumer_electronics checklist: choices, a measurement, a photo item; the RMA completes."""
    with Store(settings.db_path) as store:
        with store.write() as conn:
            store.upsert_rma(
                conn,
                {"rma_code": "RMA-3", "status": "authorized"},
                [{"sku": "ELC-1", "gtin": "5901234123457", "qty": 1, "category": "consumer_electronics"}],
            )
        store.receive("RMA-3", "dock-1", "anna")
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("f7")
        screen = app.screen
        b = Bench(app, pilot, screen)
        while screen.library is None:
            await pilot.pause(0.01)
        await b.key("f4")  # pick a received RMA: RMA-1 has waited longest, RMA-3 is second
        await pilot.press("down", "enter")
        await b.settle()
        assert screen.rma.code == "RMA-3"
        await b.scan("]d20105901234123457\x1d21SN0042\x1d10LOT-9")
        assert screen.draft.checklist.id == "consumer_electronics" and screen.draft.code.serial == "SN0042"
        await b.key("p", "p", "p", "p", "p")  # serial, seal (first passing choice), power, liquid, battery
        assert app.focused is screen.query_one("#reading")  # battery health: a number
        await b.typed("92")
        await b.key("p", "p", "p", "p", "p")  # display, housing, buttons, accessories, account lock
        assert screen.draft.current.id == "as_received"  # the photo item
        await b.key("c")
        await pilot.press("f12")
        await b.settle()
        await b.key("enter")
        assert b.word == "RESELLABLE" and screen.rma.stage == "inspected"
        assert "RMA-3 is fully inspected" in b.text("#banner")
        inspected = b.events("item.inspected")[-1].payload
        assert inspected["serial"] == "SN0042" and inspected["lot"] == "LOT-9"
        assert {a["item"]: a["answer"] for a in inspected["answers"]}["battery_health"] == 92.0
        assert b.events()[-1].type == "rma.inspected"


def test_qc_checklists_imports_neither_sync_nor_terminal():
    import ast
    import pathlib

    import qc_checklists

    for path in pathlib.Path(qc_checklists.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] in ("sync", "terminal", "labels") for n in names), (path, names)


async def test_abandon_saves_nothing_and_a_tracking_number_opens_its_rma(bench, settings):
    with Store(settings.db_path) as store, store.write() as conn:  # a 12-digit carrier number, also a valid UPC-A
        store.upsert_rma(
            conn,
            {"rma_code": "RMA-4", "status": "authorized"},
            [{"sku": "GEN-4", "gtin": GENERAL_GTIN, "qty": 1}],
            ["036000291452"],
        )
    await bench.scan("036000291452")
    await bench.key("y")  # RMA-4 is not received yet: receive it
    assert bench.screen.rma.code == "RMA-4" and bench.events("item.mismatch") == []
    await bench.scan(GENERAL_GTIN)
    await bench.key("p", "p")
    await bench.scan("CMD:CANCEL")
    await bench.key("y")
    assert bench.word == "ABANDONED" and bench.screen.draft is None
    assert bench.events("item.inspected") == []


async def override_to_discounted(bench) -> None:
    """Answer every check of the gadget with P, then choose DISCOUNTED with the first reason."""
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "p", "p", "p", "p", "p", "p")
    await bench.key("d")
    await bench.pilot.press("1")
    await bench.pilot.pause(0.15)
    await bench.pilot.press("enter")
    await bench.settle()


async def test_an_override_waits_for_a_supervisor_badge_and_only_a_supervisor_approves(bench):
    await override_to_discounted(bench)
    dialog = bench.app.screen
    assert isinstance(dialog, SupervisorApproval)
    assert "suggested RESELLABLE, final DISCOUNTED" in dialog.what
    await bench.pilot.press(*"qc1", "enter")  # the inspector cannot approve their own override
    await bench.settle()
    assert "qc1 (Chloé Dubois) is an inspector, not a supervisor" in str(dialog.query_one("#problem").render())
    post_scan(bench.app, "OP:nobody", source="camera")  # an unknown badge under the camera
    await bench.settle()
    assert "nobody is not a registered operator" in str(dialog.query_one("#problem").render())
    assert bench.app.operator == "qc1" and bench.events("item.inspected") == []
    await bench.pilot.press("escape")  # no supervisor around: nothing saved, the draft stays
    await bench.settle()
    assert bench.events("item.inspected") == [] and bench.screen.draft is not None
    assert "not approved" in bench.text("#hint")
    await bench.key("enter")  # the suggestion needs nobody
    p = bench.events("item.inspected")[0].payload
    assert (p["final"], p["override"]) == ("resellable", None) and "approved_by" not in p


async def test_a_supervisor_inspecting_approves_their_own_override(settings, folder):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(130, 50)) as pilot:
        bench = await open_bench(app, pilot, folder)
        await override_to_discounted(bench)
        assert bench.word == "DISCOUNTED"
        assert bench.events("item.inspected")[0].payload["approved_by"] == "anna"


async def test_a_site_that_lets_inspectors_override_asks_nobody(settings, folder):
    import dataclasses

    app = make_app(dataclasses.replace(settings, supervisor_required=("undo_other",)), operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        bench = await open_bench(app, pilot, folder)
        await override_to_discounted(bench)
        assert bench.word == "DISCOUNTED"
        assert "approved_by" not in bench.events("item.inspected")[0].payload


# -- issue 15, case 10 ----------------------------------------------------------


async def test_before_any_answer_nothing_is_suggested_as_passed(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    shown = bench.text("#suggestion")
    assert "nothing answered yet" in shown.lower() and "every check passed" not in shown
    assert "RESELLABLE" not in shown
    await bench.key("p")
    shown = bench.text("#suggestion")
    assert "every check passed" not in shown and "no check failed so far" in shown and "7 to answer" in shown
    await bench.key("p", "p", "p", "p", "p", "p", "p")
    assert "every check passed" in bench.text("#suggestion")


async def test_messages_name_prompts_and_numbers_not_item_ids(settings, folder):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(80, 24)) as pilot:
        b = await open_bench(app, pilot, folder)
        await b.type_scan("RMA-1")
        await b.type_scan(GENERAL_GTIN)
        await b.key("enter")  # nothing answered: all 7 required checks are open
        hint = b.text("#hint")
        assert hint.startswith("7 checks not answered yet")
        for n in range(1, 8):
            assert f"#{n}" in hint, hint
        assert not any(i in hint for i in ("matches_line", "damage", "safe_and_clean", "packaging"))
        await b.key("f")  # 1. matches the line: fails critical, and needs a photo
        await b.key("f12")
        why = b.text("#suggestion")
        assert "#1 Item matches the RMA line" in why and "matches_line" not in why
        await b.key("p", "p", "p", "f")  # #5 contents is a choice: F is not how it is answered
        assert "#5 Contents against the packing list" in b.text("#hint") and "'contents'" not in b.text("#hint")


async def test_gadget_fails_are_explained_by_number_and_prompt(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "f", "f", "f", "p", "p", "p")
    why = bench.text("#suggestion")
    assert "more than 2 minor fails: #3 Check number 3, #4 Check number 4, #5 Check number 5" in why
    await bench.key("enter")  # what is recorded keeps the stable ids (data, not a message)
    assert bench.events("item.inspected")[0].payload["why"] == ["more than 2 minor fails: check_3, check_4, check_5"]


async def test_photo_dialog_title_says_whether_the_photo_is_required(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p")  # check_1 passes; the cursor is on check_2, which needs no photo
    await bench.key("c")
    assert isinstance(bench.app.screen, PhotoDialog)
    title = str(bench.app.screen.query_one(".question").render())
    assert "Photo (optional)" in title and "required" not in title.lower()
    await bench.pilot.press("escape")
    await bench.settle()
    await bench.key("up", "f")  # check_1 fails: its photo is required
    assert isinstance(bench.app.screen, PhotoDialog)
    assert "Photo required" in str(bench.app.screen.query_one(".question").render())


async def test_no_camera_is_its_own_key_in_the_dialog_and_shows_apart_from_a_photo(bench, tmp_path, monkeypatch):
    from textual.widgets import Footer

    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("f")
    dialog = bench.app.screen
    assert isinstance(dialog, PhotoDialog)
    assert dialog.query(Footer)  # its keys are in its footer
    footer_keys = {(b.key, b.description) for _, b, enabled, *_ in dialog.active_bindings.values() if b.show}
    assert ("f12", "No camera here") in footer_keys
    assert "F12" in str(dialog.query_one("#keys").render()) and "F9" not in str(dialog.query_one("#keys").render())
    await bench.pilot.press("f9")  # the print jobs key does not answer the photo question
    await bench.pilot.pause(0.1)
    assert bench.app.screen is dialog
    await bench.pilot.press("f12")
    await bench.settle()
    assert bench.app.screen is bench.screen
    row = first_row(bench)
    assert "no camera" in row and "📷 ok" not in row
    monkeypatch.chdir(tmp_path)
    png(tmp_path / "defect.png")
    await bench.key("up", "c")  # replace the exception with a real photo
    await bench.typed("defect.png")
    row = first_row(bench)
    assert "📷 ok" in row and "no camera" not in row


def first_row(bench) -> str:
    """The checklist's first row as the inspector reads it."""
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(bench.screen.query("ChecklistRow").first().content)
    return console.export_text()


async def test_a_photo_is_copied_by_hash_and_survives_its_original(bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = png(tmp_path / "defect.png")
    digest = hashlib.sha256(data).hexdigest()
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("f")
    await bench.typed("defect.png")
    (tmp_path / "defect.png").unlink()  # the phone's picture is deleted before saving
    await bench.key("p", "p", "p", "p", "p", "p", "p", "enter")
    assert bench.word == "SCRAPPED"
    [photo] = bench.events("item.inspected")[0].payload["photos"]
    kept = bench.app.settings.db_path.parent / "photos" / f"{digest}.png"
    assert photo == {"item": "check_1", "sha256": digest, "path": str(kept), "bytes": len(data)}
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest


def test_override_reasons_differ_by_direction():
    from qc_checklists import Disposition
    from terminal.inspection import OTHER, override_reasons

    stricter = override_reasons(Disposition.RESELLABLE, Disposition.SCRAPPED)
    milder = override_reasons(Disposition.SCRAPPED, Disposition.DISCOUNTED)
    assert stricter != milder and stricter[-1] == milder[-1] == OTHER
    assert "Defect worse than the checklist captures" in stricter
    assert "Defect worse than the checklist captures" not in milder
    assert "Checklist too strict for this product" in milder
    assert "Checklist too strict for this product" not in stricter


async def test_override_dialog_offers_the_reasons_of_its_direction(bench):
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("f")  # critical: suggested scrapped
    await bench.pilot.press("f12")
    await bench.settle()
    await bench.key("p", "p", "p", "p", "p", "p", "p")
    await bench.key("d")  # milder than suggested
    assert isinstance(bench.app.screen, OverrideReason)
    options = [str(o.prompt) for o in bench.app.screen.query_one("#reasons").options]
    assert any("Checklist too strict" in o for o in options)
    assert not any("Defect worse" in o for o in options)
    await bench.pilot.press("1")
    await bench.pilot.pause(0.15)
    await bench.pilot.press(*"seal fine", "enter")
    await bench.settle()
    assert isinstance(bench.app.screen, SupervisorApproval)  # the site setting: overrides need a supervisor
    post_scan(bench.app, "OP:anna", source="wedge")
    await bench.settle()
    p = bench.events("item.inspected")[0].payload
    assert (p["suggested"], p["final"]) == ("scrapped", "discounted")
    assert p["override"]["reason"] == "Checklist too strict for this product"


async def test_a_photo_added_to_a_passing_check_is_kept(bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = png(tmp_path / "seal.png", colour=(10, 200, 10))
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p")  # the cursor is on check_2, which needs no photo
    await bench.key("c")
    assert "Photo (optional)" in str(bench.app.screen.query_one(".question").render())
    assert "f8" not in {
        b.key for _, b, *_ in bench.app.screen.active_bindings.values() if bench.app.screen.check_action(b.action, ())
    }  # no camera here: no F8 offered
    await bench.typed("seal.png")
    await bench.key("p", "p", "p", "p", "p", "p", "p", "enter")  # check_2 … check_8
    assert bench.word == "RESELLABLE"
    [photo] = bench.events("item.inspected")[0].payload["photos"]
    assert photo["item"] == "check_2" and photo["sha256"] == hashlib.sha256(data).hexdigest()


async def test_a_scan_while_a_dialog_is_open_over_the_bench_waits_for_it(bench):
    await bench.pilot.press("f2")  # the sign-in dialog, over the inspect screen
    await bench.pilot.pause(0.1)
    dialog = bench.app.screen
    assert dialog.__class__.__name__ == "SignIn"
    post_scan(bench.app, "RMA-1", source="wedge")
    await bench.pilot.pause(0.3)
    assert bench.screen.rma is None and bench.app.screen is dialog  # not opened behind the dialog
    assert any("RMA-1" in str(n.message) for n in bench.app._notifications)
    await bench.pilot.press("escape")
    await bench.settle()
    assert bench.word == "SCAN ITEM" and bench.screen.rma.code == "RMA-1"
