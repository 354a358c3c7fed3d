"""The receive screen: scan a parcel's label, see at once whether it was expected."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import datetime
from gettext import gettext as _
from gettext import ngettext

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from sync.store import DatabaseBusy, DatabaseUnavailable, DiskFull, Outcome, Receipt, StoreError
from terminal.approvals import undo_needs_supervisor
from terminal.exceptions import second_parcel_line
from terminal.i18n import N_
from terminal.i18n.cells import pad
from terminal.inspection import describe_unit
from terminal.messages import Recorded, Scanned
from terminal.receiving import NEXT_STEP, NotRead, describe, describe_conflicts, inspect_fully, receive_at_bench, when
from terminal.scanning import Kind, Scan
from terminal.screens.dialogs import Confirm, SupervisorApproval
from terminal.screens.exceptions import UnexpectedParcels
from terminal.today import with_totals
from terminal.widgets.footer import Footer
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.scan_field import ScanField
from terminal.widgets.status_bar import StatusBar
from terminal.workers import PassesWorkerFailures

PROBLEMS = {Outcome.NOT_EXPECTED, Outcome.CANCELLED, Outcome.EXPIRED, Outcome.NOT_AN_RMA}
RETRY_WRITE_EVERY = 1.0  # seconds between tries while the database cannot be written
READY = N_("Scan the RMA or carrier label of a parcel.")


class ReceiveScreen(PassesWorkerFailures, Screen):
    """Receiving: every scan is handled in arrival order, none is dropped.

    A scan that arrives while a dialog (undo question, print jobs, sign-in) is
    open over this screen waits until the dialog closes, so its banner is seen;
    a toast on top says it is held.  An outcome older than ``idle_after``
    seconds, or found on coming back from another screen, gives way to "ready
    for the next parcel" (naming the last outcome), so a stale banner is never
    read as the answer to the parcel in hand.
    """

    BINDINGS = [
        Binding("f5", "undo", N_("Undo")),  # the last receipt; short, so the footer fits 80 columns
        Binding("f4", "another_parcel", N_("Another parcel")),  # the parcel just scanned: SECOND PARCEL
        Binding("f1", "unexpected_parcels", N_("Unexpected")),  # attach / blind RMA (a supervisor)
    ]
    idle_after = 120.0  # seconds an outcome stays up before the screen says it is ready again

    def __init__(self) -> None:
        super().__init__()
        self.scans: asyncio.Queue[Scan] = asyncio.Queue()
        self.recent: deque[str] = deque(maxlen=8)
        self.latencies: list[float] = []  # seconds from a scan's Enter to its outcome on screen
        self.arrived = 0  # scans handed to this screen
        self.handled = 0  # scans taken off the queue and answered on screen
        self._resumed = asyncio.Event()  # set whenever this screen is on top again
        self._left = False  # True while another screen (not a dialog) replaced this one
        self._last = ""  # the last outcome, one short line, for "ready for the next parcel"
        self._idle_timer = None
        self._parcel = ""  # what the last scan that named an RMA read: F4 says it is another parcel of it

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield OutcomeBanner(id="banner")
        yield Static(id="waiting", markup=False)
        yield Static(id="recent", markup=False)  # scans and customer names: text, never markup
        yield ScanField(id="scan")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F4 (another parcel) is offered, and shown in the footer, only after an ALREADY RECEIVED."""
        return bool(self._parcel) if action == "another_parcel" else True

    def _offer_another_parcel(self, scanned: str) -> None:
        """Remember the scan F4 would record as another parcel; the footer is redrawn only when F4 comes or goes."""
        was, self._parcel = bool(self._parcel), scanned
        if was != bool(scanned):
            self.refresh_bindings()

    def on_mount(self) -> None:
        self.query_one(OutcomeBanner).show("SCAN", _(READY))
        self.query_one(ScanField).focus()
        self.receive_scans()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()
        if self._left:
            self._left = False
            self._ready()
        self._resumed.set()

    def language_changed(self) -> None:
        """The station speaks another language now (an operator signed in or out): the idle lines in it."""
        banner = self.query_one(OutcomeBanner)
        if banner.word == "SCAN":
            banner.show("SCAN", self._ready_text() if self._last else _(READY))
        self._show_waiting()

    def on_screen_suspend(self) -> None:
        # posted after the stack changed: still in it means a dialog went on top
        self._left = self not in self.app.screen_stack

    def _behind_dialog(self) -> bool:
        return self.app.screen is not self and self in self.app.screen_stack

    def _ready(self) -> None:
        """Back to the idle banner, naming the last outcome so the clerk can still check it."""
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        banner = self.query_one(OutcomeBanner)
        if banner.word != "SCAN":
            banner.show("SCAN", self._ready_text())

    def _ready_text(self) -> str:
        text = _("Ready for the next parcel. {ready}").format(ready=_(READY))
        if self._last:
            text += "\n" + _("Last: {outcome}").format(outcome=self._last)
        return text

    def _outcome_shown(self, last: str) -> None:
        """An outcome is on the banner: remember it, and go back to ready after ``idle_after``."""
        self._last = f"{datetime.now():%H:%M:%S} {last}"
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(self.idle_after, self._ready)

    def on_scanned(self, message: Scanned) -> None:
        """Queue a scan (the app passed it on); it is handled after the ones before it."""
        scan = message.scan
        self.scans.put_nowait(scan)
        self.arrived += 1
        if self._behind_dialog():
            self.app.notify(
                _("Scan held: {scan} is received when this dialog closes.").format(scan=scan.shown),
                title=_("Receiving"),
                markup=False,
            )
        self._show_waiting()

    def _show_waiting(self) -> None:
        n = self.arrived - self.handled  # queued, plus the one held for a sign-in or a dialog
        signed_in = self.app.operator
        text = ""
        if n and not signed_in:
            text = ngettext(
                "{n} scan waiting — received as soon as you sign in",
                "{n} scans waiting — received as soon as you sign in",
                n,
            ).format(n=n)
        elif n > 1:
            text = ngettext("{n} scan waiting", "{n} scans waiting", n).format(n=n)
        self.query_one("#waiting", Static).update(text)

    @work(exclusive=True, group="receive", exit_on_error=False)
    async def receive_scans(self) -> None:
        """Take scans off the queue one by one, for as long as the screen lives."""
        while True:
            scan = await self.scans.get()
            if not self.app.operator:
                self.query_one(OutcomeBanner).show(
                    "SIGN IN", _("Scan your badge or press F2 first. Waiting: {scan}").format(scan=scan.shown)
                )
                self.app.bell()
                await self.app.signed_in.wait()
            while self._behind_dialog():  # its banner would be hidden: wait until the dialog closes
                self._resumed.clear()
                await self._resumed.wait()
            try:
                await self._receive(scan)
            except Exception as exc:  # noqa: BLE001 — receiving must go on; the log keeps the trace
                self.log.error(f"receive: {scan.shown!r} failed", exc)
                self.query_one(OutcomeBanner).show(
                    "ERROR",
                    _(
                        "That scan could not be handled ({error}). Scan it again; tell the supervisor if it repeats."
                    ).format(error=f"{type(exc).__name__}: {exc}"),
                )
                self.app.ring(problem=True)
            self.handled += 1
            self._show_waiting()

    async def _receive(self, scan: Scan) -> None:
        banner = self.query_one(OutcomeBanner)
        if scan.kind in (Kind.EMPTY, Kind.GARBAGE):
            banner.show("NOT READ", scan.problem)
            self._outcome_shown(_("NOT READ") + " " + scan.shown)
            self.app.ring(problem=True)
            return
        if scan.kind == Kind.COMMAND:
            if scan.value == "UNDO":
                self.action_undo()
            else:
                banner.show("NOT READ", _("command {command} does nothing at receiving").format(command=scan.value))
            return
        if scan.kind == Kind.BIN:  # not a parcel: recorded as nothing
            banner.show(
                "NOT READ", _("{scan} is a bin label; bins are scanned at put-away (F12)").format(scan=scan.shown)
            )
            self.app.ring(problem=True)
            return
        if scan.kind == Kind.LPN:  # an inspected unit's plate: show the unit (a plate on no unit is received as usual)
            unit = await self.app.db.run(lambda store: store.unit_by_lpn(scan.value))
            if unit is not None:
                banner.show("UNIT", describe_unit(unit))
                self._outcome_shown(f"UNIT {unit.lpn}")
                self.app.ring(problem=False)
                return
        station, operator = self.app.settings.station, self.app.operator
        held = False
        while True:
            try:
                (receipt, conflicts), totals = await self.app.db.run(
                    with_totals(
                        lambda store: receive_at_bench(
                            store, scan.text, station, operator, item_barcode=scan.kind == Kind.ITEM
                        ),
                        station,
                    )
                )
                break
            except NotRead as exc:
                banner.show("NOT READ", str(exc))
                self._outcome_shown(_("NOT READ") + " " + scan.shown)
                self.app.ring(problem=True)
                return
            except (DatabaseBusy, DatabaseUnavailable) as exc:
                # disk full, locked, read-only: this scan and the ones behind it wait here, in order
                self._cannot_write(exc, first=not held)
                held = True
                await asyncio.sleep(RETRY_WRITE_EVERY)
            except StoreError as exc:
                banner.show("ERROR", f"{exc}")
                self.app.ring(problem=True)
                return
        if held:
            self.app.header.show_part("disk", "")
        self._show(receipt, conflicts)
        self.latencies.append(time.monotonic() - scan.at)
        self.app.ring(
            problem=receipt.outcome in PROBLEMS or receipt.outcome == Outcome.ALREADY_RECEIVED or bool(conflicts)
        )
        self.app.post_message(Recorded(totals))

    def _cannot_write(self, exc: StoreError, *, first: bool) -> None:
        """One line on the banner and in the header: what is wrong, how many scans wait, nothing lost."""
        n = 1 + self.scans.qsize()
        waiting = ngettext("{n} scan waiting, nothing lost", "{n} scans waiting, nothing lost", n).format(n=n)
        if isinstance(exc, DiskFull):
            word, line = (
                "DISK FULL",
                _(
                    "disk full: {waiting} — free space on the station's disk; "
                    "they are recorded as soon as there is room"
                ).format(waiting=waiting),
            )
        elif isinstance(exc, DatabaseBusy):
            word, line = (
                "DATABASE LOCKED",
                _("database locked by another program: {waiting} — they are recorded as soon as it lets go").format(
                    waiting=waiting
                ),
            )
        else:
            word = "NOT WRITABLE"
            line = _("{problem} — {waiting}; they are recorded as soon as it can be written").format(
                problem=exc, waiting=waiting
            )
        self.query_one(OutcomeBanner).show(word, line)
        self.app.header.show_part("disk", _("{word}: {n} waiting").format(word=_(word), n=n))
        if first:
            self.app.ring(problem=True)

    def _show(self, receipt: Receipt, conflicts: list[dict]) -> None:
        rma, outcome = receipt.rma, receipt.outcome
        # every $name is data (scans, imports, the server): Content puts it in as text, never as markup
        if rma is None:
            detail = Content(_("Scanned: {code}").format(code=receipt.scanned[:60]) + "\n" + _(NEXT_STEP[outcome]))
        elif outcome == Outcome.RECEIVED:
            lines = "\n".join(f"  {ln.qty} × {ln.description or ln.sku}  ({ln.sku}, {ln.category})" for ln in rma.lines)
            detail = Content.from_markup(
                _("[b]$code[/b]  $customer  ·  order $order  ·  reason: [b]$reason[/b]") + "\n$lines\n$next",
                code=rma.code,
                customer=rma.customer_name,
                order=rma.order_ref or "-",
                reason=rma.reason or "-",
                lines=lines,
                next=_(NEXT_STEP[outcome]),
            )
        elif outcome == Outcome.ALREADY_RECEIVED:
            detail = Content.from_markup(
                "[b]$code[/b]  $customer\n"
                + _("Received $when at station [b]$station[/b] by [b]$operator[/b].")
                + " $next",
                code=rma.code,
                customer=rma.customer_name,
                when=when(rma.received_at),
                station=rma.received_station or "?",
                operator=rma.received_operator or "?",
                next=_(NEXT_STEP[outcome]),
            )
        else:
            detail = Content.from_markup(
                _("[b]$code[/b]  $customer  ·  order $order") + "\n$next",
                code=rma.code,
                customer=rma.customer_name,
                order=rma.order_ref or "-",
                next=_(NEXT_STEP[outcome]),
            )
        if outcome == Outcome.SECOND_PARCEL:
            detail = Content(second_parcel_line(receipt))
        elif outcome == Outcome.ALREADY_RECEIVED:
            detail += Content("\n" + _("Another parcel of this RMA? F4 records it as one."))
        # after ALREADY RECEIVED only: the clerk may know better (a label all parcels share); a receipt has its parcel
        self._offer_another_parcel(receipt.scanned if rma is not None and outcome == Outcome.ALREADY_RECEIVED else "")
        if outcome == Outcome.RECEIVED and inspect_fully(rma):
            detail += Content("\n") + Content.styled(inspect_fully(rma), "bold reverse")
        if conflicts:
            detail += Content("\n") + Content.styled(describe_conflicts(conflicts), "bold reverse")
        self.query_one(OutcomeBanner).show(outcome.value, detail)
        self._outcome_shown(f"{_(outcome.value)} {rma.code if rma else receipt.scanned[:40]}")
        stamp = datetime.now().strftime("%H:%M:%S")
        self.recent.appendleft(f"{stamp}  {pad(_(outcome.value), 17)} {describe(receipt)[:90]}")
        self.query_one("#recent", Static).update("\n".join(self.recent))

    @work(exclusive=True, group="parcel", exit_on_error=False)
    async def action_another_parcel(self) -> None:
        """F4: the parcel just scanned (ALREADY RECEIVED) is another parcel of its RMA: SECOND PARCEL."""
        banner = self.query_one(OutcomeBanner)
        if not self.app.operator:
            banner.show("SIGN IN", _("Sign in first; then scan the parcel and press F4."))
            return
        scanned, station, operator = self._parcel, self.app.settings.station, self.app.operator
        if not scanned:
            banner.show(
                "NOT READ", _("Scan the parcel's label first; then F4 records it as another parcel of its RMA.")
            )
            self.app.ring(problem=True)
            return
        if not await self.app.push_screen_wait(
            Confirm(_("Record the parcel in hand ({scanned}) as another parcel of its RMA?").format(scanned=scanned))
        ):
            banner.show("SCAN", _("Nothing recorded. {ready}").format(ready=_(READY)))
            return
        try:
            receipt, totals = await self.app.db.run(
                with_totals(lambda store: store.receive_another_parcel(scanned, station, operator), station)
            )
        except StoreError as exc:
            banner.show("ERROR", str(exc))
            self.app.ring(problem=True)
            return
        self._show(receipt, [])
        self._offer_another_parcel("")  # the next parcel is scanned first
        self.app.ring(problem=False)
        self.app.post_message(Recorded(totals))

    def action_unexpected_parcels(self) -> None:
        """F1: the unexpected parcels on the shelf; a supervisor attaches one to an RMA or gives it a blind RMA."""
        if not self.app.operator:
            self.query_one(OutcomeBanner).show("SIGN IN", _("Sign in first; then F1 lists the unexpected parcels."))
            return
        self.app.push_screen(UnexpectedParcels())

    @work(exclusive=True, group="undo", exit_on_error=False)
    async def action_undo(self) -> None:
        """Undo this station's last receipt, after confirmation."""
        banner = self.query_one(OutcomeBanner)
        if not self.app.operator:
            banner.show("SIGN IN", _("Sign in before undoing a receipt."))
            return
        station, operator = self.app.settings.station, self.app.operator
        last = await self.app.db.run(lambda store: store.last_receipt(station))
        if last is None:
            banner.show("NOT READ", _("Nothing to undo: this station has no receipt that can be undone."))
            return
        if not await self.app.push_screen_wait(
            Confirm(
                _("Undo the receipt of {code} ({customer}, received {when})?").format(
                    code=last.code, customer=last.customer_name, when=when(last.received_at)
                )
            )
        ):
            banner.show("SCAN", _("Undo cancelled; nothing changed."))
            return
        approved_by = ""
        why = undo_needs_supervisor(self.app.settings, last, operator)
        if why and self.app.operator_role == "supervisor":
            approved_by = operator  # a supervisor approves their own undo
        elif why:
            approved_by = await self.app.push_screen_wait(
                SupervisorApproval(_("Undo of {code}: {why}.").format(code=last.code, why=why))
            )
            if not approved_by:
                banner.show(
                    "SCAN", _("Undo of {code} not approved by a supervisor; nothing changed.").format(code=last.code)
                )
                return
        try:
            _undone, totals = await self.app.db.run(
                with_totals(
                    lambda store: store.undo_receive(last.code, station, operator, approved_by=approved_by), station
                )
            )
        except StoreError as exc:
            banner.show("ERROR", str(exc))
            return
        line = _("{code} is expected again (a compensating event was recorded).").format(code=last.code)
        if approved_by:
            line += " " + _("Approved by {supervisor}.").format(supervisor=approved_by)
        banner.show("UNDONE", line)
        self.recent.appendleft(f"{datetime.now():%H:%M:%S}  {pad(_('UNDONE'), 17)} {last.code}")
        self.query_one("#recent", Static).update("\n".join(self.recent))
        self.app.post_message(Recorded(totals))
