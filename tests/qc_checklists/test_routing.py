"""Routing rules: the file format, its file:line problems, and first-match-wins routing."""

from __future__ import annotations

import textwrap

import pytest

from qc_checklists import Disposition, load_library
from qc_checklists.routing import Channel, Facts, route
from qc_checklists.routing_loader import (
    RoutingInvalid,
    check_routing_file,
    check_routing_text,
    load_routing,
    standard_routing_file,
)

GOOD = """\
routing: site
version: 2
bins:
  b_stock: OUTLET-1
rules:
  - then: destroy
    failed: [battery_swelling]
    because: fire risk
  - then: return_to_vendor
    grade: scrapped
    category: consumer_electronics
    reason: [DOA, dead on arrival]
  - then: donate
    grade: discounted
    reason_contains: 尺码
    value_below: 15
  - then: refurbish
    grade: discounted
    value_at_least: 200
    bin: BENCH-R
  - then: b_stock
    grade: discounted
    passed: [powers_on, serial_matches]
default: recycle
"""


def rules_of(text: str = GOOD, **kw):
    rules, problems = check_routing_text(textwrap.dedent(text), "site.yaml", **kw)
    assert problems == [], [str(p) for p in problems]
    return rules


def problems_of(text: str, checklists=None) -> list[str]:
    rules, problems = check_routing_text(textwrap.dedent(text), "site.yaml", checklists)
    assert (rules is None) == bool(problems)  # never half a rule set
    return [str(p).removeprefix("site.yaml:") for p in problems]


def facts(grade="discounted", **kw) -> Facts:
    return Facts(Disposition(grade), **kw)


def test_the_standard_rules_are_valid_against_the_standard_checklists():
    library = load_library()
    rules, problems = check_routing_file(standard_routing_file(), library.checklists)
    assert problems == [], [str(p) for p in problems]
    assert rules.id == "standard" and rules.default == Channel.RECYCLE
    # the floor's ordinary cases
    assert route(rules, facts("resellable", category="apparel")).channel == Channel.RESTOCK
    assert route(rules, facts("discounted", category="apparel")).channel == Channel.B_STOCK
    assert route(rules, facts("scrapped", category="apparel")).channel == Channel.RECYCLE
    swollen = facts("scrapped", category="consumer_electronics", failed=frozenset({"battery_swelling"}))
    assert route(rules, swollen).channel == Channel.DESTROY
    faulty = facts("scrapped", category="consumer_electronics", reason="Defective: no sound")
    assert (route(rules, faulty).channel, route(rules, faulty).bin) == (Channel.RETURN_TO_VENDOR, "CLAIMS")


def test_first_matching_rule_wins_in_file_order():
    rules = rules_of()
    # discounted and worth 250: the refurbish rule (line 17) comes before b_stock (line 21)
    routed = route(rules, facts(value=250.0, passed=frozenset({"powers_on", "serial_matches"})))
    assert (routed.channel, routed.bin, routed.rule_line) == (Channel.REFURBISH, "BENCH-R", 17)
    # the same unit, worth 50: refurbish does not hold, b_stock does, and its bin comes from 'bins'
    routed = route(rules, facts(value=50.0, passed=frozenset({"powers_on", "serial_matches"})))
    assert (routed.channel, routed.bin, routed.rule_line) == (Channel.B_STOCK, "OUTLET-1", 21)
    # a failed battery decides before the grade is looked at
    assert route(rules, facts("resellable", failed=frozenset({"battery_swelling"}))).because == "fire risk"


def test_no_rule_matching_takes_the_default_and_its_bin_is_the_channel_name():
    routed = route(rules_of(), facts("scrapped", category="apparel"))
    assert (routed.channel, routed.bin, routed.rule_line) == (Channel.RECYCLE, "RECYCLE", 0)


def test_reason_matches_as_a_code_any_case_and_reason_contains_as_words():
    rules = rules_of()
    doa = facts("scrapped", category="consumer_electronics", reason="  Dead   on ARRIVAL ")
    assert route(rules, doa).channel == Channel.RETURN_TO_VENDOR
    assert route(rules, facts("scrapped", category="consumer_electronics", reason="DOA?")).channel == Channel.RECYCLE
    small = facts(reason="尺码太小", value=9.9)
    assert route(rules, small).channel == Channel.DONATE


