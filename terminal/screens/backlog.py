"""The backlog (F11): what waits at this station, oldest first — RMAs to inspect, units to put away — with age."""

from __future__ import annotations

from datetime import datetime
from gettext import gettext as _

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from terminal.backlog import STATES, STEPS, age_text, overdue_count, station_backlog
from terminal.i18n import N_
from terminal.widgets.footer import Footer
from terminal.widgets.status_bar import StatusBar
from terminal.workers import PassesWorkerFailures

STATE_STYLES = {"overdue": "b reverse red", "due_soon": "b yellow", "on_time": ""}


def _local(moment: datetime) -> str:
    """A due time as the wall clock shows it: month-day hour:minute, local time."""
    return moment.astimezone().strftime("%m-%d %H:%M")


class BacklogScreen(PassesWorkerFailures, ModalScreen[None]):
    """The station's backlog in a table; read in a worker when opened and again with R.

    A modal screen: scans that arrive while it is open wait for the working screen under it.
    """

    BINDINGS = [
        Binding("r", "reload", N_("Refresh")),
        Binding("escape", "close", N_("Close")),
        Binding("f11", "close", N_("Close"), show=False),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar()  # the header, its overdue count included
        with Vertical(id="backlog"):
            yield Label(_("WAITING AT THIS STATION, OLDEST FIRST"), classes="question")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Label("", id="said")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            _("waits for"), _("RMA / plate"), _("SKU"), _("age"), _("due"), _("state")
        )
        self.action_reload()

    @work(exclusive=True, group="backlog-screen", exit_on_error=False)
    async def action_reload(self) -> None:
        """Read the backlog on the database thread and show it."""
        backlog = await self.app.db.run(station_backlog)
        table = self.query_one(DataTable)
        table.clear()
        for w in backlog:
            table.add_row(
                _(STEPS[w.step]),
                Text(w.lpn or w.code),  # codes came from an import or a scan: text, never markup
                Text(w.sku[:12]),
                age_text(w.age_hours),
                _local(w.due_at),
                Text(_(STATES[w.state]), style=STATE_STYLES[w.state]),
            )
        said = self.query_one("#said", Label)
        if not backlog:
            said.update(_("Nothing waits at this station."))
        else:
            said.update(_("{n} waiting, {overdue} overdue.").format(n=len(backlog), overdue=overdue_count(backlog)))
        self.app.show_backlog(backlog)  # the header's count, from the same reading

    def action_close(self) -> None:
        """Back to the bench."""
        self.dismiss(None)
