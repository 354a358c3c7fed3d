"""The inspect screen shows the checklist in the station's language; what it records stays language-free."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from qc_checklists import load_library, standard_folder
from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.screens.inspect import InspectScreen
from tests.conftest import post_scan, wait_until

GTIN = "4006381333931"


@pytest.fixture
def settings(tmp_path):
    db = tmp_path / "station.db"
    with Store(db) as store:
        with store.write() as conn:
            store.upsert_rma(
                conn,
                {"rma_code": "RMA-1", "status": "authorized", "customer_name": "张伟", "reason": "质量问题"},
                [{"sku": "GEN-1", "gtin": GTIN, "qty": 1, "category": "general", "description": "瑜伽垫"}],
            )
        store.receive("RMA-1", "dock-1", "qc1")
        store.add_operator("qc1", "李娜", "inspector")
    return Settings(station="bench-9", db=str(db), sources={"db": "flag"})


def shown(*widgets) -> str:
    """What the widgets show, as the inspector reads it."""
    console = Console(width=130, record=True, file=io.StringIO())
    for widget in widgets:
        console.print(widget.content)
    return console.export_text()


async def settle(pilot, screen: InspectScreen) -> None:
    """Wait until the screen has handled every input it took."""
    calm = 0
    for _ in range(500):
        await pilot.pause(0.01)
        idle = not pilot.app.wedge.held and screen.handled == screen.queued and screen.inbox.empty()
        calm = calm + 1 if idle else 0
        if calm >= 2:
            return
    raise AssertionError("the inspect screen did not settle")


async def test_the_checklist_is_shown_in_chinese_and_recorded_as_ever(settings):
    general = load_library(standard_folder()).checklists["general"]
    first, contents = general.item("matches_line"), general.item("contents")
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        screen = InspectScreen(standard_folder(), language="zh-CN")
        await app.push_screen(screen)
        for _ in range(300):
            await pilot.pause(0.01)
            if screen.library is not None and app.operator:
                break
        post_scan(app, "RMA-1")
        await settle(pilot, screen)
        post_scan(app, GTIN)
        await settle(pilot, screen)
        await wait_until(pilot, lambda: shown(*screen.query("ChecklistRow")).strip())  # rows fill after mounting
        form = shown(*screen.query("ChecklistRow"))
        assert general.title_in("zh-CN") in shown(screen.query_one("ChecklistForm .title"))
        assert first.prompt_in("zh-CN") in form and first.prompt not in form
        for _ in range(4):  # four pass/fail checks, then the choice "contents"
            await pilot.press("p")
            await settle(pilot, screen)
        current = shown(*screen.query("ChecklistRow.current"))
        for choice in contents.choices:
            assert contents.choice_label_in(choice.label, "zh-CN") in current
        await pilot.press("2")  # "non-essential part missing": a minor fail
        await settle(pilot, screen)
        assert f"#5 {contents.prompt_in('zh-CN')}" in shown(screen.query_one("#suggestion"))
        await pilot.press("p", "1")  # labels pass; packaging: the first answer
        await settle(pilot, screen)
        await pilot.press("enter")
        await settle(pilot, screen)
        assert screen.query_one("#banner").word == "RESELLABLE"  # one minor fail is below every rule
    with Store(settings.db_path) as store:
        [event] = [e for e in store.events() if e.type == "item.inspected"]
    answers = {a["item"]: a["answer"] for a in event.payload["answers"]}
    assert answers["contents"] == "non-essential part missing"  # the English label: what the rules and reports read
    assert answers["packaging"] == "original, fit for resale"
    # the hash covers both languages' texts; the language says which of them the inspector read
    assert event.payload["checklist"] == {"id": "general", "hash": general.content_hash, "language": "zh-CN"}


async def test_the_station_passes_its_language_to_the_inspect_screen(settings):
    from terminal import i18n

    i18n.use("zh-CN")  # as `rma station` does with station.toml's `language` (terminal.cli.speak)
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)):
        inspect = app.get_screen("inspect")
        assert isinstance(inspect, InspectScreen) and inspect.language == "zh-CN"


@pytest.mark.parametrize(
    "language, shown",
    [("zh-CN", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("", ""), ("en", ""), ("de", "")],
)
def test_the_record_names_the_language_only_when_a_translation_was_shown(language, shown):
    from qc_checklists import Disposition
    from sync.store import Line, Rma
    from terminal.inspection import Draft
    from terminal.scanning.item import ItemCode

    general = load_library(standard_folder()).checklists["general"]
    line = Line(1, "GEN-1", GTIN, "瑜伽垫", 1, "general")
    draft = Draft(
        Rma("RMA-1", "", "张伟", "", "authorized", "received", lines=(line,)),
        line,
        general,
        ItemCode(GTIN, "0" + GTIN),
        language=language,
    )
    for item in general.items:
        if item.kind.judged:
            draft.pass_current()
    payload = draft.to_inspection(Disposition.RESELLABLE).payload(line, 1, "2026-12-01T12:00:00.000+00:00", "")
    assert payload["checklist"].get("language", "") == shown


def test_the_suggestion_reads_in_chinese_and_is_recorded_in_english():
    from qc_checklists import Disposition
    from sync.store import Line, Rma
    from terminal import i18n
    from terminal.inspection import Draft
    from terminal.scanning.item import ItemCode

    i18n.use("zh-CN")
    general = load_library(standard_folder()).checklists["general"]
    line = Line(1, "GEN-1", GTIN, "瑜伽垫", 1, "general")
    rma = Rma("RMA-1", "", "张伟", "", "authorized", "received", lines=(line,))
    draft = Draft(rma, line, general, ItemCode(GTIN, "0" + GTIN), language="zh-CN")
    for item in general.items:
        if item.kind.judged:
            draft.pass_current()
    assert draft.suggestion(for_people=True).why == ("所有检查均合格",)
    assert draft.to_inspection(Disposition.RESELLABLE).why == ("every check passed",)  # what reports group by

    failing = Draft(rma, line, general, ItemCode(GTIN, "0" + GTIN), language="zh-CN")
    critical = next(i for i in general.items if i.kind.judged and i.severity and i.severity.value == "critical")
    for item in general.items:
        if item.kind.judged:
            failing.fail_current() if item is critical else failing.pass_current()
    shown = " ".join(failing.suggestion(for_people=True).why)
    recorded = "; ".join(failing.to_inspection(Disposition.SCRAPPED, reason="x").why)
    assert not re.search(r"\b(fail|fails|any|critical)\b", shown), shown
    assert "fail" in recorded