def test_a_value_condition_never_matches_a_unit_of_unknown_value():
    rules = rules_of()
    assert route(rules, facts(reason="尺码太小")).channel == Channel.RECYCLE  # not donate: value unknown


def test_passed_needs_every_item_to_have_passed():
    rules = rules_of()
    assert route(rules, facts(passed=frozenset({"powers_on"}))).channel == Channel.RECYCLE
    assert route(rules, facts(passed=frozenset({"powers_on", "serial_matches"}))).channel == Channel.B_STOCK


def test_the_content_hash_ignores_comments_and_layout_but_not_a_rule():
    base = rules_of().content_hash
    assert rules_of("# a comment\n" + GOOD.replace("then: destroy", "then:   destroy")).content_hash == base
    assert rules_of(GOOD.replace("value_below: 15", "value_below: 16")).content_hash != base
    assert len(base) == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("default: recycle\n", ""), "1: missing 'default'"),
        (GOOD.replace("default: recycle", "default: landfill"), "24: unknown channel 'landfill'"),
        (GOOD.replace("then: donate", "then: sell"), "13: unknown channel 'sell'"),
        (GOOD.replace("grade: scrapped", "grade: broken"), "10: unknown grade 'broken'"),
        (GOOD.replace("    because: fire risk\n", "    becuase: fire risk\n"), "8: unknown rule key 'becuase'"),
        (GOOD.replace("value_below: 15", "value_below: cheap"), "16: 'value_below' must be a number"),
        (GOOD.replace("b_stock: OUTLET-1", "b_stock: " + "X" * 30), "4: bin 'XXXX"),
        (GOOD.replace("routing: site", "routing: Site Rules"), "1: 'routing' must be lower-case"),
        (GOOD.replace("  - then: b_stock\n", "  - grade: b_stock\n"), "21: unknown grade 'b_stock'"),
        (GOOD + "colour: red\n", "25: unknown key 'colour'"),
        ("", "1: file is empty"),
        ("routing: [unclosed\n", "2: not valid YAML"),
        (GOOD.replace("version: 2", "version: 0"), "2: version must be a whole number"),
        (GOOD.replace("routing: site", "routing: &a site\nalias: *a"), "1: aliases (*name) are not allowed"),
    ],
)
def test_every_problem_names_its_line(text, expected):
    found = problems_of(text)
    assert any(p.startswith(expected) for p in found), found


def test_a_rule_without_then_is_refused_with_its_line():
    found = problems_of(GOOD.replace("  - then: refurbish\n    grade: discounted\n", "  - grade: discounted\n"))
    assert any(p.startswith("17: a rule needs 'then'") for p in found), found


def test_item_ids_are_checked_against_the_checklists_when_given():
    library = load_library()
    text = GOOD.replace("failed: [battery_swelling]", "failed: [battery_swollen]")
    assert problems_of(text) == []  # alone, any well-formed id is accepted
    found = problems_of(text, library.checklists)
    assert found == ["7: rule names item 'battery_swollen', which is on no checklist"], found
    # passed items of a rule with a category must be on that category's checklist
    text = GOOD.replace("passed: [powers_on, serial_matches]", "passed: [stains]").replace(
        "  - then: b_stock\n    grade: discounted\n",
        "  - then: b_stock\n    grade: discounted\n    category: footwear\n",
    )
    found = problems_of(text, library.checklists)
    assert found == ["24: rule names item 'stains', which is on no checklist of footwear"], found
    found = problems_of(GOOD.replace("[battery_swelling]", "[remarks]"), library.checklists)
    assert found == ["7: rule names 'remarks', an item that never fails"], found


def test_load_routing_raises_with_every_problem(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(GOOD.replace("then: donate", "then: sell").replace("grade: scrapped", "grade: bad"), "utf-8")
    with pytest.raises(RoutingInvalid) as caught:
        load_routing(path)
    assert [p.line for p in caught.value.problems] == [10, 13]
    assert str(caught.value).startswith(f"{path}:10: ")
    missing, problems = check_routing_file(tmp_path / "nope.yaml")
    assert missing is None and str(problems[0]).endswith(":0: no such file")
