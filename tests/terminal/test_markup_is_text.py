"""Text from a scan, an import, the server or a person is shown as text, never as markup (issue 15, case 1).

Markup-looking strings go through every place the station shows text — the
receive banner, the list of recent scans, customer name, reason, item lines,
an unexpected parcel, the inspect screen's lines and hints, dialogs,
notifications and the header — driven with real keys through Textual's pilot.
Each must appear literally, the app must stay alive, and the next scan must
still be recorded.
"""

from __future__ import annotations

from textual.widgets import OptionList, Static
from textual.widgets._toast import Toast

from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.messages import SyncStatus
from terminal.screens.dialogs import Confirm
from terminal.screens.inspect import InspectScreen
from terminal.screens.inspect_dialogs import PickRma
from terminal.screens.receive import ReceiveScreen
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.status_bar import StatusBar
from tests.conftest import add_rma, post_scan, scanner_burst, wait_until

GTIN = "4006381333931"
CUSTOMER = "Evil [/] name [@click=app.quit]"
REASON = "[bold]x [link=x]broke"
DESCRIPTION = r"Mat \[ [/b] [$accent]"
SKU = "SKU-[b]7"
ORDER = "SO-[/]1"
OPERATOR = r"ann[/]a\["
PARCEL = "PARCEL [/] X"


def plain(widget) -> str:
    """What a widget shows, as plain text."""
    shown = widget.render()
    return shown.plain if hasattr(shown, "plain") else str(shown)


def recorded(path) -> list[tuple[str, str | None]]:
    with Store(path) as store:
        return [(e.type, e.rma_code or e.payload.get("scanned")) for e in store.events()]


async def burst(pilot, text: str) -> None:
    scanner_burst(pilot.app, text)
    await pilot.pause()


