"""One disposition vocabulary: qc_checklists.Disposition is the source, every copy says the same.

labels and sync may not import qc_checklists (see [tool.importlinter] in pyproject.toml),
so each keeps its own spelling; these tests are what keeps the copies equal.
"""

from __future__ import annotations

import re
import sqlite3

from labels import DISPOSITIONS as LABEL_DISPOSITIONS
from qc_checklists import Disposition
from sync.store import DISPOSITIONS as STORE_DISPOSITIONS
from sync.store import Store
from terminal.scanning import COMMANDS

SOURCE = tuple(d.value for d in Disposition)


def test_the_source_is_the_three_grades_best_first():
    assert SOURCE == ("resellable", "discounted", "scrapped")
    assert [d.rank for d in Disposition] == [0, 1, 2]


def test_labels_print_the_same_dispositions_in_capitals():
    assert tuple(value.upper() for value in SOURCE) == LABEL_DISPOSITIONS


def test_the_store_accepts_the_same_dispositions():
    assert STORE_DISPOSITIONS == SOURCE


def test_the_store_schema_checks_the_same_dispositions(tmp_path):
    path = tmp_path / "station.db"
    with Store(path):
        pass  # creates the schema with every migration
    with sqlite3.connect(path) as conn:
        (schema,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'inspections'").fetchone()
    checks = re.findall(r"CHECK \((\w+) IN \(([^)]*)\)\)", schema)
    assert {column for column, _ in checks} >= {"suggested", "final"}, schema
    for column, values in checks:
        if column in ("suggested", "final"):
            assert tuple(re.findall(r"'(\w+)'", values)) == SOURCE, (column, values)


def test_every_disposition_has_its_command_barcode():
    assert set(LABEL_DISPOSITIONS) <= set(COMMANDS)
