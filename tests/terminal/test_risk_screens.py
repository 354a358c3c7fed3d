"""The server's risk flag, pulled like any RMA, is shown to the clerk at receiving and to the inspector."""

from __future__ import annotations

from sync.store import Store
from terminal.app import make_app
from tests.conftest import scanner_burst, wait_until
from tests.terminal.test_inspect_screen import folder, open_bench  # noqa: F401  (fixtures)
from tests.terminal.test_receive_screen import banner, handled

FLAGGED = {
    "kind": "rma",
    "cursor": 1,
    "rma": {
        "rma_code": "RMA-77",
        "customer_name": "Wang Fang",
        "status": "authorized",
        "reason": "defective",
        "lines": [{"sku": "GEN-1", "gtin": "4006381333931", "qty": 1, "category": "general"}],
        "tracking_numbers": [],
        "risk": {"returns_30d": 3, "mismatches": 1},
    },
}


def _pulled(settings, *changes) -> None:
    with Store(settings.db) as store:
        with store.write() as conn:
            store.apply_changes(conn, changes)
        store.add_operator("anna", "Anna Schmidt", "supervisor")


async def test_a_flagged_return_says_inspect_fully_at_receiving_and_at_inspection(settings, folder):  # noqa: F811
    _pulled(settings, FLAGGED)
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        scanner_burst(app, "RMA-77")
        await pilot.pause()
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "RECEIVED"
        assert "Inspect fully: 3 returns in 30 days, 1 earlier mismatch" in " ".join(text.split())
    bench_app = make_app(settings, operator="anna")
    async with bench_app.run_test(size=(80, 24)) as pilot:
        bench = await open_bench(bench_app, pilot, folder)
        await bench.type_scan("RMA-77")
        assert "Inspect fully: 3 returns in 30 days" in " ".join(bench.text("#banner").split())


async def test_a_return_sent_again_without_a_flag_loses_it(settings, folder):  # noqa: F811
    unflagged = {k: v for k, v in FLAGGED["rma"].items() if k not in ("risk", "customer")}  # as the server sends it
    _pulled(settings, FLAGGED, {**FLAGGED, "cursor": 2, "rma": unflagged})
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        scanner_burst(app, "RMA-77")
        await pilot.pause()
        await handled(pilot, app, 1)
        assert "Inspect fully" not in banner(app)[1]
