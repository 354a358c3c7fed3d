"""Small modal dialogs: confirm, sign in, and a supervisor's approval."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from sync.store import StoreError
from terminal.scanning import Kind, read_scan
from terminal.workers import PassesWorkerFailures


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


class SupervisorApproval(PassesWorkerFailures, ModalScreen[str | None]):
    """A supervisor scans their badge (or types their id) to approve an action; Escape cancels.

    Only a registered supervisor is taken: anyone else gets one line and the
    dialog waits for the right badge.  Dismissed with the supervisor's id.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"{self.what}\nA supervisor must approve: scan a supervisor's badge (Esc cancels).",
                classes="question",
                markup=False,
            )
            yield OperatorField(placeholder="supervisor's badge or id", id="supervisor-id", max_length=64)
            yield Label("", id="problem", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.clear()
        scan = read_scan(event.value.strip())
        if scan.text:
            self.take_badge(scan.value if scan.kind == Kind.BADGE else scan.text)

    @work(group="approval", exclusive=True, exit_on_error=False)
    async def take_badge(self, operator_id: str) -> None:
        """Check a scanned badge: a registered supervisor approves, anyone else is told so."""
        try:
            found = await self.app.db.run(lambda store: store.operator(operator_id))
        except StoreError as exc:
            self.query_one("#problem", Label).update(str(exc))
            return
        if found is None:
            problem = f"{operator_id} is not a registered operator; scan a supervisor's badge."
        elif found.role != "supervisor":
            article = "an" if found.role[0] in "aeiou" else "a"
            problem = f"{found.id} ({found.name or 'no name'}) is {article} {found.role}, not a supervisor."
        else:
            self.dismiss(found.id)
            return
        self.query_one("#problem", Label).update(problem)
        self.app.bell()

    def action_cancel(self) -> None:
        """Close without approval."""
        self.dismiss(None)
