"""The station's screens in Simplified Chinese (issue 13, parts 1 and 6).

The catalog test (test_i18n.py) fails on a string marked for translation that
has no zh-CN text; the tests here fail on a string shown on a screen that was
never marked: they drive the app in zh-CN through a clerk's and an inspector's
shift — sign-in, every receiving outcome, undo, inspection with its dialogs,
print jobs, sign-out — and read the rendered terminal after each step for
English words left (runs of 3+ ASCII letters that are neither a key, a code,
a command, nor data the test put in).
"""

from __future__ import annotations

import re
import shutil
import time
from gettext import gettext as _

import pytest
from rich.cells import cell_len

from labels import PrinterStatus
from qc_checklists import standard_folder
from sync.store import Store
from terminal import i18n
from terminal.app import make_app
from terminal.config import Settings
from terminal.i18n import catalog
from terminal.i18n.cells import pad
from terminal.messages import SyncStatus
from terminal.printing import PrinterState
from terminal.screens.dialogs import Confirm, SignIn, SupervisorApproval
from terminal.screens.inspect import InspectScreen
from terminal.screens.inspect_dialogs import OverrideReason, PhotoDialog, PickRma
from terminal.screens.print_jobs import PrintJobs
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.status_bar import Header, StatusBar, fit
from tests.conftest import add_rma, post_scan
from tests.conftest import wait_until as _wait_until
from tests.terminal.test_screens_small import calm, shown, station  # noqa: F401 — station is a fixture

GADGET_GTIN = "5901234123457"
# The test's own checklist, its prompts and reasons in Chinese: data, as a QC lead would write them.
GADGETS = """\
checklist: gadgets
title: 小家电
version: 1
items:
  - id: shell
    kind: pass_fail
    severity: major
    prompt: 外壳无划痕
    photo_required_on_fail: true
  - id: power
    kind: pass_fail
    severity: critical
    prompt: 通电正常
  - id: parts
    kind: pass_fail
    severity: minor
    prompt: 配件齐全
  - id: remarks
    kind: note
    prompt: 备注
rules:
  - then: scrapped
    critical_fails_at_least: 1
    because: 有严重缺陷
  - then: discounted
    major_fails_at_least: 1
    because: 有主要缺陷
"""
GADGET_LINE = {"sku": "GAD-1", "gtin": GADGET_GTIN, "description": "电热水壶", "qty": 1, "category": "gadgets"}
# What the station shows that is no English: keys, codes, formats, commands a person types.
KEYS_AND_CODES = {"RMA", "SKU", "GTIN", "ZPL", "PDF", "PNG", "JPEG", "WebP", "UTC", "Enter", "Esc", "esc", "MB"}
COMMANDS = ("rma operator add", "rma conflicts", "rma checklist validate", "station.toml", "--camera")
# The test's data: operators, station, codes (anything the test itself put in is allowed to show).
DATA = (
    "PARCEL-NOBODY-EXPECTS",
    "anna",
    "Anna",
    "ben",
    "Ben",
    "Novak",
    "Schmidt",
    "qc1",
    "bench-t",
    "gadgets",
    "GAD",
    "nobody",
)
# Names printed on bin labels (the standard routing rules' bins) are data, not prose; so are license plates.
BINS = ("B-GRADE", "CLAIMS", "BENCH-R", "RESTOCK", "DONATE", "RECYCLE", "DESTROY")
PLATE = re.compile(r"\bLP[0-9A-Z]{18}\b")


def english_left(text: str) -> list[str]:
    """Runs of 3+ ASCII letters on screen that are no key, code, command or test data."""
    for command in COMMANDS:
        text = text.replace(command, " ")
    words = re.findall(r"[A-Za-z]{3,}", PLATE.sub(" ", text))
    allowed = KEYS_AND_CODES | {w for d in (*DATA, *BINS) for w in re.findall(r"[A-Za-z]{3,}", d)}
    return [w for w in words if w not in allowed]


