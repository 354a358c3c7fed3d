"""The validator: every class of problem, reported as file:line: reason."""

from __future__ import annotations

import textwrap

import pytest

from qc_checklists import ChecklistInvalid, check_file, load_checklist, load_library, standard_folder
from qc_checklists.library import ChecklistUnavailable
from qc_checklists.loader import MAX_BYTES, MAX_ITEMS

GOOD = """\
checklist: gadgets
title: Gadgets
items:
  - id: powers_on
    kind: pass_fail
    severity: critical
    prompt: Powers on
  - id: housing
    kind: choice
    severity: minor
    prompt: Housing
    choices:
      as new: pass
      scratched: fail
  - id: battery
    kind: measurement
    severity: major
    prompt: Battery health
    unit: "%"
    min: 80
    max: 100
  - id: remarks
    kind: note
    prompt: Remarks
rules:
  - then: scrapped
    any_failed: [powers_on]
"""


def problems_of(tmp_path, text: str, name: str = "gadgets.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    checklist, problems = check_file(path)
    assert (checklist is None) == bool(problems)  # never half a checklist
    return [str(p).removeprefix(str(path) + ":") for p in problems]


def edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def test_the_good_file_is_valid(tmp_path):
    assert problems_of(tmp_path, GOOD) == []
    checklist = load_checklist(tmp_path / "gadgets.yaml")
    assert [i.id for i in checklist.items] == ["powers_on", "housing", "battery", "remarks"]
    assert checklist.items[2].min == 80 and checklist.items[2].max == 100 and checklist.items[2].unit == "%"
    assert len(checklist.rules) == 1 and not checklist.rules_are_default


@pytest.mark.parametrize(
    "text, expected",
    [
        # (file text, the one problem expected as "line: reason" fragment)
        (edit("kind: pass_fail", "kind: yes_no"), "5: unknown kind 'yes_no'"),
        (edit("  - id: housing", "  - id: powers_on"), "8: duplicate item id 'powers_on' (first on line 4)"),
        (edit("    prompt: Powers on\n", ""), "4: missing 'prompt'"),
        (edit("    prompt: Powers on\n", "    prompt: ''\n"), "7: 'prompt' must be text"),
        (edit("any_failed: [powers_on]", "any_failed: [power_on]"), "27: rule names unknown item 'power_on'"),
        (edit("any_failed: [powers_on]", "any_failed: [remarks]"), "27: rule names 'remarks', a note item"),
        (edit("min: 80\n    max: 100", "min: 100\n    max: 80"), "20: limits reversed: min 100 is above max 80"),
        (edit("    min: 80\n    max: 100\n", ""), "15: a measurement needs limits"),
        (edit("max: 100", "max: lots"), "21: 'max' must be a number, not 'lots'"),
        (edit("severity: critical", "severity: fatal"), "6: unknown severity 'fatal'"),
        (edit("    severity: critical\n", ""), "4: missing 'severity' for pass_fail item"),
        (edit("checklist: gadgets", "checklist: gizmos"), "1: checklist 'gizmos' is in a file named 'gadgets'"),
        (edit("checklist: gadgets", "checklist: Gadgets!"), "1: checklist id 'Gadgets!' must be lower-case"),
        (edit("title: Gadgets", "titel: Gadgets"), "2: unknown key 'titel'"),
        (edit("    prompt: Powers on", "    prompt: Powers on\n    colour: red"), "8: unknown item key 'colour'"),
        (edit("      scratched: fail", "      scratched: meh"), "14: choice 'scratched' must be pass, fail"),
        (edit("      as new: pass", "      as new: fail"), "12: no choice passes"),
        (edit("      as new: pass\n      scratched: fail", "      as new: pass"), "12: 'choices' must list at least 2"),
        (edit("    kind: pass_fail", "    kind: pass_fail\n    unit: V"), "6: 'unit' belongs to measurement items"),
        (
            edit(
                "  - id: remarks\n    kind: note", "  - id: remarks\n    kind: note\n    photo_required_on_fail: true"
            ),
            "24: a note item never fails",
        ),
        (
            edit("    prompt: Powers on", "    prompt: Powers on\n    photo_required_on_fail: maybe"),
            "8: 'photo_required_on_fail' must be true or false",
        ),
        (
            edit(
                "  - then: scrapped\n    any_failed: [powers_on]", "  - then: resellable\n    any_failed: [powers_on]"
            ),
            "26: 'then: resellable' is not a rule",
        ),
        (
            edit("  - then: scrapped\n    any_failed: [powers_on]", "  - then: binned\n    any_failed: [powers_on]"),
            "26: unknown disposition 'binned'",
        ),
        (
            edit("    any_failed: [powers_on]", "    any_failed: [powers_on]\n    major_fails_at_least: 1"),
            "26: a rule has exactly one condition, not 2",
        ),
        (
            edit("    any_failed: [powers_on]", "    because: no condition"),
            "26: a rule has exactly one condition: one of",
        ),
        (
            edit("    any_failed: [powers_on]", "    minor_fails_at_least: 0"),
            "27: 'minor_fails_at_least' must be a whole",
        ),
        (
            edit("    any_failed: [powers_on]", "    any_failed: [powers_on]\n    when: always"),
            "28: unknown rule key 'when'",
        ),
        (edit("title: Gadgets", "title: Gadgets\ntitle: Gizmos"), "3: duplicate key 'title' (first on line 2)"),
        (edit("title: Gadgets", "version: two"), "2: version must be a whole number"),
        (edit("    prompt: Powers on", "    prompt: [Powers on"), "not valid YAML"),
        (edit("    prompt: Powers on", "    prompt: " + "x" * 201), "7: 'prompt' is 201 characters long"),
        (edit("items:\n", "items: &all\n") + "extra: *all\n", "aliases (*name) are not allowed"),
        ("checklist: gadgets\nitems: []\n", "2: 'items' must be a list of checks"),
        ("- just\n- a list\n", "1: a checklist is a set of 'key: value' lines"),
        ("checklist: gadgets\n---\nchecklist: gadgets\n", "1: a checklist file holds one document, not 2"),
        ("", "1: file is empty"),
        ("# only a comment\n\n", "1: file is empty"),
        ("checklist: gadgets\nitems: " + "[" * 5000 + "]" * 5000 + "\n", "1: values nested too deeply"),
    ],
)
def test_each_problem_is_reported_with_its_line(tmp_path, text, expected):
    found = problems_of(tmp_path, text)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    text = edit("kind: pass_fail", "kind: yes_no")
    text = text.replace("min: 80\n    max: 100", "min: 100\n    max: 80").replace("[powers_on]", "[ghost]")
    found = problems_of(tmp_path, text)
    assert [p.split(":")[0] for p in found] == ["5", "20", "27"], found


def test_an_invalid_item_is_not_also_reported_as_unknown_in_rules(tmp_path):
    found = problems_of(tmp_path, edit("kind: pass_fail", "kind: yes_no"))
    assert len(found) == 1 and "unknown kind" in found[0]


def test_problem_lines_name_the_file(tmp_path):
    path = tmp_path / "gadgets.yaml"
    path.write_text(edit("kind: pass_fail", "kind: yes_no"), encoding="utf-8")
    with pytest.raises(ChecklistInvalid) as caught:
        load_checklist(path)
    assert str(caught.value).startswith(f"{path}:5: unknown kind")


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "gadgets.yaml"
    path.write_text(GOOD + "#" * MAX_BYTES, encoding="utf-8")
    _, problems = check_file(path)
    assert len(problems) == 1 and "too large" in problems[0].reason


def test_too_many_items(tmp_path):
    many = "".join(
        f"  - id: check_{n}\n    kind: pass_fail\n    severity: minor\n    prompt: Check {n}\n"
        for n in range(MAX_ITEMS + 1)
    )
    found = problems_of(tmp_path, f"checklist: gadgets\nitems:\n{many}")
    assert found == [f"2: {MAX_ITEMS + 1} items; a checklist may have at most {MAX_ITEMS}"]


def test_not_utf8(tmp_path):
    path = tmp_path / "gadgets.yaml"
    path.write_bytes(GOOD.encode() + b"  - id: caf\xe9\n")
    _, problems = check_file(path)
    assert [(p.line, p.reason) for p in problems] == [(28, "not UTF-8 text; save the file as UTF-8")]


def test_missing_file_and_folder(tmp_path):
    assert "no such file" in check_file(tmp_path / "nope.yaml")[1][0].reason
    assert "folder" in check_file(tmp_path)[1][0].reason


def test_content_hash_ignores_comments_and_layout_but_not_content(tmp_path):
    a = tmp_path / "a" / "gadgets.yaml"
    b = tmp_path / "b" / "gadgets.yaml"
    c = tmp_path / "c" / "gadgets.yaml"
    for p in (a, b, c):
        p.parent.mkdir()
    a.write_text(GOOD)
    b.write_text("# a comment\n" + GOOD.replace("prompt: Powers on", "prompt:   'Powers on'"))
    c.write_text(GOOD.replace("min: 80", "min: 85"))
    ha, hb, hc = (load_checklist(p).content_hash for p in (a, b, c))
    assert ha == hb != hc
    assert len(ha) == 64


def test_the_standard_checklists_are_valid_and_real():
    library = load_library()
    assert library.problems == []
    assert set(library.checklists) >= {"apparel", "footwear", "consumer_electronics", "small_appliances", "general"}
    for checklist in library.checklists.values():
        assert 6 <= len(checklist.items) <= 15, checklist.id
        assert any(i.photo_required_on_fail for i in checklist.items), checklist.id
    assert library.folder == standard_folder()


def test_library_refuses_an_invalid_category_instead_of_falling_back(tmp_path):
    (tmp_path / "general.yaml").write_text((standard_folder() / "general.yaml").read_text())
    (tmp_path / "gadgets.yaml").write_text(edit("kind: pass_fail", "kind: yes_no"))
    library = load_library(tmp_path)
    assert library.for_category("toys").id == "general"  # no file of its own: the fallback
    with pytest.raises(ChecklistUnavailable) as caught:
        library.for_category("gadgets")
    assert "checklist 'gadgets'" in str(caught.value) and "gadgets.yaml:5: unknown kind" in str(caught.value)


def test_library_without_a_valid_general(tmp_path):
    (tmp_path / "general.yaml").write_text("checklist: general\n")
    with pytest.raises(ChecklistUnavailable) as caught:
        load_library(tmp_path).for_category("toys")
    assert "'general' (used for 'toys'" in str(caught.value)
