"""The rule engine: findings in, suggested disposition and why out (table-driven)."""

from __future__ import annotations

import pytest

from qc_checklists import AnswerError, Disposition, check_text, load_library, suggest

R, D, S = Disposition.RESELLABLE, Disposition.DISCOUNTED, Disposition.SCRAPPED

# A checklist with the default rules: any critical -> scrapped; any major or more than 2 minor -> discounted.
DEFAULTS, _ = check_text("""\
checklist: bench
items:
  - {id: powers_on, kind: pass_fail, severity: critical, prompt: Powers on}
  - {id: stains, kind: pass_fail, severity: major, prompt: No stains}
  - {id: tags, kind: pass_fail, severity: minor, prompt: Tags attached}
  - {id: box, kind: pass_fail, severity: minor, prompt: Box intact}
  - {id: manual, kind: pass_fail, severity: minor, prompt: Manual present}
  - {id: extras, kind: choice, severity: minor, prompt: Accessories,
     choices: {complete: pass, cable missing: fail, charger missing: major, unit missing: critical}}
  - {id: battery, kind: measurement, severity: major, prompt: Battery health, unit: "%", min: 80, max: 100,
     optional: true}
  - {id: remarks, kind: note, prompt: Remarks}
""")
# The same items, with a file's own rules.
CUSTOM, _ = check_text("""\
checklist: bench
items:
  - {id: powers_on, kind: pass_fail, severity: critical, prompt: Powers on}
  - {id: stains, kind: pass_fail, severity: major, prompt: No stains}
  - {id: tags, kind: pass_fail, severity: minor, prompt: Tags attached}
  - {id: seal, kind: pass_fail, severity: minor, prompt: Seal intact}
rules:
  - {then: scrapped, any_failed: [seal], because: hygiene product opened}
  - {then: discounted, minor_fails_at_least: 1}
""")
ALL_PASS = {
    "powers_on": "pass",
    "stains": "pass",
    "tags": "pass",
    "box": "pass",
    "manual": "pass",
    "extras": "complete",
    "battery": 95,
}


def answers(**changes):
    return {**ALL_PASS, **changes}


@pytest.mark.parametrize(
    "given, expected, why",
    [
        (answers(), R, "every check passed"),
        (answers(battery="n/a"), R, "every check passed"),
        (answers(tags="fail"), R, "1 fail(s) below every rule's threshold: tags"),
        (answers(tags="fail", box="fail"), R, "below every rule's threshold"),
        (answers(tags="fail", box="fail", manual="fail"), D, "more than 2 minor fails: tags, box, manual"),
        (answers(extras="cable missing", tags="fail", box="fail"), D, "more than 2 minor fails: tags, box, extras"),
        (answers(stains="fail"), D, "any major fail: stains"),
        (answers(extras="charger missing"), D, "any major fail: extras: charger missing"),
        (answers(battery=79.5), D, "any major fail: battery 79.5 % (limits 80–100 %)"),
        (answers(battery=80), R, "every check passed"),
        (answers(battery=100.1), D, "battery 100.1 %"),
        (answers(powers_on="fail"), S, "any critical fail: powers_on"),
        (answers(powers_on="fail", stains="fail", tags="fail"), S, "any critical fail: powers_on"),
        (answers(extras="unit missing"), S, "any critical fail: extras: unit missing"),
    ],
)
def test_default_rules(given, expected, why):
    result = suggest(DEFAULTS, given)
    assert result.disposition == expected
    assert any(why in w for w in result.why), result.why
    assert not result.unanswered  # complete


@pytest.mark.parametrize(
    "given, expected, why",
    [
        ({"powers_on": "pass", "stains": "pass", "tags": "pass", "seal": "pass"}, R, "every check passed"),
        ({"powers_on": "pass", "stains": "pass", "tags": "fail", "seal": "pass"}, D, "any minor fail: tags"),
        ({"powers_on": "pass", "stains": "pass", "tags": "pass", "seal": "fail"}, S, "hygiene product opened: seal"),
        # a file's rules replace the defaults: a critical fail names no rule here
        ({"powers_on": "fail", "stains": "fail", "tags": "pass", "seal": "pass"}, R, "2 fail(s) below"),
    ],
)
def test_a_files_own_rules(given, expected, why):
    result = suggest(CUSTOM, given)
    assert result.disposition == expected
    assert any(why in w for w in result.why), result.why


def test_the_worst_matching_rule_wins_whatever_the_order():
    reordered, problems = check_text("""\
checklist: bench
items:
  - {id: a, kind: pass_fail, severity: minor, prompt: A}
rules:
  - {then: discounted, minor_fails_at_least: 1}
  - {then: scrapped, any_failed: [a]}
""")
    assert problems == []
    assert suggest(reordered, {"a": "fail"}).disposition == S


def test_unanswered_items_are_listed_and_count_as_not_failed():
    result = suggest(DEFAULTS, {"stains": "fail"})
    assert result.disposition == D
    assert result.unanswered  # not complete
    # optional measurement and the note are not required
    assert result.unanswered == ("powers_on", "tags", "box", "manual", "extras")


@pytest.mark.parametrize(
    "given",
    [
        {"powers_on": "maybe"},
        {"extras": "half"},
        {"battery": "high"},
        {"ghost": "pass"},
        {"powers_on": "n/a"},
    ],
)
def test_answers_that_do_not_fit_are_refused(given):
    with pytest.raises(AnswerError):
        suggest(DEFAULTS, given)


def test_measurement_reading():
    battery = DEFAULTS.item("battery")
    assert battery.read_measurement(" 87,5 ") == (87.5, "")
    assert battery.read_measurement("91%") == (91.0, "")
    value, problem = battery.read_measurement("abc")
    assert value is None and problem == "'abc' is not a number — type the reading, e.g. 90%"
    assert battery.read_measurement("nan")[0] is None


def test_standard_electronics_rules():
    electronics = load_library().checklists["consumer_electronics"]
    opened_only = {i.id: "pass" for i in electronics.items if i.kind.value == "pass_fail"}
    opened_only.update(
        factory_seal="opened",
        display="no display or flawless",
        housing="as new",
        accessories="complete",
        battery_health=92,
    )
    assert suggest(electronics, opened_only).disposition == R
    second = {**opened_only, "accessories": "manual or small part missing"}
    result = suggest(electronics, second)
    assert result.disposition == D and "an opened device with a second defect" in result.why[0]