def screen_text(app) -> str:
    """What the terminal shows now, line by line (the screen on top, its toasts included)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def check(pilot, seen: list[str], step: str) -> None:
    """Let the screen settle, then record any English left on it under ``step``."""
    await pilot.pause(0.05)
    text = screen_text(pilot.app)
    left = english_left(text)
    if left:
        seen.append(f"{step}: {sorted(set(left))}\n{text}")


@pytest.fixture
def shift(tmp_path, db_path):
    """A station with its operators, the day's RMAs, a checklist of its own and a file printer."""
    with Store(db_path) as store:
        store.add_operator("anna", "Anna Schmidt", "supervisor")
        store.add_operator("ben", "Ben Novak", "clerk")
        store.add_operator("qc1", "", "inspector")
        add_rma(store, "RMA-2026-000001", customer="张伟", reason="尺码偏小", lines=[GADGET_LINE])
        add_rma(store, "RMA-2026-000002", customer="李娜", reason="质量问题", status="cancelled")
        add_rma(store, "RMA-2026-000003", customer="王芳", reason="不想要了", status="expired")
        add_rma(store, "RMA-2026-000004", customer="刘洋", reason="发错货", lines=[GADGET_LINE])
    folder = tmp_path / "checklists"
    shutil.copytree(standard_folder(), folder)
    (folder / "gadgets.yaml").write_text(GADGETS, encoding="utf-8")
    settings = Settings(
        station="bench-t",
        db=str(db_path),
        printer=f"file:{tmp_path / 'labels.zpl'}",
        sources={"db": "flag", "station": "flag"},
    )
    return settings, folder


async def wait_until(pilot, condition) -> None:
    """conftest's wait_until, saying what the screen showed when it did not get there."""
    try:
        await _wait_until(pilot, condition)
    except AssertionError:
        print(f"the app did not get there; the screen:\n{screen_text(pilot.app)}")
        raise


def banner(app) -> OutcomeBanner:
    return app.screen.query_one(OutcomeBanner)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_a_whole_shift_in_chinese_shows_no_english(shift, size):
    settings, folder = shift
    i18n.use("zh-CN")
    app = make_app(settings)
    seen: list[str] = []
    async with app.run_test(size=size) as pilot:
        receive = app.screen
        await wait_until(pilot, lambda: banner(app).word == "SCAN")
        await check(pilot, seen, "start, nobody signed in")
        assert "未签到" in screen_text(app)

        post_scan(app, "RMA-2026-000001")  # before anyone signed in: it waits
        await wait_until(pilot, lambda: banner(app).word == "SIGN IN")
        await check(pilot, seen, "a scan waits for a sign-in")

        post_scan(app, "OP:nobody")
        await wait_until(pilot, lambda: any("nobody" in n.message for n in app._notifications))
        await check(pilot, seen, "a badge nobody registered")
        app.clear_notifications()

        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SignIn))
        await check(pilot, seen, "sign-in dialog")
        await pilot.press(*"ben", "enter")
        await wait_until(pilot, lambda: app.operator == "ben" and receive.handled == 1)
        await wait_until(pilot, lambda: banner(app).word == "RECEIVED")
        await check(pilot, seen, "signed in, the waiting scan received")
        app.clear_notifications()

        for code, word in [
            ("RMA-2026-000001", "ALREADY RECEIVED"),
            ("PARCEL-NOBODY-EXPECTS", "NOT EXPECTED"),
            ("RMA-2026-000002", "CANCELLED"),
            ("RMA-2026-000003", "EXPIRED"),
            ("4006381333931", "NOT AN RMA"),  # a product's barcode, on no RMA
            ("4006381333932", "NOT READ"),  # its check digit wrong
        ]:
            before = receive.handled
            post_scan(app, code)
            await wait_until(pilot, lambda: receive.handled > before)  # noqa: B023 — awaited in this turn
            assert banner(app).word == word, (code, banner(app).word)
            await check(pilot, seen, f"receiving: {word}")

        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await check(pilot, seen, "undo: the question")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is receive and banner(app).word == "SCAN")
        await check(pilot, seen, "undo cancelled")
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("enter")  # Enter = yes
        await wait_until(pilot, lambda: banner(app).word == "UNDONE")
        await check(pilot, seen, "undone")
        before = receive.handled
        post_scan(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: receive.handled > before and banner(app).word == "RECEIVED")

        post_scan(app, "OP:qc1")  # the inspector takes over the bench
        await wait_until(pilot, lambda: app.operator == "qc1")
        inspect = InspectScreen(folder)
        await app.push_screen(inspect)
        await wait_until(pilot, lambda: inspect.library is not None)
        app.clear_notifications()
        await check(pilot, seen, "inspect screen")

        post_scan(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: inspect.rma is not None)
        await check(pilot, seen, "inspect: an RMA open")
        post_scan(app, GADGET_GTIN)
        await wait_until(pilot, lambda: inspect.draft is not None)
        await check(pilot, seen, "inspect: the checklist")
        await pilot.press("f")  # the shell is scratched: a photo is asked for
        await wait_until(pilot, lambda: isinstance(app.screen, PhotoDialog))
        await check(pilot, seen, "photo dialog")
        await pilot.press("f12")  # no camera at this station
        await wait_until(pilot, lambda: app.screen is inspect and inspect.handled == inspect.queued)
        await pilot.press("p")
        await wait_until(pilot, lambda: inspect.handled == inspect.queued)
        await check(pilot, seen, "inspect: half way, a suggestion shown")
        await pilot.press("enter")  # one check still open: said, nothing saved
        await wait_until(pilot, lambda: inspect.handled == inspect.queued)
        await check(pilot, seen, "inspect: a check not answered")
        await pilot.press("p")
        await wait_until(pilot, lambda: inspect.handled == inspect.queued)

        await pilot.press("r")  # resellable, though the rules suggest discounted: an override
        await wait_until(pilot, lambda: isinstance(app.screen, OverrideReason))
        await check(pilot, seen, "override dialog")
        await pilot.press("enter")  # no reason picked yet
        await check(pilot, seen, "override dialog: pick a reason first")
        await pilot.press("1")
        await pilot.press(*"划痕很浅", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorApproval))
        await check(pilot, seen, "supervisor approval")
        approval = app.screen
        await pilot.press(*"ben", "enter")  # a clerk cannot approve
        await wait_until(pilot, lambda: "ben" in str(approval.query_one("#problem").render()))
        await check(pilot, seen, "supervisor approval: a clerk's badge")
        await pilot.press(*"anna", "enter")
        await wait_until(pilot, lambda: app.screen is inspect and banner(app).word == "RESELLABLE")
        await wait_until(pilot, lambda: inspect.handled == inspect.queued)
        await check(pilot, seen, "inspect: saved, label queued")

        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, PickRma))
        await check(pilot, seen, "pick a received RMA")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is inspect and inspect.handled == inspect.queued)

        post_scan(app, "RMA-2026-000004")  # not received yet: the inspector is asked
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await check(pilot, seen, "inspect: receive it now?")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is inspect and inspect.handled == inspect.queued)
        await check(pilot, seen, "inspect: not received")

        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, PrintJobs))
        jobs = app.screen
        await wait_until(pilot, lambda: jobs.query_one("DataTable").row_count >= 1)
        await check(pilot, seen, "print jobs")
        await pilot.press("r")
        await wait_until(pilot, lambda: "2" in str(jobs.query_one("#said").render()))
        await check(pilot, seen, "print jobs: reprinted")
        await pilot.press("escape")

        await pilot.press("f3")
        await wait_until(pilot, lambda: not app.operator)
        await pilot.pause(0.1)
        await check(pilot, seen, "signed out")
        assert "未签到" in screen_text(app)
    assert not seen, "\n\n".join(seen)


