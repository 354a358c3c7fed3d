"""The header's day starts at local midnight; event times are UTC (terminal.today)."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pytest

from sync.store import Store
from terminal.today import Totals, header_totals, start_of_day, with_totals
from tests.conftest import add_rma


@pytest.fixture
def berlin():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_the_day_starts_at_local_midnight_in_utc(berlin):
    assert start_of_day(date(2026, 1, 15)) == "2026-01-14T23:00:00.000+00:00"  # CET, UTC+1
    assert start_of_day(date(2026, 7, 15)) == "2026-07-14T22:00:00.000+00:00"  # CEST, UTC+2
    # the clocks go forward at 02:00 on 29 March: that day's midnight is still winter time
    assert start_of_day(date(2026, 3, 29)) == "2026-03-28T23:00:00.000+00:00"
    assert start_of_day(date(2026, 3, 30)) == "2026-03-29T22:00:00.000+00:00"


def test_today_is_the_default():
    midnight = datetime.fromisoformat(start_of_day()).astimezone()
    assert midnight.date() == date.today() and (midnight.hour, midnight.minute) == (0, 0)
    assert datetime.fromisoformat(start_of_day()).tzinfo == UTC


def test_totals_count_this_stations_day_and_what_is_unsent(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
        add_rma(store, "RMA-2")
        assert header_totals(store, "bench-1") == Totals(0, {})
        receipt, totals = with_totals(lambda s: s.receive("RMA-1", "bench-1", "anna"), "bench-1")(store)
        assert receipt.rma.code == "RMA-1" and totals == Totals(1, {"received": 1})
        store.receive("RMA-2", "bench-2", "ben")  # another station's receipt: unsent here, not counted
        store.receive("NOT-AN-RMA-9", "bench-1", "anna")
        assert header_totals(store, "bench-1") == Totals(3, {"received": 1, "unexpected": 1})
        assert header_totals(store, "bench-1", day=date(2000, 1, 1)).today == {"received": 1, "unexpected": 1}
        assert header_totals(store, "bench-1", day=date(2999, 1, 1)).today == {}
