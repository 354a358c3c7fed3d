"""Shared fixtures: real SQLite files in tmp dirs."""

from __future__ import annotations

import pytest

from sync.store import Store


@pytest.fixture
def db_path(tmp_path):
    """A path for a fresh station database."""
    return tmp_path / "station.db"


@pytest.fixture
def store(db_path):
    """An open, migrated, empty station database on a real file."""
    with Store(db_path) as s:
        yield s
