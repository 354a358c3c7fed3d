"""The inspector records whether the customer's stated reason held: one key (Y), on the event.

The checks a checklist marks ``tests_claim`` come first on the bench, so the
inspector tests the claim before the rest; the checklist's content hash stays
the file's.
"""

from __future__ import annotations

import shutil

import pytest

from qc_checklists import check_text, load_checklist, standard_folder
from terminal.app import make_app
from tests.terminal.test_inspect_screen import GADGET_GTIN, open_bench
from tests.terminal.test_inspect_screen import settings as settings

CLAIMED = (
    "checklist: gadgets\nitems:\n"
    "  - id: looks\n    kind: pass_fail\n    severity: minor\n    prompt: Looks as new\n"
    "  - id: powers_on\n    kind: pass_fail\n    severity: critical\n    prompt: Powers on\n    tests_claim: true\n"
    "  - id: remarks\n    kind: note\n    prompt: Remarks\n    optional: true\n"
)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "checklists"
    shutil.copytree(standard_folder(), folder)
    (folder / "gadgets.yaml").write_text(CLAIMED, encoding="utf-8")
    return folder


async def test_y_records_the_reason_confirmed_and_the_claim_check_comes_first(settings, folder):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(80, 24)) as pilot:
        bench = await open_bench(app, pilot, folder)
        await bench.type_scan("RMA-1")
        await bench.type_scan(GADGET_GTIN)
        draft = bench.screen.draft
        assert [i.id for i in draft.checklist.items] == ["powers_on", "looks", "remarks"]
        assert draft.current.id == "powers_on"
        assert "Y reason: not recorded" in bench.text("#suggestion")
        await bench.key("f")
        assert "Y reason: not recorded" in bench.text("#suggestion")
        await bench.key("y")
        assert "Y reason: confirmed" in bench.text("#suggestion")
        await bench.key("y", "y")
        assert "Y reason: can't tell" in bench.text("#suggestion")
        await bench.key("y", "y")  # round again: not recorded, confirmed
        assert "Y reason: confirmed" in bench.text("#suggestion")
        await bench.key("p", "enter")
        assert bench.word == "SCRAPPED"
        [event] = bench.events("item.inspected")
        assert event.payload["reason_confirmed"] == "yes"
        assert [a["item"] for a in event.payload["answers"]] == ["powers_on", "looks"]
        written = load_checklist(folder / "gadgets.yaml")
        assert event.payload["checklist"]["hash"] == written.content_hash
        assert [i.id for i in written.items] == ["looks", "powers_on", "remarks"]  # the file's order is kept


async def test_a_unit_saved_without_y_records_no_finding(settings, folder):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        bench = await open_bench(app, pilot, folder)
        await bench.type_scan("RMA-1")
        await bench.type_scan(GADGET_GTIN)
        await bench.key("p", "p", "enter")
        [event] = bench.events("item.inspected")
        assert event.payload["reason_confirmed"] is None


def test_tests_claim_is_validated_like_the_other_flags():
    bad = CLAIMED.replace("tests_claim: true", "tests_claim: maybe") + (
        "  - id: note2\n    kind: note\n    prompt: More\n    tests_claim: true\n"
    )
    checklist, found = check_text(bad, "gadgets.yaml")
    problems = [str(p) for p in found]
    assert checklist is None
    assert any(":11:" in p and "'tests_claim' must be true or false" in p for p in problems), problems
    assert any(":19:" in p and "cannot test the customer's claim" in p for p in problems), problems


def test_the_flag_is_content_but_a_checklist_without_it_keeps_its_hash():
    plain, _problems = check_text(CLAIMED.replace("    tests_claim: true\n", ""), "gadgets.yaml")
    marked, _problems = check_text(CLAIMED, "gadgets.yaml")
    assert plain.content_hash != marked.content_hash
    assert "tests_claim" not in str(plain.as_dict()) and marked.item("powers_on").tests_claim
