"""Small modal dialogs: confirm, sign in, and a supervisor's approval."""

from __future__ import annotations

from gettext import gettext as _

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from sync.store import StoreError
from terminal.i18n import N_
from terminal.scanning import Kind, read_scan
from terminal.workers import PassesWorkerFailures

# A role as a sentence names it ("is an inspector"); marked here, translated when shown.
ROLE_WITH_ARTICLE = {"clerk": N_("a clerk"), "inspector": N_("an inspector"), "supervisor": N_("a supervisor")}


class Confirm(ModalScreen[bool]):
    """Ask a yes/no question; Y or Enter confirms, N or Escape cancels."""

    BINDINGS = [Binding("y,enter", "answer(True)", N_("Yes")), Binding("n,escape", "answer(False)", N_("No"))]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question", markup=False)  # names customers and codes: text
            yield Label(_("[b]Y[/b] / Enter = yes     [b]N[/b] / Esc = no"))

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


class OperatorField(Input):
    """The operator id input: a badge scanned here is the answer, not a parcel."""

    ACCEPTS_SCANS = True


class SignIn(ModalScreen[str | None]):
    """Type an operator id (or scan a badge) to sign in; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Scan your badge, or type your operator id and press Enter"), classes="question")
            yield OperatorField(placeholder=_("operator id"), id="operator-id", max_length=64)

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

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                self.what + "\n" + _("A supervisor must approve: scan a supervisor's badge (Esc cancels)."),
                classes="question",
                markup=False,
            )
            yield OperatorField(placeholder=_("supervisor's badge or id"), id="supervisor-id", max_length=64)
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
            problem = _("{operator} is not a registered operator; scan a supervisor's badge.").format(
                operator=operator_id
            )
        elif found.role != "supervisor":
            problem = _("{operator} ({name}) is {role_with_article}, not a supervisor.").format(
                operator=found.id,
                name=found.name or _("no name"),
                role_with_article=_(ROLE_WITH_ARTICLE.get(found.role, found.role)),
            )
        else:
            self.dismiss(found.id)
            return
        self.query_one("#problem", Label).update(problem)
        self.app.bell()

    def action_cancel(self) -> None:
        """Close without approval."""
        self.dismiss(None)
