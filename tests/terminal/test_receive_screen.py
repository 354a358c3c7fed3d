"""The receive screen driven like a clerk would: keys and scanner bursts through Textual's Pilot."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sync.store import Store
from terminal.app import make_app
from terminal.screens.dialogs import Confirm, SupervisorApproval
from terminal.screens.receive import ReceiveScreen
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.status_bar import StatusBar
from tests.conftest import add_rma, post_scan, scanner_burst, wait_until


@pytest.fixture
def station_db(db_path):
    """A station database with a handful of expected returns."""
    with Store(db_path) as store:
        add_rma(
            store,
            "RMA-2026-000001",
            customer="Karin Larsen",
            order_ref="SO-100200",
            tracking=("1Z999AA10123456784",),
            reason="damaged in transit",
            lines=[
                {
                    "sku": "ELC-4711",
                    "gtin": "4006381333931",
                    "description": "Bluetooth speaker",
                    "qty": 1,
                    "category": "consumer_electronics",
                }
            ],
        )
        add_rma(store, "RMA-2026-000002", customer="Luca Rossi")
        add_rma(store, "RMA-2026-000003", customer="Maya Novak")
        add_rma(store, "RMA-2026-000004", customer="Pavel Horvat", status="cancelled")
        add_rma(store, "RMA-2026-000005", customer="Olga Silva", status="expired")
        store.add_operator("anna", "Anna Schmidt")
        store.add_operator("ben", "Ben Novak", "clerk")
        store.add_operator("sam", "Sam Okafor", "supervisor")
    return db_path


def banner(app) -> tuple[str, str]:
    widget = receive_screen(app).query_one(OutcomeBanner)
    return widget.word, str(widget.render())


def receive_screen(app) -> ReceiveScreen:
    return next(s for s in app.screen_stack if isinstance(s, ReceiveScreen))


async def scan(pilot, text: str) -> None:
    """A handheld scanner: the characters and Enter in one burst."""
    scanner_burst(pilot.app, text)
    await pilot.pause()


async def handled(pilot, app, n: int) -> None:
    await wait_until(pilot, lambda: receive_screen(app).handled >= n)


def events(db_path) -> list[tuple]:
    with Store(db_path) as store:
        return [(e.type, e.rma_code, e.station, e.operator) for e in store.events()]


async def test_received_shows_customer_order_lines_and_reason(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        await scan(pilot, "RMA-2026-000001")
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "RECEIVED"
        for shown in ("Karin Larsen", "SO-100200", "Bluetooth speaker", "damaged in transit"):
            assert shown in text
        await wait_until(pilot, lambda: app.screen.query_one(StatusBar).counts.get("received") == 1)
        bar = app.screen.query_one(StatusBar)
        assert bar.unsent == 2 and bar.operator == "anna"  # sign-in and receipt, both unsent
    assert ("rma.received", "RMA-2026-000001", "bench-t", "anna") in events(station_db)


async def test_every_outcome_is_distinct(settings, station_db):
    app = make_app(settings, operator="anna")
    seen = []
    async with app.run_test(size=(120, 40)) as pilot:
        for n, code in enumerate(
            [
                "]C0RMA-2026-000002",
                "rma-2026-000002",
                "NEVER-HEARD-OF-IT",
                "RMA-2026-000004",
                "RMA-2026-000005",
                "4006381333931",
            ],
            1,
        ):
            await scan(pilot, code)
            await handled(pilot, app, n)
            word, _text = banner(app)
            seen.append((word, app.screen.query_one(OutcomeBanner).classes))
        assert [w for w, _ in seen] == [
            "RECEIVED",
            "ALREADY RECEIVED",
            "NOT EXPECTED",
            "CANCELLED",
            "EXPIRED",
            "NOT AN RMA",
        ]
        colours = [next(iter(c)) for _, c in seen]
        assert colours == ["good", "warn", "bad", "bad", "bad", "info"]
    recorded = [t for t, *_ in events(station_db)]
    assert recorded.count("rma.received") == 1  # already received is not counted twice
    assert recorded.count("parcel.unexpected") == 1 and recorded.count("parcel.refused") == 2


async def test_already_received_says_when_where_and_by_whom(settings, station_db):
    with Store(station_db) as store:
        store.receive("RMA-2026-000003", "bench-9", "ben")
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000003")
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "ALREADY RECEIVED" and "bench-9" in text and " ben" in text and "UTC" in text


async def test_tracking_number_with_routing_prefix_receives(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "42090210" + "1Z999AA10123456784")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED" and "RMA-2026-000001" in banner(app)[1]


async def test_a_burst_of_scans_is_queued_in_order_and_none_is_lost(settings, station_db):
    app = make_app(settings, operator="anna")
    codes = ["RMA-2026-000001", "RMA-2026-000002", "UNKNOWN-7", "RMA-2026-000003", "RMA-2026-000001"]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        # another program holds the database for a moment: scans pile up behind the first
        other = sqlite3.connect(station_db, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.5, lambda: other.execute("ROLLBACK"))
        release.start()
        for code in codes:
            await scan(pilot, code)
        await handled(pilot, app, len(codes))
        release.join()
        other.close()
        assert banner(app)[0] == "ALREADY RECEIVED"
    got = [(t, c) for t, c, *_ in events(station_db) if t != "operator.signed_in"]
    assert got == [
        ("rma.received", "RMA-2026-000001"),
        ("rma.received", "RMA-2026-000002"),
        ("parcel.unexpected", None),
        ("rma.received", "RMA-2026-000003"),
    ]


async def test_scans_right_behind_each_other_are_not_mixed_up(settings, station_db):
    app = make_app(settings, operator="anna")
    codes = ["RMA-2026-000002", "RMA-2026-000003", "XYZ-1", "RMA-2026-000004"]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        for code in codes:  # no pause at all between the scans
            scanner_burst(app, code)
        await handled(pilot, app, len(codes))
    with Store(station_db) as store:
        got = [(e.type, e.rma_code or e.payload.get("scanned")) for e in store.events()][1:]
    assert got == [
        ("rma.received", "RMA-2026-000002"),
        ("rma.received", "RMA-2026-000003"),
        ("parcel.unexpected", "XYZ-1"),
        ("parcel.refused", "RMA-2026-000004"),
    ]


async def test_scanner_burst_is_a_scan_even_when_the_field_has_no_focus(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_focus(None)
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED"


async def test_slow_typing_without_focus_is_not_taken_for_a_scan(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_focus(None)
        for ch in "RMA-2026-000002":
            await pilot.press(ch)
            await pilot.pause(0.08)  # a person's pace
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert receive_screen(app).handled == 0
    assert [t for t, *_ in events(station_db) if t == "rma.received"] == []


async def test_typing_a_code_and_enter_in_the_field_works(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        for ch in "rma-2026-000003":
            await pilot.press(ch)
            await pilot.pause(0.06)
        await pilot.press("enter")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED"


async def test_scans_before_sign_in_wait_for_the_badge(settings, station_db):
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await wait_until(pilot, lambda: banner(app)[0] == "SIGN IN")
        assert events(station_db) == []
        await scan(pilot, "OP:anna")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED"
        assert app.screen.query_one(StatusBar).operator == "anna"
    assert events(station_db) == [
        ("operator.signed_in", None, "bench-t", "anna"),
        ("rma.received", "RMA-2026-000002", "bench-t", "anna"),
    ]


async def test_sign_in_by_typing_an_id_and_sign_out(settings, station_db):
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SignIn")
        await pilot.press(*"ben", "enter")
        await wait_until(pilot, lambda: app.operator == "ben")
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.operator == "")
    assert [t for t, *_ in events(station_db)] == ["operator.signed_in", "operator.signed_out"]


async def test_undo_last_receipt_after_confirmation(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "RMA-2026-000002" in app.screen.question
        await pilot.press("n")
        await wait_until(pilot, lambda: banner(app)[0] == "SCAN")
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: banner(app)[0] == "UNDONE")
    with Store(station_db) as store:
        assert store.get_rma("RMA-2026-000002").stage == "expected"
        types = [e.type for e in store.events()]
    assert types[-2:] == ["rma.received", "rma.receive_undone"]


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("x" * 10_000, "is not a label"),
        ("\x07\x08\x1b", None),  # control characters: nothing readable, nothing sent
    ],
)
async def test_garbage_scans_get_one_line_and_record_nothing(settings, station_db, raw, problem):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        post_scan(app, raw, source="keyboard")
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "NOT READ" and "nothing recorded" in text
        if problem:
            assert problem in text
    assert [t for t, *_ in events(station_db) if t != "operator.signed_in"] == []


async def test_locked_database_shows_one_line_and_keeps_the_scan_until_it_is_free(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000001")
        await handled(pilot, app, 1)
        # hold the lock longer than the station waits (its busy timeout is 5 s)
        other = sqlite3.connect(station_db, isolation_level=None, timeout=1)
        other.execute("BEGIN IMMEDIATE")
        try:
            await scan(pilot, "RMA-2026-000002")
            await wait_until(pilot, lambda: banner(app)[0] == "DATABASE LOCKED")
            _word, text = banner(app)
            assert "locked by another program: 1 scan waiting, nothing lost" in text
            assert "\n" not in text.strip().split("\n\n")[-1]
        finally:
            other.execute("ROLLBACK")
            other.close()
        await handled(pilot, app, 2)  # written once the lock is gone
        assert banner(app)[0] == "RECEIVED"
    assert ("rma.received", "RMA-2026-000001", "bench-t", "anna") in events(station_db)
    assert ("rma.received", "RMA-2026-000002", "bench-t", "anna") in events(station_db)


async def test_a_conflict_reported_by_the_server_shows_with_the_rma(settings, station_db):
    with Store(station_db) as store:
        store.receive("RMA-2026-000003", "bench-t", "anna")
        with store.write() as conn:  # what the sync client writes when the server reports a conflict
            store.apply_changes(
                conn,
                [
                    {
                        "kind": "conflict",
                        "cursor": 7,
                        "conflict": {
                            "id": 1,
                            "kind": "received_twice",
                            "rma_code": "RMA-2026-000003",
                            "event_ids": ["a", "b"],
                            "stations": ["bench-t", "bench-9"],
                            "detail": "received at two stations",
                            "at": "2026-11-21T10:00",
                        },
                    }
                ],
            )
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000003")
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "ALREADY RECEIVED" and "CONFLICT: received twice at bench-t, bench-9" in text
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 2)
        assert "CONFLICT" not in banner(app)[1]  # only the RMA that has one


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_an_unregistered_id_is_refused_with_one_line(settings, station_db):
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SignIn")
        await pilot.press(*"mallory", "enter")
        await wait_until(pilot, lambda: any("mallory is not a registered operator" in n for n in notes(app)))
        await scan(pilot, "OP:[/]mallory")  # a badge nobody registered, markup-looking
        await wait_until(pilot, lambda: any("[/]mallory is not a registered operator" in n for n in notes(app)))
        assert app.operator == "" and not app.signed_in.is_set()
        [line] = [n for n in notes(app) if n.startswith("mallory")]
        assert "not signed in" in line and "rma operator add mallory" in line and "\n" not in line
        await scan(pilot, "OP:ben")  # a registered badge still signs in
        await wait_until(pilot, lambda: app.operator == "ben")
        assert app.operator_role == "clerk"
    assert [(t, op) for t, _, _, op in events(station_db)] == [("operator.signed_in", "ben")]


async def undo_as(pilot, app, answer: str) -> None:
    """F5, then Y to the question."""
    await pilot.press("f5")
    await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
    await pilot.press(answer)


async def test_undoing_someone_elses_receipt_needs_a_supervisor_badge(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await scan(pilot, "OP:ben")  # shift change: ben takes over the bench
        await wait_until(pilot, lambda: app.operator == "ben")
        await undo_as(pilot, app, "y")
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorApproval))
        assert "received by anna" in app.screen.what
        await pilot.press(*"ben", "enter")  # a clerk cannot approve
        await wait_until(pilot, lambda: "not a supervisor" in str(app.screen.query_one("#problem").render()))
        scanner_burst(app, "OP:sam")  # the supervisor's badge
        await wait_until(pilot, lambda: banner(app)[0] == "UNDONE")
        assert "Approved by sam" in banner(app)[1]
        assert app.operator == "ben"  # the supervisor's badge signed nobody in
    with Store(station_db) as store:
        undo = store.events()[-1]
        assert store.get_rma("RMA-2026-000002").stage == "expected"
    assert (undo.type, undo.operator, undo.payload["approved_by"]) == ("rma.receive_undone", "ben", "sam")


async def test_an_old_receipt_needs_a_supervisor_and_escape_changes_nothing(settings, station_db):
    import dataclasses

    strict = dataclasses.replace(settings, undo_grace_minutes=0.0)  # every receipt is "older" than no grace
    app = make_app(strict, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await undo_as(pilot, app, "y")
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorApproval))
        assert "minutes ago" in app.screen.what and "received by" not in app.screen.what
        await pilot.press("escape")
        await wait_until(pilot, lambda: banner(app)[0] == "SCAN")
        assert "not approved" in banner(app)[1]
    with Store(station_db) as store:
        assert store.get_rma("RMA-2026-000002").stage == "received"
        assert store.events()[-1].type == "rma.received"


async def test_a_supervisor_undoes_anything_and_is_recorded_as_the_approver(settings, station_db):
    import dataclasses

    app = make_app(dataclasses.replace(settings, undo_grace_minutes=0.0), operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await scan(pilot, "OP:sam")
        await wait_until(pilot, lambda: app.operator == "sam")
        await undo_as(pilot, app, "y")
        await wait_until(pilot, lambda: banner(app)[0] == "UNDONE")
    with Store(station_db) as store:
        assert store.events()[-1].payload == {"reason": "undo", "approved_by": "sam"}


async def test_an_own_undo_at_once_needs_nobody(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await undo_as(pilot, app, "y")
        await wait_until(pilot, lambda: banner(app)[0] == "UNDONE")
    with Store(station_db) as store:
        assert store.events()[-1].payload == {"reason": "undo"}


# -- issue 15, case 11 ----------------------------------------------------------


async def test_a_scan_while_a_dialog_is_open_waits_and_its_banner_is_seen_after(settings, station_db):
    """Held while the undo question is open (a toast says so), received and shown once it closes."""
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await scan(pilot, "RMA-2026-000003")
        await wait_until(pilot, lambda: any("RMA-2026-000003" in str(n.message) for n in app._notifications))
        await pilot.pause(0.2)
        assert receive_screen(app).handled == 1  # not received behind the dialog
        assert "rma.received" not in [t for t, c, *_ in events(station_db) if c == "RMA-2026-000003"]
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await handled(pilot, app, 2)
        assert app.screen is receive_screen(app)
        word, text = banner(app)
        assert word == "RECEIVED" and "RMA-2026-000003" in text and "Maya Novak" in text
    assert ("rma.received", "RMA-2026-000003", "bench-t", "anna") in events(station_db)


async def test_coming_back_to_receiving_shows_ready_for_the_next_parcel(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "NEVER-HEARD-OF-IT")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "NOT EXPECTED"
        await pilot.press("f7")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InspectScreen")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiveScreen))
        await wait_until(pilot, lambda: banner(app)[0] == "SCAN")
        _word, text = banner(app)
        assert "Ready for the next parcel" in text and "NOT EXPECTED" in text  # the last outcome, named small


async def test_an_old_banner_goes_back_to_ready_after_a_while(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = receive_screen(app)
        screen.idle_after = (
            2.0  # seconds (the default is minutes); long enough that a loaded machine still sees RECEIVED first
        )
        await scan(pilot, "RMA-2026-000002")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED"
        await wait_until(pilot, lambda: banner(app)[0] == "SCAN")
        assert "Ready for the next parcel" in banner(app)[1] and "RMA-2026-000002" in banner(app)[1]


async def test_a_bad_check_digit_is_not_read_at_receiving_as_in_qc(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "4006381333932")  # 4006381333931 with its check digit wrong
        await handled(pilot, app, 1)
        word, text = banner(app)
        assert word == "NOT READ" and "check digit wrong" in text and "scan again" in text
    assert [t for t, *_ in events(station_db) if t != "operator.signed_in"] == []  # nothing recorded


async def test_a_carrier_number_that_fails_the_ean_check_still_receives_its_rma(settings, station_db):
    with Store(station_db) as store:
        add_rma(store, "RMA-2026-000009", tracking=("4006381333932",))
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "4006381333932")
        await handled(pilot, app, 1)
        assert banner(app)[0] == "RECEIVED" and "RMA-2026-000009" in banner(app)[1]


async def test_the_waiting_count_counts_every_waiting_scan(settings, station_db):
    app = make_app(settings)  # nobody signed in: scans wait
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "RMA-2026-000002")
        await scan(pilot, "RMA-2026-000003")
        screen = receive_screen(app)
        # the first is held for the sign-in, the second is queued behind it
        await wait_until(pilot, lambda: banner(app)[0] == "SIGN IN" and screen.scans.qsize() == 1)
        assert str(screen.query_one("#waiting").render()).startswith("2 scans waiting")
        await scan(pilot, "OP:anna")
        await handled(pilot, app, 2)
        assert str(screen.query_one("#waiting").render()) == ""
