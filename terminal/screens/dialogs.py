"""Small modal dialogs: confirm, and sign in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class Confirm(ModalScreen[bool]):
    """Ask a yes/no question; Y or Enter confirms, N or Escape cancels."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question", markup=False)  # names customers and codes: text
            yield Label("[b]Y[/b] / Enter = yes     [b]N[/b] / Esc = no")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


class OperatorField(Input):
    """The operator id input: a badge scanned here is the answer, not a parcel."""

    ACCEPTS_SCANS = True


class SignIn(ModalScreen[str | None]):
    """Type an operator id (or scan a badge) to sign in; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Scan your badge, or type your operator id and press Enter", classes="question")
            yield OperatorField(placeholder="operator id", id="operator-id", max_length=64)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without signing in."""
        self.dismiss(None)
