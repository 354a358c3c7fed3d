"""The inspect screen: scan a received RMA, scan each item, work through its checklist, confirm.

Every input — a scan, a key, a command barcode — goes into one queue and is
handled in arrival order by one worker, so a fast inspector or scanner can
never overtake the database: the item scan is matched before the first
answer is taken, and nothing is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from gettext import gettext as _
from gettext import ngettext, pgettext
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from labels import LabelError, disposition_label
from qc_checklists import (
    Channel,
    ChecklistUnavailable,
    Disposition,
    Kind,
    Library,
    RoutingInvalid,
    RoutingRules,
    load_library,
    load_routing,
)
from sync.store import Line, Outcome, Rma, StoreError
from terminal import i18n
from terminal.approvals import override_needs_supervisor
from terminal.i18n import N_
from terminal.i18n.cells import width as cells
from terminal.inspection import NEXT_STEP, Draft, describe_unit, shown
from terminal.messages import Recorded, Scanned
from terminal.photos import PhotoError, photo_folder
from terminal.printing import print_label
from terminal.receiving import inspect_fully
from terminal.scanning import Kind as ScanKind
from terminal.scanning import Scan, read_scan
from terminal.scanning.item import ItemCode, looks_like_item, read_item, same_gtin
from terminal.screens.dialogs import Confirm, SupervisorApproval
from terminal.screens.exceptions import inspect_exception
from terminal.screens.inspect_dialogs import (
    NO_CAMERA_KEY,
    ChannelDialog,
    OverrideReason,
    PhotoDialog,
    PickLine,
    PickRma,
)
from terminal.today import with_totals
from terminal.widgets.checklist_form import ChecklistForm
from terminal.widgets.footer import Footer
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.scan_field import ScanField
from terminal.widgets.status_bar import StatusBar
from terminal.workers import PassesWorkerFailures

# banner word -> colour class of OutcomeBanner (see station.tcss)
WORDS = {
    N_("SCAN RMA"): "idle",
    N_("SCAN ITEM"): "idle",
    N_("INSPECT"): "info",
    N_("RESELLABLE"): "good",
    N_("DISCOUNTED"): "warn",
    N_("SCRAPPED"): "bad",
    N_("ITEM MISMATCH"): "bad",
    N_("NOT FOUND"): "bad",
    N_("NOT RECEIVED"): "warn",
    N_("ALREADY INSPECTED"): "warn",
    N_("RMA INSPECTED"): "good",
    N_("CHECKLIST INVALID"): "bad",
    N_("ROUTING INVALID"): "bad",
    N_("UNIT"): "info",
    N_("NOT READ"): "bad",
    N_("ERROR"): "bad",
    N_("SIGN IN"): "idle",
    N_("CANCELLED"): "bad",
    N_("EXPIRED"): "bad",
    N_("NOT SAVED"): "warn",
    N_("ABANDONED"): "warn",
    N_("PHOTO NEEDED"): "warn",
    N_("UNDECLARED ITEM"): "warn",
}
# command barcodes -> the bench step of the key they stand for (run in its turn, as the key's is)
COMMAND_STEPS = {
    "PASS": ("pass",),
    "FAIL": ("fail",),
    "CONFIRM": ("confirm",),
    "CANCEL": ("abandon",),
    "NEXT-ITEM": ("skip",),
    "RESELLABLE": ("final", "resellable"),
    "DISCOUNTED": ("final", "discounted"),
    "SCRAPPED": ("final", "scrapped"),
    "PHOTO": ("photo",),
}
ANSWER_FIRST = N_("Scan an item's barcode first: its checklist appears, then answer.")
# An RMA's stage and an inspected unit's state, as shown (marked here, translated when shown).
STAGES = {"expected": N_("expected"), "received": N_("received"), "inspected": N_("inspected")}
STATUSES = {"authorized": N_("authorized"), "cancelled": N_("cancelled"), "expired": N_("expired")}


class ReadingField(Input):
    """Where a measurement or a note is typed; Enter submits it.

    It takes bursts itself, so a scale or meter acting as a keyboard types its
    reading straight in; a command barcode or badge scanned here still acts
    as one (see ``InspectScreen.on_input_submitted``).
    """

    ACCEPTS_SCANS = True


class InspectScreen(PassesWorkerFailures, Screen):
    """QC inspection of received returns, one unit at a time."""

    # (the banner's size here is in station.tcss: the app's stylesheet outranks DEFAULT_CSS)
    DEFAULT_CSS = """
    InspectScreen #rma { height: auto; padding: 0 2; }
    InspectScreen.-short #rma { text-wrap: nowrap; text-overflow: ellipsis; }
    InspectScreen #suggestion { height: auto; margin: 0 1; padding: 0 1; }
    InspectScreen.-short #suggestion { max-height: 3; }
    InspectScreen #suggestion.resellable { background: #0a7d2c; color: white; }
    InspectScreen #suggestion.discounted { background: #c77c00; color: black; }
    InspectScreen #suggestion.scrapped { background: #b3141c; color: white; }
    InspectScreen ScanField.hidden { display: none; }
    InspectScreen ReadingField { margin: 0 1; }
    InspectScreen ReadingField.hidden { display: none; }
    InspectScreen #hint { height: auto; padding: 0 2; color: $warning; }
    InspectScreen #keys { height: 1; padding: 0 2; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    # An 80×24 terminal is "-short": a one-line banner, the RMA in one line, the checklist gets the rest.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("p", "pass", N_("Pass")),
        Binding("f", "fail", N_("Fail")),
        Binding("n", "not_applicable", N_("n/a"), show=False),
        Binding("c", "photo", N_("Photo")),
        Binding("y", "claim", N_("Reason?")),
        Binding("enter", "confirm", N_("Confirm")),
        Binding("r", "final('resellable')", N_("Resellable"), show=False),
        Binding("d", "final('discounted')", N_("Discounted"), show=False),
        Binding("s", "final('scrapped')", N_("Scrapped"), show=False),
        Binding("up", "move(-1)", N_("Up"), show=False),
        Binding("down", "move(1)", N_("Down"), show=False),
        Binding("o", "channel", N_("Other channel"), show=False),
        Binding("escape", "abandon", N_("Abandon item")),
        Binding("f4", "pick", N_("Pick")),  # an RMA or an item from a list; short, so the footer fits 80 columns
        Binding("f1", "exceptions", N_("Missing / undeclared")),  # terminal/screens/exceptions.py
    ] + [Binding(str(n), f"choose({n})", show=False) for n in range(1, 10)]

    @property
    def language(self) -> str:
        """The language the checklists' texts are shown in (their English where they lack it)."""
        return self.chosen_language or i18n.current()

    def __init__(
        self,
        checklist_folder: str | Path | None = None,
        routing_file: str | Path | None = None,
        *,
        language: str = "",
    ) -> None:
        super().__init__()
        self.checklist_folder, self.routing_file = checklist_folder, routing_file
        self.chosen_language = language  # "" (the usual): the language in force when a unit is opened
        self.library: Library | None = None
        self.routing: RoutingRules | None = None  # None: the routing file is invalid, no unit is inspected
        self.routing_problem = ""
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.rma: Rma | None = None
        self.progress: dict[int, tuple[str, ...]] = {}
        self.draft: Draft | None = None
        self.queued = self.handled = 0  # inputs taken and handled so far (tests wait on them)
        self._shown = ("", "")  # the banner's word and detail, to show again when the terminal is resized
        self._resumed = asyncio.Event()  # set whenever this screen is on top again
        self._f1_offered = False  # whether the footer offers F1 now (see check_action)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield OutcomeBanner(id="banner")
        yield Static(id="rma")
        yield ChecklistForm(id="form")
        yield Static(id="suggestion")
        yield ReadingField(id="reading", classes="hidden", max_length=500)
        yield Static(id="hint")
        yield Static(id="keys")
        yield ScanField(id="scan")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F1 (missing lines, an undeclared item) is offered, and in the footer, while an RMA is open between items."""
        return (self.rma is not None and self.draft is None) if action == "exceptions" else True

    def on_mount(self) -> None:
        self.show("SCAN RMA", _("Loading checklists…"))
        self.query_one(ScanField).focus()
        self.inspect_inputs()

    def on_screen_resume(self) -> None:
        self._focus()
        self._resumed.set()

    def _behind_dialog(self) -> bool:
        return self.app.screen is not self and self in self.app.screen_stack

    def language_changed(self) -> None:
        """The station speaks another language now: the idle banner, the keys and the checklist in it."""
        if self._shown[0] == "SCAN RMA" and self.rma is None and self.library is not None:
            self.show("SCAN RMA", _("Scan the RMA label of a received parcel, or F4 to pick one."))
        self._redraw()

    def on_resize(self) -> None:
        if self._shown[0]:
            self.show(*self._shown)
        self._redraw()

    @property
    def short(self) -> bool:
        """True on a terminal too short for the full layout (80×24): everything is said in fewer lines."""
        return self.size.height < 32

    # -- inputs -----------------------------------------------------------------

    def on_scanned(self, message: Scanned) -> None:
        """Queue a scan (RMA, item, or command barcode) the app passed on; handled after the inputs before it."""
        scan = message.scan
        if self._behind_dialog() and self.inbox.empty() and self.handled == self.queued:
            # no dialog of this screen's own is waiting for it: it waits until the one on top closes
            self.app.notify(
                _("Scan held: {scan} is handled when this dialog closes.").format(scan=scan.shown),
                title=_("Inspection"),
                markup=False,
            )
        self._queue("scan", scan)

    def _queue(self, kind: str, value: Any) -> None:
        self.queued += 1
        self.inbox.put_nowait((kind, value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if isinstance(event.input, ReadingField):
            event.input.clear()
            scan = read_scan(event.value, source="keyboard")
            if scan.kind in (ScanKind.COMMAND, ScanKind.BADGE):
                self.app.post_message(Scanned(scan))  # the app's own (badge, sign-out) or back here
            else:
                self._queue("text", event.value)

    @work(exclusive=True, group="inspect", exit_on_error=False)
    async def inspect_inputs(self) -> None:
        """Handle inputs one by one for as long as the screen lives."""
        await self._load_checklists()
        while True:
            kind, value = await self.inbox.get()
            while self._behind_dialog():  # e.g. print jobs or sign-in opened over the bench: wait for it
                self._resumed.clear()
                await self._resumed.wait()
            self.say("")
            if not self.app.operator:
                self.show("SIGN IN", _("Scan your badge or press F2 first; your input waits."))
                await self.app.signed_in.wait()
            try:
                if kind == "scan":
                    await self._take_scan(value)
                elif kind == "text":
                    self._take_text(value)
                else:
                    await value()  # a bench step, queued by its key's action
            except StoreError as exc:
                self.show("ERROR", f"{exc}")
                self.app.ring(problem=True)
            except Exception as exc:  # noqa: BLE001 — the bench must keep working; the log keeps the trace
                self.log.error(f"inspect: {kind} {value!r} failed", exc)
                self.show(
                    "ERROR",
                    _(
                        "That input could not be handled ({error}). Nothing was saved for it; "
                        "tell the supervisor if it repeats."
                    ).format(error=f"{type(exc).__name__}: {exc}"),
                )
                self.app.ring(problem=True)
            self.handled += 1
            self._redraw()

    async def _load_checklists(self) -> None:
        library = await asyncio.to_thread(load_library, self.checklist_folder)
        try:
            # (item ids are checked against the checklists by `rma checklist routing`: a test folder with a
            # few checklists must not refuse the standard rules, whose items it lacks — such a rule never matches)
            self.routing = await asyncio.to_thread(load_routing, self.routing_file)
        except RoutingInvalid as exc:
            problems = exc.problems
            more = _(" (+{n} more)").format(n=len(problems) - 1) if len(problems) > 1 else ""
            self.routing_problem = f"{problems[0]}{more}"
        self.library = library
        if self.routing is None:
            self.show(
                "ROUTING INVALID",
                _("No unit is inspected until the routing rules are fixed (rma checklist routing): {problem}").format(
                    problem=self.routing_problem
                ),
            )
            self.app.ring(problem=True)
        elif self.library.invalid:
            lines = "\n".join(
                f"{cat}: {problems[0]}"
                + (" " + _("(+{n} more)").format(n=len(problems) - 1) if len(problems) > 1 else "")
                for cat, problems in sorted(self.library.invalid.items())
            )
            self.show(
                "CHECKLIST INVALID",
                _("Items of these categories will not be inspected until the file is fixed (rma checklist validate):")
                + "\n"
                + lines,
            )
            self.app.ring(problem=True)
        else:
            self.show(
                "SCAN RMA",
                _("Scan the RMA label of a received parcel, or F4 to pick one.")
                + " "
                + ngettext("{n} checklist loaded.", "{n} checklists loaded.", len(self.library.checklists)).format(
                    n=len(self.library.checklists)
                ),
            )

    # -- scans ------------------------------------------------------------------

    async def _take_scan(self, scan: Scan) -> None:
        if scan.kind in (ScanKind.EMPTY, ScanKind.GARBAGE):
            self.show("NOT READ", scan.problem)
            self.app.ring(problem=True)
            return
        if scan.kind == ScanKind.COMMAND:
            if scan.value in COMMAND_STEPS:
                await self._step(*COMMAND_STEPS[scan.value])()
            else:
                self.say(_("command {command} does nothing at inspection").format(command=scan.value))
            return
        if scan.kind == ScanKind.BIN:
            self.show(
                "NOT READ", _("{scan} is a bin label; bins are scanned at put-away (F12)").format(scan=scan.shown)
            )
            self.app.ring(problem=True)
            return
        if self.draft is not None:
            item = self.draft.current
            if item is not None and item.kind == Kind.MEASUREMENT:
                # a scale or meter acting as a keyboard types its reading as a burst
                self._take_text(scan.text)
                return
            self.say(
                _("Finish this item first (Enter confirms, Esc abandons); scan {scan} again after.").format(
                    scan=scan.shown
                )
            )
            self.app.ring(problem=True)
            return
        if scan.kind == ScanKind.LPN and await self._show_unit(scan.value):
            return  # (a plate on no unit may still be a carrier's number: it is looked up as an RMA below)
        by_sku = self._lines_with_sku(scan.text)
        if by_sku:  # an item without GTIN carries its SKU as barcode
            await self._item_scanned(ItemCode(scan.text, ""), by="sku", lines=by_sku)
            return
        if looks_like_item(scan):
            # Carrier numbers can look like UPC/EAN (12-13 digits, and 1 in 10 has a valid check digit):
            # a scan that names an RMA opens it, as at receiving.
            if await self.app.db.run(lambda store: store.find_rma(scan.text)) is not None:
                await self._open_rma(scan.text)
                return
            code, problem = read_item(scan)
            if code is None:
                self.show("NOT READ", f"{problem}\n" + _("Nothing recorded."))
                self.app.ring(problem=True)
                return
            await self._item_scanned(code)
            return
        await self._open_rma(scan.text)

    async def _open_rma(self, text: str) -> None:
        station, operator = self.app.settings.station, self.app.operator
        found = await self.app.db.run(lambda store: store.find_rma(text))
        if found is None:
            self.show(
                "NOT FOUND",
                _("No RMA matches {code}. Nothing recorded. Scan the RMA label on the parcel.").format(code=text[:60]),
            )
            self.app.ring(problem=True)
            return
        rma = found[0]
        if rma.stage == "expected":
            if rma.status != "authorized":
                self.show(
                    rma.status.upper(),
                    _(
                        "{code} is {status}; it cannot be received or inspected. "
                        "Put the parcel on the exceptions shelf and tell the supervisor."
                    ).format(code=rma.code, status=_(STATUSES.get(rma.status, rma.status))),
                )
                self.app.ring(problem=True)
                return
            self.show(
                "NOT RECEIVED",
                _("{code} ({customer}) has not been received yet.").format(code=rma.code, customer=rma.customer_name),
            )
            if not await self.app.push_screen_wait(
                Confirm(_("{code} is not received yet. Receive it now?").format(code=rma.code))
            ):
                self.show(
                    "NOT RECEIVED",
                    _("{code} not received; nothing recorded. Receive it first (F6).").format(code=rma.code),
                )
                return
            receipt, totals = await self.app.db.run(
                with_totals(lambda store: store.receive(rma.code, station, operator), station)
            )
            self.app.post_message(Recorded(totals))
            if receipt.outcome != Outcome.RECEIVED:
                self.show("ERROR", f"{rma.code}: {_(receipt.outcome.value)}")
                return
            rma = receipt.rma
        code = rma.code
        self.progress = await self.app.db.run(lambda store: store.inspection_progress(code))
        self.rma = rma
        if rma.stage == "inspected":
            self.show("ALREADY INSPECTED", _("{code}: every item is inspected. Nothing to do.").format(code=rma.code))
            self.app.ring(problem=True)
            return
        self.show(
            "SCAN ITEM",
            _("{code} {customer} · reason: {reason}").format(
                code=rma.code, customer=rma.customer_name, reason=rma.reason or "-"
            )
            + "\n"
            + (inspect_fully(rma) + "\n" if rma.risk else "")
            + _("Scan the barcode on each item (not the parcel)."),
        )
        self.app.ring(problem=False)

    def _lines_with_sku(self, text: str) -> list[Line]:
        """The open RMA's lines whose SKU is exactly this scan (any case)."""
        key = text.strip().upper()
        return [ln for ln in self.rma.lines if ln.sku.strip().upper() == key] if self.rma and key else []

    async def _show_unit(self, lpn: str) -> bool:
        """An inspected unit's license plate was scanned: show the unit (False when no unit has it)."""
        unit = await self.app.db.run(lambda store: store.unit_by_lpn(lpn))
        if unit is None:
            return False
        self.show("UNIT", describe_unit(unit))
        self.app.ring(problem=False)
        return True

    async def _item_scanned(self, code: ItemCode, *, by: str = "gtin", lines: list[Line] | None = None) -> None:
        """Start inspecting the unit a scan (or the inspector's pick, ``by="hand"``) names."""
        rma = self.rma
        if rma is None:
            self.show("SCAN RMA", _("Scan the RMA label first (or F4 to pick a received RMA), then the item."))
            self.app.ring(problem=True)
            return
        station, operator = self.app.settings.station, self.app.operator
        if lines is None:
            lines = [ln for ln in rma.lines if same_gtin(ln.gtin, code.gtin)]
        what = {"gtin": f"GTIN {code.gtin}", "sku": f"SKU {code.scanned}"}.get(by) or _("line {n}").format(
            n=lines[0].line_no
        )
        open_lines = [ln for ln in lines if len(self.progress.get(ln.line_no, ())) < ln.qty]
        earlier = await self.app.db.run(lambda store: store.serial_inspected_before(code.gtin, code.serial))
        reason = ""
        if not lines:
            expected = ", ".join(ln.gtin or _("{sku} (no GTIN)").format(sku=ln.sku) for ln in rma.lines)
            reason = _("GTIN {gtin} is not on {code} (expected {expected})").format(
                gtin=code.gtin, code=rma.code, expected=expected
            )
        elif not open_lines:
            reason = _("more units of {what} than {code} lists: every one is inspected already").format(
                what=what, code=rma.code
            )
        elif earlier:
            reason = _("serial {serial} of GTIN {gtin} was inspected before, on {when}").format(
                serial=code.serial, gtin=code.gtin, when=earlier
            )
        if reason:
            _mismatch, totals = await self.app.db.run(
                with_totals(
                    lambda store: store.record_mismatch(
                        rma.code,
                        code.scanned,
                        station,
                        operator,
                        gtin=code.gtin,
                        serial=code.serial,
                        lot=code.lot,
                        expiry=code.expiry,
                        reason=reason,
                    ),
                    station,
                )
            )
            self.show(
                "ITEM MISMATCH",
                f"{reason}.\n"
                + _("Recorded as item mismatch. Put the item on the exceptions shelf; do not inspect it."),
            )
            self.app.ring(problem=True)
            self.app.post_message(Recorded(totals))
            return
        line = open_lines[0]
        try:
            checklist = self.library.for_category(line.category)
        except ChecklistUnavailable as exc:
            self.show("CHECKLIST INVALID", f"{exc}\n" + _("This item cannot be inspected; nothing recorded."))
            self.app.ring(problem=True)
            return
        if self.routing is None:
            self.show(
                "ROUTING INVALID",
                _(
                    "{problem}\nThis item cannot be inspected until the routing rules are fixed; nothing recorded."
                ).format(problem=self.routing_problem),
            )
            self.app.ring(problem=True)
            return
        self.draft = Draft(rma, line, checklist, code, matched_by=by, routing=self.routing, language=self.language)
        unit = len(self.progress.get(line.line_no, ())) + 1
        extra = "  ".join(
            f"{k} {v}" for k, v in ((_("serial"), code.serial), (_("lot"), code.lot), (_("expiry"), code.expiry)) if v
        )
        how = {"sku": "  " + _("(by SKU)"), "hand": "  " + _("(picked by hand)")}.get(by, "")
        self.show(
            "INSPECT",
            _("line {n}: {item} ({sku}) · unit {unit} of {qty} · {category}").format(
                n=line.line_no,
                item=line.description or line.sku,
                sku=line.sku,
                unit=unit,
                qty=line.qty,
                category=line.category,
            )
            + f"  {extra}{how}",
        )
        self.app.ring(problem=False)

    # -- keys and command barcodes: one action each, queued in order with the scans --

    def action_pass(self) -> None:
        """P: the current check passes."""
        self._queue("key", self._step("pass"))

    def action_fail(self) -> None:
        """F: the current check fails (a photo is asked for when the check needs one)."""
        self._queue("key", self._step("fail"))

    def action_choose(self, n: int) -> None:
        """1-9: pick answer ``n`` of the current check."""
        self._queue("key", self._step("choose", str(n)))

    def action_not_applicable(self) -> None:
        """N: the current check does not apply to this item."""
        self._queue("key", self._step("not_applicable"))

    def action_claim(self) -> None:
        """Y: was the customer's stated reason confirmed? Steps through confirmed, not confirmed, can't tell."""
        self._queue("key", self._step("claim"))

    def action_photo(self) -> None:
        """C: take (or give) the photo the current check, or the first one missing, needs."""
        self._queue("key", self._step("photo"))

    def action_move(self, step: int) -> None:
        """Up / Down: move through the checklist."""
        self._queue("key", self._step("move", str(step)))

    def action_skip(self) -> None:
        """CMD:NEXT-ITEM: leave the current check for later."""
        self._queue("key", self._step("skip"))

    def action_abandon(self) -> None:
        """Esc: abandon the item's inspection (after asking), or close the RMA when no item is open."""
        self._queue("key", self._step("abandon"))

    def action_confirm(self) -> None:
        """Enter: save the inspection with the suggested disposition."""
        self._queue("key", self._step("confirm"))

    def action_final(self, disposition: str) -> None:
        """R / D / S: save with another disposition than the suggested one (an override, with a reason)."""
        self._queue("key", self._step("final", disposition))

    def action_channel(self) -> None:
        """O: send the unit to another channel than the routing rules' (asks why)."""
        self._queue("key", self._step("channel"))

    def action_pick(self) -> None:
        """F4: pick a received RMA, or the open RMA's item whose barcode cannot be read."""
        self._queue("key", self._step("pick"))

    def action_exceptions(self) -> None:
        """F1: close a line whose units never arrived as not received, or record an undeclared item."""
        self._queue("key", lambda: inspect_exception(self))

    def _step(self, name: str, arg: str = "") -> Callable[[], Awaitable[None]]:
        """The bench step of an action, to run when its turn in the queue comes."""
        step = getattr(self, f"_step_{name}")
        return (lambda: step(arg)) if arg else step

    def _open_draft(self, hint: str = ANSWER_FIRST) -> Draft | None:
        """The item being inspected; with none, ``hint`` says what to do first."""
        if self.draft is None:
            self.say(_(hint))
        return self.draft

    def _problem(self, problem: str) -> None:
        if problem:
            self.say(problem)
            self.app.ring(problem=True)

    async def _step_pass(self) -> None:
        if (draft := self._open_draft()) is not None:
            self._problem(draft.pass_current())

    async def _step_fail(self) -> None:
        if (draft := self._open_draft()) is None:
            return
        item = draft.current
        problem = draft.fail_current()
        if not problem and item is not None and item.photo_required_on_fail:
            await self._ask_photo(item.id)
        self._problem(problem)

    async def _step_choose(self, n: str) -> None:
        if (draft := self._open_draft()) is None:
            return
        item = draft.current
        problem = draft.choose(int(n))
        if (
            not problem
            and item is not None
            and item.photo_required_on_fail
            and item.id in {f.item.id for f in draft.suggestion().fails}
        ):
            await self._ask_photo(item.id)
        self._problem(problem)

    async def _step_claim(self) -> None:
        if (draft := self._open_draft()) is not None:
            draft.next_claim()

    async def _step_not_applicable(self) -> None:
        if (draft := self._open_draft()) is not None:
            self._problem(draft.not_applicable())

    async def _step_photo(self) -> None:
        if (draft := self._open_draft()) is None:
            return
        item = draft.current
        missing = draft.photos_missing()
        target = (
            item
            if item is not None and (item.kind == Kind.PHOTO or item in missing)
            else (missing[0] if missing else item)
        )
        if target is None:
            self._problem(_("no item needs a photo"))
        else:
            await self._take_photo(target.id)

    async def _step_move(self, step: str) -> None:
        if (draft := self._open_draft()) is not None:
            draft.move(int(step))

    async def _step_skip(self) -> None:
        if (draft := self._open_draft(_("Scan an item's barcode to inspect it."))) is not None:
            draft.skip()

    async def _step_abandon(self) -> None:
        if self.draft is None:
            self.rma, self.progress = None, {}
            self.show("SCAN RMA", _("Scan the RMA label of a received parcel, or F4 to pick one."))
        else:
            await self._abandon()

    async def _step_confirm(self) -> None:
        if self._open_draft(_("Scan an item's barcode to inspect it.")) is not None:
            await self._confirm(None)

    async def _step_final(self, disposition: str) -> None:
        if self._open_draft() is not None:
            await self._confirm(Disposition(disposition))

    async def _step_pick(self) -> None:
        await self._pick()

    async def _step_channel(self) -> None:
        if (draft := self._open_draft()) is None or draft.routing is None:
            return
        routed = draft.routed()
        bins = {c: draft.routing.bin_for(c) for c in Channel}
        change = await self.app.push_screen_wait(ChannelDialog(routed.channel, bins))
        if change is None:
            self.say(
                _("Channel unchanged: {channel}.").format(channel=(draft.channel() or (routed.channel, ""))[0].shown)
            )
            return
        draft.channel_choice = None if change.channel == routed.channel else (change.channel, change.reason)

    def _take_text(self, text: str) -> None:
        if self.draft is None:
            return
        problem = self.draft.enter_text(text)
        if problem:
            self.say(problem)
            self.app.ring(problem=True)

    async def _take_photo(self, item_id: str) -> None:
        """C or CMD:PHOTO: with a station camera, take the picture at once; otherwise ask."""
        camera = getattr(self.app, "photo_source", None)
        if camera is None:
            await self._ask_photo(item_id)
            return
        try:
            photo = await asyncio.to_thread(camera.capture, item_id)
        except PhotoError as exc:
            self.say(
                _("Camera: {problem}. Give a file path, or {key} for the 'no camera' exception.").format(
                    problem=exc, key=NO_CAMERA_KEY.upper()
                )
            )
            await self._ask_photo(item_id)
            return
        self.draft.attach(photo)
        self.say(
            _("Photo taken for {check}: #{photo}").format(
                check=self.draft.label(self.draft.checklist.item(item_id)), photo=photo.sha256[:8]
            )
        )

    async def _ask_photo(self, item_id: str) -> None:
        draft = self.draft
        item = draft.checklist.item(item_id)
        camera = getattr(self.app, "photo_source", None)  # the camera issue plugs a PhotoSource in here
        required = draft.photo_required(item)
        photo = await self.app.push_screen_wait(
            PhotoDialog(
                item.id, draft.label(item), camera, required=required, folder=photo_folder(self.app.settings.db_path)
            )
        )
        if photo is not None:
            draft.attach(photo)
        elif required:
            self.say(
                _("No photo yet for {check}; it is needed before saving (C adds it).").format(check=draft.label(item))
            )

    async def _abandon(self) -> None:
        if self.draft.answers and not await self.app.push_screen_wait(
            Confirm(_("Abandon this item's inspection? Its answers are not saved."))
        ):
            return
        self.draft = None
        self.show("ABANDONED", _("Nothing saved for that item. Scan the next item (or the same one again)."))

    async def _confirm(self, final: Disposition | None) -> None:
        draft = self.draft
        open_items = draft.unanswered()
        if open_items:
            draft.cursor = draft.checklist.items.index(open_items[0])
            n = len(open_items)
            head = ngettext("{n} check not answered yet: ", "{n} checks not answered yet: ", n).format(n=n)
            # all of them, on up to two lines: prompts shortened, or only the numbers the form shows
            self.say(head + draft.labels(open_items, width=max(20, 2 * (self.size.width - 6) - cells(head))))
            self.app.ring(problem=True)
            return
        for item in draft.photos_missing():
            await self._ask_photo(item.id)
            if item.id not in draft.photos:
                self.show(
                    "PHOTO NEEDED",
                    _(
                        "{check} needs a photo (or the recorded 'no camera' exception, {key} in the photo dialog). "
                        "Nothing saved yet."
                    ).format(check=draft.label(item), key=NO_CAMERA_KEY.upper()),
                )
                self.app.ring(problem=True)
                return
        suggestion = draft.suggestion()
        final = final or suggestion.disposition
        reason = note = ""
        if final != suggestion.disposition:
            override = await self.app.push_screen_wait(OverrideReason(suggestion.disposition.value, final.value))
            if override is None:
                self.say(_("Override cancelled; nothing saved. Enter confirms the suggestion."))
                return
            reason, note = override.reason, override.note
        station, operator = self.app.settings.station, self.app.operator
        approved_by = ""
        if reason and override_needs_supervisor(self.app.settings):
            if self.app.operator_role == "supervisor":
                approved_by = operator  # a supervisor approves their own override
            else:
                approved_by = await self.app.push_screen_wait(
                    SupervisorApproval(
                        _("Override: suggested {suggested}, final {final} ({reason}).").format(
                            suggested=shown(suggestion.disposition, upper=True),
                            final=shown(final, upper=True),
                            reason=_(reason),
                        )
                    )
                )
                if not approved_by:
                    self.say(_("Override not approved by a supervisor; nothing saved. Enter confirms the suggestion."))
                    return
        inspection = draft.to_inspection(final, reason, note)
        saved, totals = await self.app.db.run(
            with_totals(
                lambda store: store.save_inspection(inspection, station, operator, approved_by=approved_by), station
            )
        )
        code = saved.rma.code
        self.progress = await self.app.db.run(lambda store: store.inspection_progress(code))
        self.rma, self.draft = saved.rma, None
        if not reason:
            what = _("as suggested")
        elif approved_by:
            what = _("override, approved by {supervisor}").format(supervisor=approved_by)
        else:
            what = _("override")
        after = (
            _("{code} is fully inspected. Scan the next RMA.").format(code=code)
            if saved.rma_done
            else _("Scan the next item.")
        )
        where = (
            _("Put it in bin {bin} ({channel}); license plate {lpn}.").format(
                bin=inspection.bin, channel=Channel(inspection.channel).shown, lpn=saved.lpn
            )
            if inspection.channel
            else _(NEXT_STEP[final])
        )
        self.show(
            final.value.upper(),
            _("line {n} unit {unit} saved ({how}).").format(n=saved.line_no, unit=saved.unit_no, how=what)
            + " "
            + where
            + "\n"
            + after,
        )
        self.app.ring(problem=final != Disposition.RESELLABLE)
        self.app.post_message(Recorded(totals))
        await self._print_disposition(draft, inspection, saved, operator)

    async def _print_disposition(self, draft, inspection, saved, operator: str) -> None:
        """Print the label that routes the item, when the station has a printer (kept in its queue)."""
        failed = {a["item"]: a["severity"] for a in inspection.answers if a["failed"]}
        worst = sorted(
            (i for i in draft.checklist.items if i.id in failed),
            key=lambda i: ("critical", "major", "minor").index(failed[i.id] or "minor"),
        )
        try:
            label = disposition_label(
                inspection.final,
                sku=draft.line.sku,
                rma=saved.rma.code,
                line=saved.line_no,
                defect=worst[0].prompt_in(self.language) if worst else "",
                inspector=operator,
                channel=Channel(inspection.channel).shown if inspection.channel else "",
                bin=inspection.bin,
                lpn=saved.lpn,
            )
            job = await print_label(self.app, label, what=f"disposition {saved.rma.code}/{saved.line_no}")
        except LabelError as exc:
            self.say(
                _("Saved, but the disposition label cannot be made: {problem}. Write it by hand.").format(problem=exc)
            )
            return
        if job is not None:
            self.say(_("Disposition label queued for the printer (job {job}).").format(job=job))

    async def _pick(self) -> None:
        if self.draft is not None:
            self.say(_("Finish or abandon (Esc) this item before picking another RMA."))
            return
        if self.rma is not None and self.rma.stage != "inspected":
            # an RMA is open: F4 picks the item whose barcode cannot be read (Esc closes the RMA first)
            line_no = await self.app.push_screen_wait(PickLine(self.rma, self.progress))
            if line_no is not None:
                line = next(ln for ln in self.rma.lines if ln.line_no == line_no)
                await self._item_scanned(ItemCode("", ""), by="hand", lines=[line])
            return
        waiting = await self.app.db.run(lambda store: store.waiting_for_inspection())
        code = await self.app.push_screen_wait(PickRma(waiting))
        if code:
            await self._open_rma(code)

    # -- showing ----------------------------------------------------------------

    def show(self, word: str, detail: str = "") -> None:
        """The big word and the line under it (shown as text: it names scans, customers, items)."""
        self._shown = (word, detail)
        banner = self.query_one(OutcomeBanner)
        banner.show(word, detail, compact=self.short)
        banner.set_classes(WORDS.get(word, "info"))

    def say(self, message: str) -> None:
        """A one-line hint under the checklist, without changing the banner ("" clears it)."""
        hint = self.query_one("#hint", Static)
        hint.update(Content.styled(message, "bold") if message else "")
        hint.display = bool(message)

    def _redraw(self) -> None:
        """Bring the RMA lines, checklist, suggestion, typing field and focus in line with the state."""
        self.query_one("#rma", Static).update(self._rma_lines())
        form = self.query_one(ChecklistForm)
        form.compact = self.short
        form.show(self.draft)
        suggestion_box = self.query_one("#suggestion", Static)
        reading = self.query_one(ReadingField)
        draft = self.draft
        if draft is None:
            suggestion_box.update("")
            suggestion_box.set_classes("")
            reading.add_class("hidden")
        else:
            headline, why = draft.suggestion_line()
            missing = draft.photos_missing()
            photos = (
                "   "
                + _("📷 needed: {checks}").format(
                    checks=", ".join(f"#{draft.checklist.items.index(i) + 1}" for i in missing)
                )
                if missing
                else ""
            )
            answered = any(i.id in draft.answers for i in draft.checklist.items if i.kind.judged)
            channel = draft.channel_line() if answered else ""  # no channel before the first answer, as no grade
            claim = "   " + draft.claim_line()
            suggestion_box.update(
                Content.assemble(
                    (headline, "bold"), photos, claim, "\n", why, *(("\n", (channel, "bold")) if channel else ())
                )
            )
            suggestion_box.set_classes(draft.suggestion().disposition.value if answered else "")
            item = draft.current
            typing = item is not None and item.kind in (Kind.MEASUREMENT, Kind.NOTE)
            reading.set_class(not typing, "hidden")
            if typing:
                reading.placeholder = Draft.how_to_answer(item)
        self.query_one(ScanField).set_class(draft is not None, "hidden")  # room for the checklist
        offered = self.rma is not None and draft is None
        if offered != self._f1_offered:  # F1 comes and goes with the open RMA (check_action): footer redrawn
            self._f1_offered = offered
            self.refresh_bindings()
        self.query_one("#keys", Static).update(  # the footer shows P, F, C, Enter, Esc
            _("1-9 pick an answer  N n/a  ↑↓ move  R/D/S other disposition  O other channel")
            if draft
            else _("Scan each item (its GTIN or SKU) · F4 pick the item by hand · Esc close the RMA")
            if self.rma
            else _("Scan an RMA, then each item · F4 pick a received RMA · Esc close the RMA")
        )
        self._focus()

    def _focus(self) -> None:
        # set_focus at once, not widget.focus() (which runs later and could undo a newer decision, e.g. when a
        # dialog closes and the item it picked opens in the same step)
        draft = self.draft
        item = draft.current if draft else None
        if item is not None and item.kind in (Kind.MEASUREMENT, Kind.NOTE):
            self.set_focus(self.query_one(ReadingField))
        elif draft is not None:
            self.set_focus(None)  # single keys answer; scanner bursts still arrive via the wedge
        else:
            self.set_focus(self.query_one(ScanField))

    def _rma_lines(self) -> Content:
        rma = self.rma
        if rma is None:
            return Content("")
        rows = [
            Content.from_markup(
                _("[b]$code[/b]  $customer  ·  order $order  ·  reason: $reason  ·  stage [b]$stage[/b]"),
                code=rma.code,
                customer=rma.customer_name,
                order=rma.order_ref or "-",
                reason=rma.reason or "-",
                stage=_(STAGES.get(rma.stage, rma.stage)),
            )
        ]
        current = self.draft.line.line_no if self.draft else None
        if current is not None and self.short:  # the banner names the line; keep the rows for the checklist
            return rows[0]
        for ln in rma.lines:
            done = self.progress.get(ln.line_no, ())
            state = ", ".join(shown(d) for d in done) if done else pgettext("inspection", "waiting")
            mark = "▶" if ln.line_no == current else ("✔" if len(done) >= ln.qty else " ")
            rows.append(
                Content(
                    f" {mark} {ln.line_no}. {ln.qty} × {ln.description or ln.sku}  ({ln.sku}, "
                    f"{ln.gtin or _('no GTIN')}, {ln.category})  — {len(done)}/{ln.qty}: {state}"
                )
            )
        return Content("\n").join(rows)
