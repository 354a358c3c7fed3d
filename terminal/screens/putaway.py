"""The put-away screen: scan a unit's license plate (it says the bin: sort mode), then the bin's label."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime
from gettext import gettext as _

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from sync.store import DatabaseBusy, DatabaseUnavailable, DiskFull, PutAwayRefused, Refusal, StoreError, Unit
from terminal.i18n import N_
from terminal.i18n.cells import pad
from terminal.messages import Recorded, Scanned
from terminal.putaway import BinsUnavailable, goes_to, put_away_line, station_bins
from terminal.scanning import Kind, Scan
from terminal.screens.putaway_modes import FINISH, SortAndCount
from terminal.today import with_totals
from terminal.widgets.footer import Footer
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.scan_field import ScanField
from terminal.widgets.status_bar import StatusBar
from terminal.workers import PassesWorkerFailures

READY = N_("Scan the license plate of a unit; the screen says its bin. Then scan the bin's label.")


class PutAwayScreen(SortAndCount, PassesWorkerFailures, Screen):
    """Put-away: a plate, then a bin; scans are handled in arrival order, the database work in its thread.

    The unit whose plate was scanned last stays in hand until it is put away
    (a wrong bin keeps it: scan the right one) or another plate is scanned.
    F5 is sort mode, F4 a count of a bin (terminal/screens/putaway_modes.py).
    """

    BINDINGS = [
        Binding("f4", "count", N_("Count")),
        Binding("f5", "sort", N_("Sort")),
        Binding("escape", "stop_count", N_("Stop count"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.scans: asyncio.Queue[Scan] = asyncio.Queue()
        self.unit: Unit | None = None  # the unit in hand
        self.unit_bin = ""  # the bin it goes to
        self.bins: dict[str, frozenset[str]] | None = None
        self.bins_problem = ""
        self.recent: deque[str] = deque(maxlen=8)
        self.handled = 0  # scans answered on screen
        self.counted: list[str] = []  # the plates scanned in the count going on

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield OutcomeBanner(id="banner")
        yield Static(id="recent", markup=False)  # plates and bins from scans: text, never markup
        yield ScanField(id="scan")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OutcomeBanner).show("SCAN", _(READY))
        self.query_one(ScanField).focus()
        self.take_scans()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    def language_changed(self) -> None:
        """The station speaks another language now: the idle line in it."""
        banner = self.query_one(OutcomeBanner)
        if banner.word == "SCAN":
            banner.show("SCAN", _(READY))

    def on_scanned(self, message: Scanned) -> None:
        """Queue a scan (the app passed it on); it is handled after the ones before it."""
        self.scans.put_nowait(message.scan)

    @work(exclusive=True, group="putaway", exit_on_error=False)
    async def take_scans(self) -> None:
        """Take scans off the queue one by one, for as long as the screen lives."""
        try:
            self.bins = await asyncio.to_thread(station_bins, self.app.settings)
        except BinsUnavailable as exc:
            self.bins_problem = str(exc)
            self.query_one(OutcomeBanner).show("ERROR", self.bins_problem)
            self.app.ring(problem=True)
        while True:
            scan = await self.scans.get()
            if not self.app.operator:
                self.query_one(OutcomeBanner).show(
                    "SIGN IN", _("Scan your badge or press F2 first. Waiting: {scan}").format(scan=scan.shown)
                )
                self.app.bell()
                await self.app.signed_in.wait()
            try:
                await self._take(scan)
            except StoreError as exc:
                self._refused("ERROR", str(exc))
            except Exception as exc:  # noqa: BLE001 — put-away must go on; the log keeps the trace
                self.log.error(f"putaway: {scan.shown!r} failed", exc)
                self._refused(
                    "ERROR",
                    _(
                        "That scan could not be handled ({error}). Scan it again; tell the supervisor if it repeats."
                    ).format(error=f"{type(exc).__name__}: {exc}"),
                )
            self.handled += 1

    def _refused(self, word: str, line: str) -> None:
        self.query_one(OutcomeBanner).show(word, line)
        self.app.ring(problem=True)

    async def _take(self, scan: Scan) -> None:
        if scan is FINISH and not self.counting:
            return  # the count was stopped (Esc) before its finish came up
        if scan.kind in (Kind.EMPTY, Kind.GARBAGE) and scan is not FINISH:
            self._refused("NOT READ", scan.problem)
        elif self.bins is None:
            self._refused("ERROR", self.bins_problem)
        elif self.counting is not None:
            await self.take_count_scan(scan)
        elif scan.kind == Kind.BIN:
            await self._bin(scan.value)
        elif scan.kind in (Kind.LPN, Kind.PARCEL):
            await self._plate(scan)
        else:
            self._refused(
                "NOT READ",
                _("{scan} is not a license plate or a bin label; nothing recorded").format(scan=scan.shown),
            )

    async def _plate(self, scan: Scan) -> None:
        bins = self.bins or {}
        unit, bin_name = await self.app.db.run(lambda store: self._lookup(store, scan.text, bins))
        if unit is None:
            word = "NOT INSPECTED" if scan.kind == Kind.LPN else "NOT A PLATE"
            line = (
                _("{lpn} is on no unit inspected at this station; nothing recorded — inspect the unit first")
                if scan.kind == Kind.LPN
                else _("{scan} is not a license plate; nothing recorded — scan the plate on the unit's label")
            )
            self._refused(word, line.format(lpn=scan.value, scan=scan.shown))
            return
        if self.sorting:
            await self.sort_plate(scan, unit)
            return
        self.unit, self.unit_bin = unit, bin_name
        self.query_one(OutcomeBanner).show("TO BIN", goes_to(unit, bin_name))
        self.app.ring(problem=False)

    @staticmethod
    def _lookup(store, text: str, bins) -> tuple[Unit | None, str]:
        unit = store.unit_by_lpn(text)
        return (unit, store.bin_of(unit, bins)) if unit is not None else (None, "")

    async def _bin(self, name: str) -> None:
        unit = self.unit
        if unit is None:
            line = _("Scan the unit's license plate first, then the bin ({bin}).").format(bin=name)
            self._refused("SCAN", " ".join(p for p in (line, await self.contents_line(name)) if p))
            return
        station, operator, bins = self.app.settings.station, self.app.operator, self.bins or {}
        try:
            done, totals = await self.app.db.run(
                with_totals(lambda store: store.put_away(unit.lpn, name, station, operator, bins=bins), station)
            )
        except (DatabaseBusy, DatabaseUnavailable) as exc:
            # disk full, locked, read-only: nothing recorded; the unit stays in hand for the next bin scan
            word = (
                "DISK FULL"
                if isinstance(exc, DiskFull)
                else "DATABASE LOCKED"
                if isinstance(exc, DatabaseBusy)
                else "NOT WRITABLE"
            )
            self._refused(
                word,
                _("{problem} — {lpn} is still in hand: scan bin {bin} again").format(
                    problem=exc, lpn=unit.lpn, bin=name
                ),
            )
            return
        except PutAwayRefused as exc:
            if exc.refusal in (Refusal.ALREADY_THERE, Refusal.SHIPPED):
                self.unit = None  # it is where it goes, or gone: nothing left in hand
            self._refused(exc.refusal.value, str(exc))
            return
        self.unit = None
        line = put_away_line(done)
        self.query_one(OutcomeBanner).show("PUT AWAY", line)
        self.recent.appendleft(f"{datetime.now():%H:%M:%S}  {pad(_('PUT AWAY'), 10)} {line[:100]}")
        self.query_one("#recent", Static).update("\n".join(self.recent))
        self.app.ring(problem=False)
        self.app.post_message(Recorded(totals))
