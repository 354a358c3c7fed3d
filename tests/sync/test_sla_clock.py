"""SLA clocks (issue 12 part 1): limits per step and category, working hours, and the sla.yaml problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.sla import DEFAULT_POLICY, DUE_SOON, ON_TIME, OVERDUE, PolicyError, load_policy, read_policy

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday


def test_the_default_limits_give_due_times_and_states():
    clock = DEFAULT_POLICY.clock("receive", START, ["general"])
    assert clock.due_at == START + timedelta(days=14)
    assert clock.state(START + timedelta(days=10)) == ON_TIME
    assert clock.state(START + timedelta(days=11)) == DUE_SOON  # the last quarter of 14 days
    assert clock.state(START + timedelta(days=14)) == OVERDUE
    assert clock.age_hours(START + timedelta(hours=30)) == 30
    assert DEFAULT_POLICY.clock("inspect", START).due_at == START + timedelta(hours=24)
    assert DEFAULT_POLICY.clock("put_away", START).due_at == START + timedelta(hours=8)


def test_a_category_limit_applies_and_an_rma_of_several_categories_takes_the_strictest():
    policy = read_policy(
        "categories:\n  consumer_electronics:\n    inspect: 12 hours\n  apparel:\n    inspect: 2d\n    receive: 30\n"
    )
    assert policy.clock("inspect", START, ["apparel"]).due_at == START + timedelta(days=2)
    both = policy.clock("inspect", START, ["apparel", "consumer_electronics", "footwear"])
    assert (both.due_at, both.category) == (START + timedelta(hours=12), "consumer_electronics")
    assert policy.clock("receive", START, ["apparel"]).due_at == START + timedelta(days=30)  # a bare number: days
    # a category the file does not name has the default limit
    assert policy.clock("inspect", START, ["footwear"]).due_at == START + timedelta(hours=24)


def test_working_hours_skip_nights_weekends_and_holidays():
    policy = read_policy(
        "working_hours:\n"
        "  timezone: Asia/Shanghai\n"
        "  days: [mon, tue, wed, thu, fri]\n"
        '  from: "08:00"\n'
        '  to: "18:00"\n'
        "  holidays: [2026-11-23]\n"
        "limits:\n  inspect: 4 hours\n  put_away: 2 days\n  receive: 1 day\n"
    )
    friday_five_pm = datetime(2026, 11, 20, 17, 0, tzinfo=policy.calendar.zone)
    # one hour on Friday, Monday is a holiday, three hours on Tuesday morning
    assert policy.clock("inspect", friday_five_pm).due_at == datetime(2026, 11, 24, 11, 0, tzinfo=policy.calendar.zone)
    # two working days of 10 hours: Friday's hour, Tuesday's ten, nine of Wednesday's
    assert policy.clock("put_away", friday_five_pm).due_at == datetime(2026, 11, 25, 17, 0, tzinfo=policy.calendar.zone)
    # the receive step is not among working_hours' steps (the default is inspect and put_away): around the clock
    assert policy.clock("receive", friday_five_pm).due_at == friday_five_pm + timedelta(days=1)
    late = datetime(2026, 11, 20, 23, 30, tzinfo=policy.calendar.zone)  # after hours: the clock starts Tuesday 08:00
    assert policy.clock("inspect", late).due_at == datetime(2026, 11, 24, 12, 0, tzinfo=policy.calendar.zone)
    assert policy.calendar.between(friday_five_pm, datetime(2026, 11, 24, 9, 0, tzinfo=policy.calendar.zone)) == 2.0


def test_every_problem_of_a_file_is_reported_with_its_line(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(
        "version: 1\n"
        "limits:\n"
        "  inspect: soon\n"  # 3
        "  pack: 2 hours\n"  # 4
        "working_hours:\n"
        "  timezone: Mars/Olympus\n"  # 6
        "  days: [mon, funday]\n"  # 7
        "due_soon: 150%\n"  # 8
        "colour: red\n",  # 9
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    lines = [p.split(": ", 1)[0] for p in refused.value.problems]
    assert lines == [f"{path}:{n}" for n in (3, 4, 6, 7, 8, 9)], refused.value.problems
    assert "'soon' is not a limit for inspect" in refused.value.problems[0]
    with pytest.raises(PolicyError) as unreadable:
        read_policy("limits: [\n", "broken.yaml")
    assert unreadable.value.problems[0].startswith("broken.yaml:")
