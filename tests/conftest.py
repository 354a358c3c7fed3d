"""Shared fixtures: real SQLite files in tmp dirs, a station app on them."""

from __future__ import annotations

import asyncio
import os

import pytest

from sync.store import Store
from terminal import i18n
from terminal.config import Settings

# Tests read English unless they choose otherwise, whatever the machine's locale says; a command
# started by a test inherits this. (A station.toml or --language in a test still wins.)
os.environ.pop(i18n.LANGUAGE_ENV, None)
os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def english_again():
    """A test that switches the language leaves the next one in English."""
    yield
    if i18n.current() != "en":
        i18n.use("en")


@pytest.fixture
def db_path(tmp_path):
    """A path for a fresh station database."""
    return tmp_path / "station.db"


@pytest.fixture
def store(db_path):
    """An open, migrated, empty station database on a real file."""
    with Store(db_path) as s:
        yield s


def add_rma(
    store: Store,
    code: str,
    *,
    status: str = "authorized",
    customer: str = "Eva Jensen",
    order_ref: str = "",
    tracking: tuple[str, ...] = (),
    lines: list[dict] | None = None,
    reason: str = "wrong size",
) -> None:
    """Put one expected RMA into the replica, as an import or a sync would."""
    lines = lines or [
        {"sku": "APP-1001", "gtin": "4006381333931", "description": "Rain jacket", "qty": 1, "category": "apparel"}
    ]
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {"rma_code": code, "order_ref": order_ref, "customer_name": customer, "reason": reason, "status": status},
            lines,
            tracking,
        )


@pytest.fixture
def settings(db_path):
    """Station settings pointing at the test database."""
    return Settings(station="bench-t", db=str(db_path), sources={"db": "flag", "station": "flag"})


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (a hang guard, not a speed check)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.02)


def scanner_burst(app, text: str) -> None:
    """What a handheld scanner does: the whole code and Enter at once, as the terminal delivers them.

    (Pilot.press waits for the app to go idle after every key, which is a
    person's pace, not a scanner's.)
    """
    from textual import events

    from terminal.scanning.keyboard import key_event

    for ch in text:
        app.post_message(key_event(ch))
    app.post_message(events.Key("enter", "\r"))


def post_scan(app, text: str, source: str = "wedge") -> None:
    """A scan as any source delivers it: one Scanned message to the app (works whatever has focus)."""
    from terminal.messages import Scanned
    from terminal.scanning import read_scan

    app.post_message(Scanned(read_scan(text, source)))
