"""One channel vocabulary: qc_checklists.Channel is the source; the store's copy and its CHECK say the same."""

from __future__ import annotations

import re
import sqlite3

from qc_checklists import Channel
from sync.store import CHANNELS, Store

SOURCE = tuple(c.value for c in Channel)


def test_the_source_is_the_seven_channels():
    assert SOURCE == ("restock", "b_stock", "refurbish", "return_to_vendor", "donate", "recycle", "destroy")


def test_the_store_accepts_the_same_channels():
    assert CHANNELS == SOURCE


def test_the_store_schema_checks_the_same_channels(tmp_path):
    path = tmp_path / "station.db"
    with Store(path):
        pass
    with sqlite3.connect(path) as conn:
        (schema,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'inspections'").fetchone()
    checks = dict(re.findall(r"CHECK \((\w*channel) IN \(([^)]*)\)\)", schema))
    assert set(checks) == {"channel", "suggested_channel"}, schema
    for values in checks.values():
        assert tuple(re.findall(r"'(\w*)'", values)) == ("", *SOURCE)
