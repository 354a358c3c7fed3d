"""Dialogs for the exceptions: the unexpected parcels (a supervisor attaches one or gives it a blind RMA, F1 at
receiving), and a line not received or an undeclared item at inspection (F1 on the inspect screen)."""

from __future__ import annotations

from dataclasses import dataclass
from gettext import gettext as _

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from sync.store import Rma, StoreError, UnexpectedParcel
from terminal.exceptions import closed_line, open_units, parcel_line, resolved_line, undeclared_line
from terminal.i18n import N_
from terminal.messages import Recorded
from terminal.screens.dialogs import Confirm, SupervisorApproval
from terminal.today import with_totals
from terminal.widgets.footer import Footer
from terminal.workers import PassesWorkerFailures


class TextField(Input):
    """A text input that takes a scanner's burst itself (an RMA code, an item's barcode)."""

    ACCEPTS_SCANS = True


async def supervisor_approval(screen: ModalScreen, what: str) -> str:
    """The supervisor who approves ``what``: the signed-in one, or the one whose badge the dialog takes ("": none)."""
    app = screen.app
    if getattr(app, "operator_role", "") == "supervisor":
        return app.operator  # type: ignore[attr-defined]
    return await app.push_screen_wait(SupervisorApproval(what)) or ""


class UnexpectedParcels(PassesWorkerFailures, ModalScreen[None]):
    """The unexpected parcels waiting on the shelf, newest first: A attaches the highlighted one to an RMA (type or
    scan its code, Enter), B creates a blind RMA for it; a supervisor approves either.  Esc closes."""

    BINDINGS = [
        Binding("a", "attach", N_("Attach to RMA")),
        Binding("b", "blind", N_("Blind RMA")),
        Binding("escape", "close", N_("Close")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.parcels: list[UnexpectedParcel] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(_("Unexpected parcels waiting (newest first)"), id="title", classes="question")
            yield OptionList(id="parcels")
            yield TextField(placeholder=_("RMA code for this parcel — Enter (Esc: back)"), id="rma", max_length=64)
            yield Label("", id="problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rma", TextField).display = False
        self.reload()

    @work(group="parcels", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the waiting parcels (database thread) and list them."""
        self.parcels = await self.app.db.run(lambda store: store.unexpected_parcels())  # type: ignore[attr-defined]
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options([Option(Content(parcel_line(p)), id=p.event_id) for p in self.parcels])
        if self.parcels:
            listing.highlighted = 0
        else:
            self.query_one("#title", Label).update(_("No unexpected parcel is waiting at this station."))
        listing.focus()

    def _chosen(self) -> UnexpectedParcel | None:
        listing = self.query_one(OptionList)
        if listing.highlighted is None or not self.parcels:
            self._say(_("No parcel chosen: ↑↓ to one first."))
            return None
        return self.parcels[listing.highlighted]

    def _say(self, text: str) -> None:
        self.query_one("#problem", Label).update(text)

    def action_attach(self) -> None:
        """A: ask for the RMA the highlighted parcel belongs to."""
        if self._chosen() is None:
            return
        field = self.query_one("#rma", TextField)
        field.display = True
        field.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, _event: OptionList.OptionSelected) -> None:
        self.action_attach()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        code = event.value.strip()
        parcel = self._chosen()
        if code and parcel is not None:
            event.input.clear()
            self.resolve(parcel, code)

    @work(group="resolve", exclusive=True, exit_on_error=False)
    async def resolve(self, parcel: UnexpectedParcel, code: str) -> None:
        """Attach ``parcel`` to RMA ``code`` (``code`` ""): a blind RMA), after a supervisor's approval."""
        what = (
            _("Attach the unexpected parcel {scanned} to {code}.").format(scanned=parcel.scanned[:40], code=code)
            if code
            else _("Create a blind RMA for the unexpected parcel {scanned}.").format(scanned=parcel.scanned[:40])
        )
        supervisor = await supervisor_approval(self, what)
        if not supervisor:
            self._say(_("Not approved by a supervisor; nothing recorded."))
            return
        station, operator = self.app.settings.station, self.app.operator  # type: ignore[attr-defined]
        try:
            if code:
                job = with_totals(
                    lambda store: store.attach_parcel(parcel.event_id, code, station, operator, approved_by=supervisor),
                    station,
                )
            else:
                job = with_totals(
                    lambda store: store.create_blind_rma(parcel.event_id, station, operator, approved_by=supervisor),
                    station,
                )
            done, totals = await self.app.db.run(job)  # type: ignore[attr-defined]
        except StoreError as exc:
            self._say(str(exc))
            self.app.bell()
            return
        self.app.post_message(Recorded(totals))
        self.query_one("#rma", TextField).display = False
        self._say(resolved_line(done))
        self.reload()

    @work(group="resolve", exclusive=True, exit_on_error=False)
    async def action_blind(self) -> None:
        """B: create a blind RMA for the highlighted parcel (after asking), approved by a supervisor."""
        parcel = self._chosen()
        if parcel is None:
            return
        if await self.app.push_screen_wait(
            Confirm(
                _("Create a blind RMA for {scanned} (one line UNKNOWN × 1; inspect what is in it)?").format(
                    scanned=parcel.scanned[:40]
                )
            )
        ):
            self.resolve(parcel, "")

    def action_close(self) -> None:
        """Esc: back from the RMA code to the list, or close."""
        field = self.query_one("#rma", TextField)
        if field.display:
            field.display = False
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)


@dataclass(frozen=True)
class Undeclared:
    """An item found in the parcel that no line declares: its barcode (or a few words) and a note."""

    barcode: str
    note: str = ""


class InspectExceptions(ModalScreen[int | Undeclared | None]):
    """The open RMA's exceptions: a line's number closes its open units as not received; U records an undeclared
    item (scan its barcode, Enter, a note, Enter).  Esc cancels."""

    BINDINGS = [
        Binding("u", "undeclared", N_("Undeclared item")),
        Binding("escape", "cancel", N_("Cancel")),
    ] + [Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)]

    def __init__(self, rma: Rma, progress: dict[int, tuple[str, ...]]) -> None:
        super().__init__()
        self.rma = rma
        self.open = open_units(rma, progress)
        self._barcode = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Content(
                    _(
                        "{code}: a line whose units never arrived — its number closes them as not received. "
                        "U: an item no line declares."
                    ).format(code=self.rma.code)
                ),
                classes="question",
            )
            yield OptionList(
                *[
                    Option(
                        Content(
                            f"{ln.line_no}. {ln.qty} × {ln.description or ln.sku}  ({ln.sku})  — "
                            + _("{n} open").format(n=self.open[ln.line_no])
                        ),
                        id=str(ln.line_no),
                    )
                    for ln in self.rma.lines
                    if ln.line_no in self.open
                ]
            )
            yield TextField(placeholder=_("the item's barcode — scan it, or type a few words; Enter"), id="barcode")
            yield Label("", id="problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextField).display = False
        self.query_one(OptionList).focus()

    def action_pick(self, number: int) -> None:
        """The line with this number: close its open units as not received."""
        if number in self.open:
            self.dismiss(number)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_undeclared(self) -> None:
        """U: ask for the undeclared item's barcode."""
        field = self.query_one(TextField)
        field.display = True
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text and not self._barcode:
            return
        if not self._barcode:
            self._barcode = text
            event.input.clear()
            event.input.placeholder = _("a note on {barcode} (what it is, its state) — Enter; none: Enter").format(
                barcode=text[:30]
            )
            self.query_one("#problem", Label).update(_("Barcode: {barcode}").format(barcode=text[:60]))
            return
        self.dismiss(Undeclared(self._barcode, text))

    def action_cancel(self) -> None:
        """Close without recording anything."""
        self.dismiss(None)


async def inspect_exception(screen) -> None:
    """F1 on the inspect screen: close a line as not received, or record an undeclared item (with a photo).

    ``screen`` is the inspect screen (its open RMA, progress, banner, photo source); runs in its turn in the
    screen's input queue, so it never overtakes a scan.
    """
    from terminal.photos import photo_folder
    from terminal.screens.inspect_dialogs import PhotoDialog

    app, rma = screen.app, screen.rma
    if screen.draft is not None:
        screen.say(_("Finish or abandon (Esc) this item first; then F1."))
        return
    if rma is None:
        screen.say(
            _("Scan the RMA label first (or F4 to pick one); then F1 for its missing lines or an undeclared item.")
        )
        return
    choice = await app.push_screen_wait(InspectExceptions(rma, screen.progress))
    station, operator, code = app.settings.station, app.operator, rma.code
    if isinstance(choice, int):
        line = next(ln for ln in rma.lines if ln.line_no == choice)
        units = open_units(rma, screen.progress).get(choice, 0)
        if not await app.push_screen_wait(
            Confirm(
                _("Close line {n} of {code} ({units} × {item}) as not received?").format(
                    n=choice, code=code, units=units, item=line.description or line.sku
                )
            )
        ):
            screen.say(_("Nothing recorded."))
            return
        closed, totals = await app.db.run(
            with_totals(lambda store: store.close_not_received(code, choice, station, operator), station)
        )
        screen.progress = await app.db.run(lambda store: store.inspection_progress(code))
        screen.rma = closed.rma
        screen.show("RMA INSPECTED" if closed.rma_done else "NOT RECEIVED", closed_line(closed))
        app.ring(problem=False)
        app.post_message(Recorded(totals))
    elif isinstance(choice, Undeclared):
        photo = await app.push_screen_wait(
            PhotoDialog(
                "undeclared",
                _("undeclared item {barcode}").format(barcode=choice.barcode[:40]),
                getattr(app, "photo_source", None),
                required=False,
                folder=photo_folder(app.settings.db_path),
            )
        )
        photos = [photo.record()] if photo is not None else []
        item, totals = await app.db.run(
            with_totals(
                lambda store: store.record_undeclared(
                    code, choice.barcode, station, operator, note=choice.note, photos=photos
                ),
                station,
            )
        )
        screen.show("UNDECLARED ITEM", undeclared_line(item))
        app.ring(problem=True)
        app.post_message(Recorded(totals))
