"""The station's print jobs: what was printed, what waits, and reprinting one."""

from __future__ import annotations

import asyncio
from gettext import gettext as _

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from terminal.i18n import N_
from terminal.printing import PrintQueue, PrintQueueError
from terminal.workers import PassesWorkerFailures

# A job's state, and the kind of label a job's description starts with ("disposition RMA-1/2"), as shown.
STATES = {"waiting": N_("waiting"), "printed": N_("printed")}
KINDS = {"rma": N_("rma"), "disposition": N_("disposition"), "badge": N_("badge"), "commands": N_("commands")}


def described(what: str) -> str:
    """A job's description with its label kind in the language in force ("disposition RMA-1/2" -> "处置 RMA-1/2")."""
    kind, space, rest = what.partition(" ")
    return f"{_(KINDS[kind])}{space}{rest}" if kind in KINDS else what


class PrintJobs(PassesWorkerFailures, ModalScreen[None]):
    """The latest print jobs, newest first; R reprints the highlighted one, T retries waiting jobs now."""

    BINDINGS = [
        Binding("r", "reprint", N_("Reprint")),
        Binding("t", "retry", N_("Retry now")),
        Binding("escape", "close", N_("Close")),
    ]

    def __init__(self, queue: PrintQueue) -> None:
        super().__init__()
        self.queue = queue

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                _("PRINT JOBS — [b]R[/b] reprint   [b]T[/b] retry waiting jobs now   [b]Esc[/b] close"),
                classes="question",
            )
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Label("", id="said")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            _("job"), _("label"), _("state"), _("tries"), _("printed at"), _("last problem")
        )
        self.load()

    @work(exclusive=True, group="print-jobs", exit_on_error=False)
    async def load(self) -> None:
        """Read the jobs off the event loop and show them."""
        jobs = await asyncio.to_thread(self.queue.jobs)
        table = self.query_one(DataTable)
        table.clear()
        for job in jobs:
            table.add_row(
                str(job.id),
                Text(described(job.what) if job.what else job.format),
                _(STATES.get(job.state, job.state)),
                str(job.attempts),  # text, not markup
                (job.printed_at or "")[11:19],
                Text(job.last_error[:40]),
                key=str(job.id),
            )
        if not jobs:
            self.query_one("#said", Label).update(_("No print jobs yet."))

    @work(exclusive=True, group="print-jobs", exit_on_error=False)
    async def action_reprint(self) -> None:
        """Queue the highlighted job again, byte for byte."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        job_id = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            new_id = await asyncio.to_thread(self.queue.reprint, job_id)
        except PrintQueueError as exc:
            self.query_one("#said", Label).update(Content.styled(str(exc), "bold"))
            return
        self.query_one("#said", Label).update(_("Job {job} queued again as job {new}.").format(job=job_id, new=new_id))
        self.load()

    def action_retry(self) -> None:
        """Try the waiting jobs now (after the printer was fixed)."""
        self.queue.retry_now()
        self.query_one("#said", Label).update(_("Trying the waiting jobs now."))
        self.set_timer(1.0, self.load)

    def action_close(self) -> None:
        """Back to the bench."""
        self.dismiss(None)
