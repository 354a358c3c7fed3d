"""At 80×24 the footer leaves out the keys that do nothing now, so the working keys fit: the put-away screen's
footer had cut the backlog key and more, and every screen showed F2 and F3 and its own key."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from sync.store import Store
from terminal.app import make_app
from tests.conftest import wait_until


def shown_keys(app) -> dict[str, int]:
    """Each key the footer shows, with the column just after it."""
    return {k.key: k.region.right for k in app.screen.query(FooterKey) if k.region.width}


@pytest.mark.parametrize("key, own", [("f6", "f6"), ("f7", "f7"), ("f12", "f12")])
async def test_each_screen_shows_the_backlog_key_within_80_columns_and_not_its_own_key(settings, db_path, key, own):
    with Store(db_path) as store:
        store.add_operator("anna", "Anna Schmidt", "supervisor")
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        await pilot.press(key)
        await wait_until(pilot, lambda: own not in shown_keys(app) and "f11" in shown_keys(app))
        keys = shown_keys(app)
        assert keys["f11"] <= 80 and keys["f3"] <= 80
        assert "f2" not in keys  # someone is signed in: F3 signs out (F2 still works: a badge signs the next in)


async def test_f2_shows_until_someone_signs_in_and_f3_after(settings, db_path):
    with Store(db_path) as store:
        store.add_operator("anna", "Anna Schmidt", "supervisor")
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "f2" in shown_keys(app))
        assert "f3" not in shown_keys(app)
        app.sign_in("anna")
        await wait_until(pilot, lambda: app.operator == "anna" and "f3" in shown_keys(app))
        assert "f2" not in shown_keys(app)
