"""Dialogs of the inspect screen: override reason, other channel, defect photo, pick an RMA or an item's line."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from gettext import gettext as _
from gettext import ngettext

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from qc_checklists import Channel, Disposition
from sync.store import Rma
from terminal.i18n import N_
from terminal.inspection import OTHER, override_reasons, shown
from terminal.photos import Photo, PhotoError, PhotoSource, no_camera, photo_from_file
from terminal.receiving import when
from terminal.widgets.footer import Footer


class TextField(Input):
    """A text input that takes a scanner's burst itself (a reason or a path is typed here)."""

    ACCEPTS_SCANS = True


@dataclass(frozen=True)
class Override:
    """Why the inspector chose another disposition than the suggested one."""

    reason: str
    note: str = ""


class OverrideReason(ModalScreen[Override | None]):
    """Pick a reason (1-5 or ↑↓ Enter), add a few words (needed for "Other"), Enter saves; Esc cancels.

    The reasons offered depend on the direction: grading worse than the rules
    suggest has other reasons than grading better.
    """

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))] + [
        Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)
    ]

    def __init__(self, suggested: str, final: str) -> None:
        super().__init__()
        self.suggested, self.final = suggested, final
        self.reasons = override_reasons(Disposition(suggested), Disposition(final))
        self.reason: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Content.from_markup(
                    _("Override: suggested [b]$suggested[/b], final [b]$final[/b]. Why?"),
                    suggested=shown(self.suggested, upper=True),
                    final=shown(self.final, upper=True),
                ),
                classes="question",
            )
            yield OptionList(
                *[Option(Content(f"{n}  {_(text)}")) for n, text in enumerate(self.reasons, 1)], id="reasons"
            )
            yield TextField(placeholder=_("details (required for Other) — Enter saves"), id="note", max_length=300)
            yield Label("", id="problem")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_pick(self, number: int) -> None:
        """Choose a reason by its number."""
        if number <= len(self.reasons):
            self._choose(number - 1)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, index: int) -> None:
        self.reason = self.reasons[index]
        self.query_one(OptionList).highlighted = index
        self.query_one("#problem", Label).update(
            Content.from_markup(_("Reason: [b]$reason[/b] — add details, Enter saves"), reason=_(self.reason))
        )
        self.query_one("#note", TextField).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        note = " ".join(event.value.split())
        if self.reason is None:
            self.query_one("#problem", Label).update(
                Content.styled(_("Pick a reason first (1-{n}).").format(n=len(self.reasons)), "bold")
            )
            self.query_one(OptionList).focus()
        elif self.reason == OTHER and len(note) < 3:
            self.query_one("#problem", Label).update(
                Content.styled(_("'Other' needs a few words: what did you see?"), "bold")
            )
        else:
            self.dismiss(Override(self.reason, note))

    def action_cancel(self) -> None:
        """Close without overriding."""
        self.dismiss(None)


@dataclass(frozen=True)
class ChannelChange:
    """The channel the inspector sends the unit to instead of the rules' one, and why."""

    channel: Channel
    reason: str


class ChannelDialog(ModalScreen[ChannelChange | None]):
    """Pick another channel (1-7 or ↑↓ Enter), say why (required), Enter saves; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")] + [
        Binding(str(n), f"pick({n})", show=False) for n in range(1, len(Channel) + 1)
    ]

    def __init__(self, suggested: Channel, bins: dict[Channel, str]) -> None:
        super().__init__()
        self.suggested, self.bins = suggested, bins
        self.channels = list(Channel)
        self.channel: Channel | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Content(
                    _("The rules send this unit to {channel}. Where does it go instead, and why?").format(
                        channel=self.suggested.shown
                    )
                ),
                classes="question",
            )
            yield OptionList(
                *[
                    Option(
                        Content(
                            _("{n}  {channel}  (bin {bin})").format(
                                n=n, channel=c.shown, bin=self.bins.get(c, c.bin_name)
                            )
                        )
                    )
                    for n, c in enumerate(self.channels, 1)
                ],
                id="channels",
            )
            yield TextField(placeholder=_("why (required) — Enter saves"), id="reason", max_length=300)
            yield Label("", id="problem")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_pick(self, number: int) -> None:
        """Choose a channel by its number."""
        if number <= len(self.channels):
            self._choose(number - 1)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, index: int) -> None:
        self.channel = self.channels[index]
        self.query_one(OptionList).highlighted = index
        self.query_one("#problem", Label).update(
            Content.styled(_("Channel {channel}: say why, Enter saves").format(channel=self.channel.shown), "bold")
        )
        self.query_one("#reason", TextField).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = " ".join(event.value.split())
        if self.channel is None:
            self.query_one("#problem", Label).update(
                Content.styled(_("Pick a channel first (1-{n}).").format(n=len(self.channels)), "bold")
            )
            self.query_one(OptionList).focus()
        elif len(reason) < 3:
            self.query_one("#problem", Label).update(
                Content.styled(_("A changed channel needs a reason: a few words on why."), "bold")
            )
        else:
            self.dismiss(ChannelChange(self.channel, reason))

    def action_cancel(self) -> None:
        """Close; the rules' channel stays."""
        self.dismiss(None)