def test_the_detector_finds_english_it_is_meant_to():
    # Guards the test above: a detector that finds nothing would pass every screen.
    assert english_left("收货 Receive │ STATION bench-t") == ["Receive", "STATION"]
    assert english_left("RMA-2026-000001 张伟 · F2 签到 · rma operator add nobody") == []


ENGLISH_GRAMMAR = {"{article}"}  # "a"/"an": Chinese has no article to put there


def test_every_translation_keeps_the_placeholders_and_markup():
    # A translation that drops {code} or $customer, or a [b] tag, breaks the line it is in.
    pattern = r"\{\w+\}|\$\w+|\[/?b\]"
    broken = []
    for message in catalog.translations():
        if not message.id:
            continue
        target = message.string if isinstance(message.string, str) else message.string[0]
        # zh-CN has one plural form: it may say what either English form says (Click names both)
        forms = [message.id] if isinstance(message.id, str) else list(message.id)
        said = set(re.findall(pattern, target))
        if not any(set(re.findall(pattern, f)) - ENGLISH_GRAMMAR == said - ENGLISH_GRAMMAR for f in forms):
            broken.append((forms[0], target))
    assert not broken


# -- double-width characters: columns, banners and the header at 80×24 and 120×36 --------------------------


def raise_alarms_zh(app, offline_minutes: int = 25) -> None:
    """test_screens_small's bad morning, said as the station says it in zh-CN."""
    app.header.show_part("printer", PrinterState("zpl://10.0.0.9", PrinterStatus(False, "缺纸"), 2).text)
    app.on_sync_status(SyncStatus(False, 7, "09:12:01", "服务器无法连接：连接被拒绝 (10.0.0.5:8080)", conflicts=1))
    app.header.offline_since = time.monotonic() - offline_minutes * 60
    app.header.show_part("disk", "磁盘已满：3 个扫描等待中，没有丢失")  # noqa: RUF001 — Chinese punctuation


@pytest.mark.parametrize("width", [80, 120])
async def test_the_header_keeps_every_alert_at_80_and_120_columns_in_chinese(settings, station, width):  # noqa: F811
    i18n.use("zh-CN")
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(width, 24 if width == 80 else 36)) as pilot:
        raise_alarms_zh(app)
        bar = app.screen.query_one(StatusBar)
        await _wait_until(pilot, lambda: "resellable" in bar.counts)
        await pilot.pause(0.1)
        line = shown(bar)
        assert "\n" not in line and cell_len(line) <= width, line
        for needed in ("打印机未就绪：缺纸", "1 个冲突", "离线 25", "磁盘已满", "anna"):
            assert needed in line, line


