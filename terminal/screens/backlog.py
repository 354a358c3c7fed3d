"""The backlog (F11): what waits at this station, due first — RMAs to inspect, units to put away — with age,
due time and, where it is not the usual ``standard``, the RMA's priority (why an express RMA is due sooner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from gettext import gettext as _

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from sync.protocol import DEFAULT_PRIORITY
from terminal.backlog import STATES, STEPS, age_text, overdue_count, station_backlog
from terminal.i18n import N_
from terminal.widgets.footer import Footer
from terminal.widgets.status_bar import StatusBar
from terminal.workers import PassesWorkerFailures

STATE_STYLES = {"overdue": "b reverse red", "due_soon": "b yellow", "on_time": ""}
# a priority is one word of up to 32 letters, a SKU up to 12 shown: longer ones are cut (…) so 80 columns fit
PRIORITY_WIDTH = 8
SKU_COLUMN, SKU_WIDTHS = 2, (6, 12)  # the SKU gets what the other columns leave it, within these
DUE_CLOCK = timedelta(hours=12)  # a due time this near shows its hour:minute, one further off its day


def _cut(text: str, width: int, style: str = "") -> Text:
    """Data as text (never markup) in at most ``width`` columns, its end replaced by … when it is longer."""
    cut = Text(text, style=style)
    cut.truncate(width, overflow="ellipsis")
    return cut


def _priority(priority: str) -> Text:
    """An RMA's priority as the table shows it: nothing for ``standard`` (the usual case stays quiet), else the
    word itself in bold — data: neither translated nor read as markup."""
    return Text("") if priority == DEFAULT_PRIORITY else _cut(priority, PRIORITY_WIDTH, "b")


def _headers() -> list[str]:
    """The table's column headers, translated."""
    return [_("waits for"), _("RMA / plate"), _("SKU"), _("age"), _("due"), _("state"), _("priority")]


def _due(moment: datetime, now: datetime) -> str:
    """A due time as the wall clock shows it, local time: hour:minute within half a day of ``now`` (the state says
    whether before or after it), month-day further off — short, so the priority column fits in 80 columns."""
    return moment.astimezone().strftime("%H:%M" if abs(moment - now) < DUE_CLOCK else "%m-%d")


def _sku_room(table: DataTable, rows: list[list], headers: list[str]) -> int:
    """How many characters of SKU fit beside the other columns in the table's width (a scrollbar's too)."""
    width = table.region.width
    if not width:  # not laid out yet
        return SKU_WIDTHS[1]
    if len(rows) >= table.region.height:  # a scrollbar will take its columns
        width -= table.styles.scrollbar_size_vertical
    pad = 2 * table.cell_padding
    others = sum(
        max(cell_len(str(cell)) for cell in [header, *(row[i] for row in rows)]) + pad
        for i, header in enumerate(headers)
        if i != SKU_COLUMN
    )
    return max(SKU_WIDTHS[0], min(SKU_WIDTHS[1], width - others - pad))


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
            yield Label(_("WAITING AT THIS STATION, DUE FIRST"), classes="question")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Label("", id="said")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*_headers())
        self.action_reload()

    @work(exclusive=True, group="backlog-screen", exit_on_error=False)
    async def action_reload(self) -> None:
        """Read the backlog on the database thread and show it."""
        backlog = await self.app.db.run(station_backlog)
        table = self.query_one(DataTable)
        table.clear()
        now = datetime.now(UTC)
        rows = [
            [
                _(STEPS[w.step]),
                Text(w.lpn or w.code),  # codes came from an import or a scan: text, never markup
                w.sku,
                age_text(w.age_hours),
                _due(w.due_at, now),
                Text(_(STATES[w.state]), style=STATE_STYLES[w.state]),
                _priority(w.priority),
            ]
            for w in backlog
        ]
        room = _sku_room(table, rows, _headers())
        for row in rows:
            row[SKU_COLUMN] = _cut(row[SKU_COLUMN], room)
            table.add_row(*row)
        said = self.query_one("#said", Label)
        if not backlog:
            said.update(_("Nothing waits at this station."))
        else:
            said.update(_("{n} waiting, {overdue} overdue.").format(n=len(backlog), overdue=overdue_count(backlog)))
        self.app.show_backlog(backlog)  # the header's count, from the same reading

    def action_close(self) -> None:
        """Back to the bench."""
        self.dismiss(None)