async def test_markup_looking_text_is_shown_literally_everywhere_and_the_next_scan_is_recorded(tmp_path):
    db = tmp_path / "station.db"
    with Store(db) as store:
        add_rma(
            store,
            "RMA-1",
            customer=CUSTOMER,
            reason=REASON,
            order_ref=ORDER,
            lines=[{"sku": SKU, "gtin": GTIN, "description": DESCRIPTION, "qty": 1, "category": "general"}],
        )
        add_rma(store, "RMA-2", customer="Eva Jensen")
        store.add_operator(OPERATOR, "[b]Ann [/] Name", "supervisor")
    # a printer URL a person typed into station.toml: its error is a notification
    settings = Settings(
        station="bench[/]t", db=str(db), printer="nonsense://host/[/]x", sources={"db": "flag", "station": "flag"}
    )
    app = make_app(settings, operator=OPERATOR)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        receive = next(s for s in app.screen_stack if isinstance(s, ReceiveScreen))
        banner = receive.query_one(OutcomeBanner)

        async def handled(n: int) -> None:
            await wait_until(pilot, lambda: receive.handled >= n)

        await wait_until(pilot, lambda: app.operator == OPERATOR)
        await wait_until(pilot, lambda: len(app.screen.query(Toast)) >= 2)
        toasts = " ".join(plain(t) for t in app.screen.query(Toast))
        assert f"Signed in: {OPERATOR}" in toasts and "nonsense://host/[/]x" in toasts
        await wait_until(pilot, lambda: OPERATOR in plain(receive.query_one(StatusBar)))
        assert "bench[/]t" in plain(receive.query_one(StatusBar))
        # what the sync worker reports after the server answered with an error of its own
        app.post_message(SyncStatus(False, 1, "", "server: [/] [bold]down", 0, photo_problem="x"))
        await wait_until(pilot, lambda: "OFFLINE" in plain(receive.query_one(StatusBar)))
        assert "server: [/] [bold]down" in plain(receive.query_one(StatusBar))

        await burst(pilot, PARCEL)  # an unexpected parcel, markup in its label
        await handled(1)
        assert banner.word == "NOT EXPECTED" and PARCEL in plain(banner)
        assert PARCEL in plain(receive.query_one("#recent", Static))

        await burst(pilot, "[@click=app.quit]")
        await handled(2)
        assert "[@click=app.quit]" in plain(banner) and app.is_running

        await burst(pilot, "RMA-1")
        await handled(3)
        shown = plain(banner)
        assert banner.word == "RECEIVED"
        for text in (CUSTOMER, REASON, DESCRIPTION, SKU, ORDER):
            assert text in shown, text
        assert CUSTOMER in plain(receive.query_one("#recent", Static))

        await burst(pilot, "rma-1")
        await handled(4)
        assert banner.word == "ALREADY RECEIVED" and OPERATOR in plain(banner) and "bench[/]t" in plain(banner)

        await pilot.press("f5")  # undo asks first, naming the customer
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert CUSTOMER in " ".join(plain(w) for w in app.screen.query("Label"))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, Confirm))

        await pilot.press("f7")  # QC inspection: the same texts on the other screen
        await wait_until(pilot, lambda: isinstance(app.screen, InspectScreen) and app.screen.library is not None)
        inspect = app.screen
        inspect_banner = inspect.query_one(OutcomeBanner)

        async def settled(n: int) -> None:
            await wait_until(pilot, lambda: inspect.handled >= n and inspect.inbox.empty())

        await pilot.press("f4")  # the received RMAs to pick from, with their customers
        await wait_until(pilot, lambda: isinstance(app.screen, PickRma))
        options = app.screen.query_one(OptionList)
        assert CUSTOMER in " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
        await pilot.pause()
        assert CUSTOMER in "".join(options.render_line(y).text for y in range(options.size.height))  # as drawn
        await pilot.press("escape")
        await settled(1)

        post_scan(app, "RMA-[/]9", source="wedge")
        await settled(2)
        assert inspect_banner.word == "NOT FOUND" and "RMA-[/]9" in plain(inspect_banner)

        post_scan(app, "RMA-1", source="wedge")
        await settled(3)
        assert inspect_banner.word == "SCAN ITEM"
        assert CUSTOMER in plain(inspect_banner) and REASON in plain(inspect_banner)
        lines = plain(inspect.query_one("#rma", Static))
        for text in (CUSTOMER, REASON, ORDER, DESCRIPTION, SKU):
            assert text in lines, text

        post_scan(app, GTIN, source="wedge")
        await settled(4)
        assert inspect_banner.word == "INSPECT"
        assert DESCRIPTION in plain(inspect_banner) and SKU in plain(inspect_banner)

        post_scan(app, "[bold]x", source="wedge")  # a scan while the item is open: a hint names it
        await settled(5)
        assert "[bold]x" in plain(inspect.query_one("#hint", Static))

        await pilot.press("escape")  # abandon the item (nothing answered: no question)
        await settled(6)
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.screen is receive)
        await burst(pilot, "RMA-2")  # the next scan after all that: recorded as ever
        await handled(5)
        assert banner.word == "RECEIVED" and app.is_running
    got = [r for r in recorded(db) if r[0] != "operator.signed_in"]
    assert got == [
        ("parcel.unexpected", PARCEL),
        ("parcel.unexpected", "[@click=app.quit]"),
        ("rma.received", "RMA-1"),
        ("rma.received", "RMA-2"),
    ]


async def test_a_text_shown_literally_keeps_its_backslashes_and_dollars():
    """Escaping is not enough: rich's escape() turns '\\[' into '[' and drops '[$accent]'."""
    from textual.app import App

    class One(App):
        def compose(self):
            yield OutcomeBanner()

    app = One()
    async with app.run_test() as pilot:
        banner = app.query_one(OutcomeBanner)
        banner.show("NOT EXPECTED", DESCRIPTION)
        await pilot.pause()
        assert DESCRIPTION in plain(banner)
