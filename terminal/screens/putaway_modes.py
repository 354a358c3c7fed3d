"""The put-away screen's sort mode (F5) and bin count (F4), and what a bin scan shows of its contents.

Sort mode: each plate scanned says, big, the open bin its unit goes to — or
that it is in it already; a bin scan after it still puts the unit away.
Count: F4, scan the bin's label, scan every unit in it, F4 again to finish:
the station lists the missing and extra units and records the count
(``bin.counted``); Esc stops a count without recording it.  The database work
runs in the database thread, in scan order (the finish waits in the scan queue).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from gettext import gettext as _

from textual.widgets import Static

from sync.store import Container, StoreError, Unit
from terminal.containers import container_line, content_lines, count_detail, count_line
from terminal.i18n import N_
from terminal.i18n.cells import pad
from terminal.scanning import Kind, Scan
from terminal.widgets.outcome_banner import OutcomeBanner

SORTING = N_("Sort mode: scan a unit's license plate; the screen says its bin. F5 ends sort mode.")
COUNT_BIN = N_("Count: scan the label of the bin to count (Esc: stop).")
FINISH = Scan("", Kind.EMPTY, "finish-count", "key")  # F4 during a count: queued behind the scans before it


class SortAndCount:
    """Sort mode and counts for the put-away screen (mixed into :class:`~terminal.screens.putaway.PutAwayScreen`)."""

    sorting = False
    counting: str | None = None  # None: no count; "": waiting for the bin's label; else the bin being counted
    counted: list[str]
    recent: deque[str]

    # -- keys --

    def action_sort(self) -> None:
        """F5: sort mode on or off."""
        self.sorting = not self.sorting
        banner = self.query_one(OutcomeBanner)
        if self.sorting:
            banner.show("SORT", _(SORTING))
        else:
            from terminal.screens.putaway import READY

            banner.show("SCAN", _(READY))

    def action_count(self) -> None:
        """F4: start a count, or finish the one going on."""
        if self.counting is None:
            self.counting, self.counted = "", []
            self.query_one(OutcomeBanner).show("COUNT", _(COUNT_BIN))
        elif self.counting == "":
            self.query_one(OutcomeBanner).show("COUNT", _(COUNT_BIN))
        else:
            self.scans.put_nowait(FINISH)

    def action_stop_count(self) -> None:
        """Esc: stop a count; nothing recorded."""
        if self.counting is None:
            return
        bin_name, self.counting = self.counting, None
        self.query_one(OutcomeBanner).show(
            "SCAN",
            _("Count of {bin} stopped; nothing recorded.").format(bin=bin_name or "-"),
        )

    # -- scans (called by the screen's scan loop, in order) --

    async def take_count_scan(self, scan: Scan) -> None:
        """A scan during a count: the bin first, then its units; FINISH records it."""
        banner = self.query_one(OutcomeBanner)
        app = self.app
        bins = self.bins or {}
        if scan is FINISH:
            await self._finish_count(bins)
        elif self.counting == "":
            if scan.kind != Kind.BIN:
                self._refused("COUNT", _("Scan the label of the bin to count first (Esc: stop)."))
                return
            found: Container | None = await app.db.run(lambda store: store.container(scan.value, bins=bins))
            if found is None:
                self._refused(
                    "UNKNOWN BIN", _("No bin {bin} at this station; scan the label of a bin.").format(bin=scan.value)
                )
                return
            self.counting = found.name
            banner.show(
                "COUNT",
                _("Counting {bin}: the station has {count} units in it. Scan each unit; F4 when done.").format(
                    bin=found.name, count=len(found.contents)
                ),
            )
            app.ring(problem=False)
        elif scan.kind == Kind.LPN:
            if scan.value not in self.counted:
                self.counted.append(scan.value)
            banner.show(
                "COUNT",
                _("{lpn} counted: {count} units found in {bin} so far. F4 when done.").format(
                    lpn=scan.value, count=len(self.counted), bin=self.counting
                ),
            )
            app.ring(problem=False)
        elif scan.kind == Kind.BIN:
            self._refused(
                "COUNT",
                _("Counting {bin}: finish it first (F4), or stop it (Esc).").format(bin=self.counting),
            )
        else:
            self._refused(
                "NOT A PLATE",
                _("{scan} is not a license plate; not counted — scan the plates on the units").format(scan=scan.shown),
            )

    async def _finish_count(self, bins) -> None:
        bin_name, found = self.counting or "", list(self.counted)
        station, operator = self.app.settings.station, self.app.operator
        try:
            count = await self.app.db.run(lambda store: store.count_bin(bin_name, found, station, operator, bins=bins))
        except StoreError as exc:
            self._refused("ERROR", _("{problem} — the count goes on: F4 to try again").format(problem=exc))
            return
        self.counting = None
        self.query_one(OutcomeBanner).show("COUNTED", count_line(count))
        self.show_recent([f"{datetime.now():%H:%M:%S}  {pad(_('COUNTED'), 10)} {count.bin}", *count_detail(count)])
        self.app.ring(problem=bool(count.missing or count.extra))

    async def sort_plate(self, scan: Scan, unit: Unit) -> None:
        """Sort mode: say the open bin this unit goes to, or that it is there already."""
        bins = self.bins or {}
        bin_name, there = await self.app.db.run(lambda store: store.sort_bin(unit, bins=bins))
        banner = self.query_one(OutcomeBanner)
        if there:
            self.unit = None
            banner.show(
                "ALREADY IN BIN", _("{lpn} is in {bin} already: leave it there.").format(lpn=unit.lpn, bin=bin_name)
            )
            self.app.ring(problem=False)
            return
        if not bin_name:
            self.unit = None
            self._refused(
                "NO BIN",
                _("No open bin takes {channel} for {lpn}; ask the supervisor for one.").format(
                    channel=unit.channel, lpn=unit.lpn
                ),
            )
            return
        self.unit, self.unit_bin = unit, bin_name
        banner.show(
            f"→ {bin_name}",
            _("{lpn} ({sku}) goes to {bin}; scan the bin's label.").format(
                lpn=unit.lpn, sku=unit.description or unit.sku, bin=bin_name
            ),
        )
        self.app.ring(problem=False)

    async def contents_line(self, name: str) -> str:
        """A bin scanned with no unit in hand: one line about it, and its plates on the recent list."""
        bins = self.bins or {}
        found: Container | None = await self.app.db.run(lambda store: store.container(name, bins=bins))
        if found is None:
            return ""
        self.show_recent(content_lines(found) or [_("{bin} is empty.").format(bin=found.name)])
        return container_line(found)

    def show_recent(self, lines: list[str]) -> None:
        """Put these lines at the top of the recent list."""
        for line in reversed(lines):
            self.recent.appendleft(line[:110])
        self.query_one("#recent", Static).update("\n".join(self.recent))