NO_CAMERA_KEY = "f12"  # not F9: that is "print jobs" everywhere else in the station


class PhotoDialog(ModalScreen[Photo | None]):
    """A photo for one item: a file path (Enter), a capture (F8, when a camera exists), or F12 no camera.

    A file is copied into the station's photo folder under its SHA-256 when
    it is attached, so the evidence stays when the original goes.
    """

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding(NO_CAMERA_KEY, "no_camera", N_("No camera here")),
        Binding("f8", "capture", N_("Take photo")),
    ]

    def __init__(
        self, item_id: str, prompt: str, camera: PhotoSource | None = None, *, required: bool = True, folder=None
    ) -> None:
        super().__init__()
        self.item_id, self.prompt, self.camera = item_id, prompt, camera
        self.required, self.folder = required, folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = Content.from_markup(
                _("Photo required: [b]$prompt[/b]") if self.required else _("Photo (optional): [b]$prompt[/b]"),
                prompt=self.prompt,
            )
            yield Label(title, classes="question")
            yield TextField(placeholder=_("photo file path — Enter"), id="path", max_length=1000)
            keys = (_("F8 take photo") + "   " if self.camera else "") + _(
                "{key} no camera at this station   Esc cancel"
            ).format(key=NO_CAMERA_KEY.upper())
            yield Label(keys, id="keys")
            yield Label("", id="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextField).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F8 (take photo) is only offered, and shown in the footer, when the station has a camera."""
        return self.camera is not None if action == "capture" else True

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            photo = await asyncio.to_thread(photo_from_file, self.item_id, event.value, self.folder)
        except PhotoError as exc:
            self.query_one("#problem", Label).update(Content.styled(str(exc), "bold"))  # names the typed path
            return
        self.dismiss(photo)

    async def action_capture(self) -> None:
        """Take the photo with the station's camera (the camera issue provides one)."""
        if self.camera is None:
            self.query_one("#problem", Label).update(
                Content.styled(
                    _("No camera configured: give a file path, or {key}.").format(key=NO_CAMERA_KEY.upper()), "bold"
                )
            )
            return
        try:
            photo = await asyncio.to_thread(self.camera.capture, self.item_id)
        except Exception as exc:  # noqa: BLE001 - a camera failing must not lose the inspection
            self.query_one("#problem", Label).update(Content.styled(_("Camera: {problem}").format(problem=exc), "bold"))
            return
        self.dismiss(photo)

    def action_no_camera(self) -> None:
        """Record that this station has no camera."""
        self.dismiss(no_camera(self.item_id))

    def action_cancel(self) -> None:
        """Close without a photo."""
        self.dismiss(None)


class PickRma(ModalScreen[str | None]):
    """Received RMAs waiting for inspection, longest waiting first; Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, waiting: list[Rma]) -> None:
        super().__init__()
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                ngettext(
                    "{n} received RMA waiting for inspection",
                    "{n} received RMAs waiting for inspection",
                    len(self.waiting),
                ).format(n=len(self.waiting))
                if self.waiting
                else _("No received RMA is waiting for inspection."),
                classes="question",
            )
            yield OptionList(
                *[
                    Option(
                        Content(
                            f"{r.code}  {r.customer_name}  ·  "
                            + _("received {when}").format(when=when(r.received_at))
                            + "  ·  "
                            + ngettext("{n} item", "{n} items", sum(ln.qty for ln in r.lines)).format(
                                n=sum(ln.qty for ln in r.lines)
                            )
                        ),
                        id=r.code,
                    )
                    for r in self.waiting
                ]
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without picking."""
        self.dismiss(None)


class PickLine(ModalScreen[int | None]):
    """The open RMA's lines still to inspect, by number: the item is picked by hand (its code cannot be read)."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))] + [
        Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)
    ]

    def __init__(self, rma: Rma, progress: dict[int, tuple[str, ...]]) -> None:
        super().__init__()
        self.rma = rma
        self.open_lines = [ln for ln in rma.lines if len(progress.get(ln.line_no, ())) < ln.qty]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Content(
                    _(
                        "Pick the item of {code} by hand — only when it has no readable barcode "
                        "(recorded as picked by hand). Its number, or ↑↓ Enter; Esc cancels."
                    ).format(code=self.rma.code)
                )
                if self.open_lines
                else Content(_("Every item of {code} is inspected.").format(code=self.rma.code)),
                classes="question",
            )
            yield OptionList(
                *[
                    Option(
                        Content(
                            f"{ln.line_no}. {ln.qty} × {ln.description or ln.sku}  ({ln.sku}, "
                            f"{ln.gtin or _('no GTIN')}, {ln.category})"
                        ),
                        id=str(ln.line_no),
                    )
                    for ln in self.open_lines
                ]
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_pick(self, number: int) -> None:
        """Pick the line with this number (as the lines are numbered on the screen)."""
        if any(ln.line_no == number for ln in self.open_lines):
            self.dismiss(number)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        """Close without picking."""
        self.dismiss(None)