def test_the_header_is_cut_by_cells_not_characters():
    i18n.use("zh-CN")
    header = Header(station="退货工位-北-7", operator="li", unsent=3, counts={"received": 14, "resellable": 5})
    header.parts["printer"] = PrinterState("zpl://p", PrinterStatus(False, "缺纸"), 12).text
    for width in (40, 60, 80):
        line = fit(header.segments(), width).plain
        assert cell_len(line) <= width, (width, line)
        assert "打印机未就绪" in line, line  # an alert, in Chinese, is still an alert


def test_the_recent_receipts_line_up_whatever_the_outcome_is_called():
    i18n.use("zh-CN")
    stamps = [f"12:00:00  {pad(i18n_word, 17)} RMA-1" for i18n_word in ("已收货", "已收过货", "非预期", "RECEIVED")]
    assert len({cell_len(line[: line.index("RMA")]) for line in stamps}) == 1


def receive_after_a_misread_zh(settings):
    i18n.use("zh-CN")
    app = make_app(settings, operator="anna")

    async def before(pilot):
        await _wait_until(pilot, lambda: app.operator == "anna")
        raise_alarms_zh(app)
        post_scan(app, "RMA-2026-000001")  # received before: the customer 张伟's parcel, in the recent list
        await _wait_until(pilot, lambda: app.screen.handled == 1)
        post_scan(app, "4006381333932")  # a bad check digit: NOT READ, nothing recorded
        await _wait_until(pilot, lambda: app.screen.handled == 2 and "resellable" in app.header.counts)
        app.screen.recent.clear()  # the recent list starts with the clock's time: not the same in two runs
        app.screen.recent.append(f"12:00:00  {pad(_('ALREADY RECEIVED'), 17)} RMA-2026-000001 张伟 订单 -")
        app.screen.query_one("#recent").update("\n".join(app.screen.recent))
        await pilot.pause(0.1)
        calm(app)

    return app, before


def inspect_half_way_zh(settings, folder):
    i18n.use("zh-CN")
    app = make_app(settings, operator="anna")

    async def before(pilot):
        screen = InspectScreen(folder)
        await app.push_screen(screen)
        await _wait_until(pilot, lambda: screen.library is not None and app.operator == "anna")
        raise_alarms_zh(app)
        post_scan(app, "RMA-2026-000001")
        await _wait_until(pilot, lambda: screen.rma is not None)
        post_scan(app, GADGET_GTIN)
        await _wait_until(pilot, lambda: screen.draft is not None)
        for key in "pfp":
            await pilot.press(key)
            await _wait_until(pilot, lambda: screen.handled == screen.queued and not app.wedge.held)
        await _wait_until(pilot, lambda: "resellable" in app.header.counts)
        await pilot.pause(0.1)
        calm(app)

    return app, before


@pytest.fixture
def station_zh(station, db_path):  # noqa: F811
    """test_screens_small's station, its RMA a Chinese customer's with a Chinese reason, and its checklist Chinese."""
    with Store(db_path) as store, store.write() as conn:
        conn.execute("UPDATE rmas SET customer_name = '张伟', reason = '尺码偏小' WHERE code = 'RMA-2026-000001'")
    (station / "gadgets.yaml").write_text(
        "checklist: gadgets\ntitle: 小家电\nitems:\n"
        + "".join(
            f"  - id: check_{n}\n    kind: pass_fail\n    severity: minor\n    prompt: 第 {n} 项检查：外观与配件\n"
            for n in range(1, 9)
        ),
        encoding="utf-8",
    )
    return station


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_receive_screen_in_chinese(snap_compare, settings, station_zh, size):
    app, before = receive_after_a_misread_zh(settings)
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_inspect_screen_in_chinese(snap_compare, settings, station_zh, size):
    app, before = inspect_half_way_zh(settings, station_zh)
    assert snap_compare(app, terminal_size=size, run_before=before)


def test_the_camera_says_what_is_wrong_in_chinese(tmp_path):
    from terminal.scanning.camera import CameraError, open_capture

    i18n.use("zh-CN")
    with pytest.raises(CameraError) as refused:
        open_capture(str(tmp_path / "nowhere.mp4"))
    said = str(refused.value)
    assert str(tmp_path / "nowhere.mp4") in said  # the data, as it is
    assert english_left(said.replace(str(tmp_path / "nowhere.mp4"), " ")) == [], said
