"""The station header: who is at which station, what is unsent, today's counts, the devices.

One line, whatever the terminal's width.  It is made of segments, each with
a priority and a few ways of saying the same thing, from the longest to the
shortest.  When the line is too long, the least important segment is
shortened first (abbreviated, then cut with an ellipsis, then left out),
then the next one.  Segments that need someone to act — printer not ready,
sync offline for long, conflicts, disk full, photos that cannot be sent,
nobody signed in — are never left out and go first, so they are on screen
at 80 columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from gettext import gettext as _
from gettext import ngettext

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static

from terminal.i18n import N_, number

# The parts other pieces of the station report, in the order they are shown.
PARTS = ("disk", "camera", "sync", "printer", "sla")  # sla: what is overdue here (terminal/backlog.py)
# Words in a part's line that mean someone has to act (the part then counts as an alert), in either language.
ALERT_WORDS = (
    N_("not ready"),
    N_("disk full"),
    N_("conflict"),
    N_("photo problem"),
    N_("camera off"),
    N_("offline"),
    N_("not signed in"),
    N_("overdue"),  # the backlog's overdue count: the supervisor has to act
)
OFFLINE_ALERT_AFTER = 600.0  # seconds offline after which sync needs someone's attention
# today's counts by name (as terminal.today names them), and abbreviated for narrow terminals
FULL_NAMES = {
    "received": N_("received"),
    "unexpected": N_("unexpected"),
    "refused": N_("refused"),
    "undone": N_("undone"),
    "mismatch": N_("mismatch"),
    "resellable": N_("resellable"),
    "discounted": N_("discounted"),
    "scrapped": N_("scrapped"),
}
SHORT_NAMES = {
    "received": N_("recv"),
    "unexpected": N_("unexp"),
    "refused": N_("refused"),
    "undone": N_("undone"),
    "mismatch": N_("mism"),
    "resellable": N_("resell"),
    "discounted": N_("disc"),
    "scrapped": N_("scrap"),
}
TINY_NAMES = {
    "received": N_("rcv"),
    "unexpected": N_("unx"),
    "refused": N_("ref"),
    "undone": N_("und"),
    "mismatch": N_("mis"),
    "resellable": N_("res"),
    "discounted": N_("dsc"),
    "scrapped": N_("scr"),
}
ALERT = "b reverse red"
WARN = "b reverse yellow"


@dataclass
class SyncState:
    """How sync stands, as the sync worker last reported it (the header shows it)."""

    online: bool
    waiting: int = 0
    last_success: str = ""
    last_error: str = ""
    conflicts: int = 0
    photos_waiting: int = 0
    photo_problems: int = 0
    restored: str = ""  # the station database was found older than the server's copy (recently)


@dataclass
class Header:
    """What every status bar shows: the app owns one and changes it, the bars watch it and repaint."""

    station: str = ""
    operator: str = ""
    unsent: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    # "disk" / "camera" / "sync" / "printer" -> one short line: a str is shown as text, Content with its styles
    parts: dict[str, str | Content] = field(default_factory=dict)
    sync: SyncState | None = None  # None: no server configured (or not heard from yet)
    offline_since: float | None = None  # time.monotonic() when sync last went offline
    offline_alert_after: float = OFFLINE_ALERT_AFTER
    # called after every change made through the methods below: the status bars showing this header
    watchers: list[Callable[[], object]] = field(default_factory=list, repr=False, compare=False)

    def watch(self, watcher: Callable[[], object]) -> None:
        """Call ``watcher`` after each change (a status bar repaints itself)."""
        self.watchers.append(watcher)

    def unwatch(self, watcher: Callable[[], object]) -> None:
        """Stop calling ``watcher``."""
        if watcher in self.watchers:
            self.watchers.remove(watcher)

    def _changed(self) -> None:
        for watcher in list(self.watchers):
            watcher()

    def set_sync(self, state: SyncState, now: float | None = None) -> None:
        """Take the sync worker's report, remembering since when the station is offline."""
        now = time.monotonic() if now is None else now
        if state.online:
            self.offline_since = None
        elif self.offline_since is None:
            self.offline_since = now
        self.sync = state
        self._changed()

    def show_totals(self, unsent: int, counts: dict[str, int]) -> None:
        """The unsent count and today's counts, as the last write (or the last full read) returned them."""
        self.unsent, self.counts = unsent, dict(counts)
        self._changed()

    def show_operator(self, operator: str) -> None:
        """Who is signed in ("" for nobody)."""
        self.operator = operator
        self._changed()

    def show_part(self, part: str, text: str | Content) -> None:
        """One part's line ("disk", "camera", "sync", "printer"); a str is plain text, "" hides it."""
        self.parts[part] = text
        self._changed()

    def segments(self, now: float | None = None) -> list[Segment]:
        """What the line says, alerts first; see :func:`fit` for how it is shortened."""
        now = time.monotonic() if now is None else now
        alerts: list[Segment] = []
        rest: list[Segment] = []
        if not self.operator:
            alerts.append(Segment([_styled(_("NOT SIGNED IN"), ALERT)]))
        sync = self.sync
        if sync is not None:
            if not sync.online:
                since = self.offline_since if self.offline_since is not None else now
                minutes = int((now - since) // 60)
                waiting = (
                    " · " + ngettext("{n} waiting", "{n} waiting", sync.waiting).format(n=sync.waiting)
                    if sync.waiting
                    else ""
                )
                if now - since >= self.offline_alert_after:
                    alerts.append(
                        Segment(
                            [
                                _styled(_("SYNC OFFLINE {minutes} min").format(minutes=minutes) + waiting, ALERT),
                                _styled(_("OFFLINE {minutes} min").format(minutes=minutes), ALERT),
                                _styled(_("OFFLINE {minutes}m").format(minutes=minutes), ALERT),
                            ],
                            [DETAIL, LAST_CUT],
                        )
                    )
                else:  # offline for a moment is the normal case: said, not alarmed
                    rest.append(
                        Segment(
                            [
                                Content.assemble(_("SYNC") + " ", (_("OFFLINE"), "b red"), waiting),
                                Content.styled(_("OFFLINE"), "b red"),
                            ],
                            [DEVICE, DEVICE],
                        )
                    )
            if sync.conflicts:
                n = sync.conflicts
                alerts.append(
                    Segment(
                        [
                            _styled(ngettext("{n} CONFLICT", "{n} CONFLICTS", n).format(n=n), WARN),
                            _styled(_("{n} CONFL").format(n=n), WARN),
                        ],
                        [ALERT_CUT],
                    )
                )
            if sync.photo_problems:
                n = sync.photo_problems
                alerts.append(
                    Segment(
                        [
                            _styled(ngettext("{n} PHOTO PROBLEM", "{n} PHOTO PROBLEMS", n).format(n=n), WARN),
                            _styled(_("{n} PHOTO").format(n=n), WARN),
                        ],
                        [ALERT_CUT],
                    )
                )
            if sync.restored:
                alerts.append(
                    Segment(
                        [
                            _styled(_("DATABASE RESTORED: see rma conflicts"), WARN),
                            _styled(_("DB RESTORED"), WARN),
                        ],
                        [ALERT_CUT],
                    )
                )
        for _name, text in self._part_lines():
            line = (Content(text) if isinstance(text, str) else text).first_line
            if _is_alert(line.plain):
                clause, words = _alert_minimum(line.plain)
                cuts = _cuts(line, clause)
                steps = [DETAIL] * len(cuts)
                if words < clause:  # the very last resort: only the alert's words ("PRINTER NOT READY…")
                    cuts.append(line.truncate(words).rstrip() + "…")
                    steps.append(ALERT_CUT)
                alerts.append(Segment([line, *cuts], steps))
            else:
                cuts = _cuts(line, 8)
                rest.append(Segment([line, *cuts], [DEVICE] * (len(cuts) + 1)))
        # with every alarm at 80 columns the station's name goes
        shown = [self._named(_("STATION"), self.station, droppable=True)]
        if self.operator:
            shown.append(self._named(_("OPERATOR"), self.operator))
        unsent = number(self.unsent)
        shown.append(
            Segment(
                [
                    Content.assemble(_("UNSENT") + " ", (unsent, "b")),
                    Content.assemble(_("unsent") + " ", (unsent, "b")),
                    Content.assemble("↑", (unsent, "b")),
                ],
                [LABEL, LABEL, UNSENT],
            )
        )
        today = self._today()
        shown.append(Segment(today, [TODAY] * len(today)))
        if sync is not None:
            if sync.online:
                last = " · " + _("last ok {time}").format(time=sync.last_success) if sync.last_success else ""
                when = " " + sync.last_success if sync.last_success else ""
                head = _("SYNC") + " "
                rest.append(
                    Segment(
                        [
                            Content.assemble(
                                head,
                                (_("ONLINE"), "b green"),
                                " · " + _("waiting {n}").format(n=number(sync.waiting)),
                                last,
                            ),
                            Content.assemble(head, (_("ok"), "b green"), when),
                            Content.assemble(head, (_("ok"), "b green")),
                        ],
                        [DEVICE] * 3,
                    )
                )
            if sync.photos_waiting:
                rest.append(
                    Segment(
                        [
                            Content(_("photos waiting {n}").format(n=sync.photos_waiting)),
                            Content(f"📷 {sync.photos_waiting}"),
                        ],
                        [EXTRA, EXTRA],
                    )
                )
            if sync.last_error:
                error = Content.styled(sync.last_error, "red").first_line
                cuts = _cuts(error, 12)
                rest.append(Segment([error, *cuts], [ERROR] * (len(cuts) + 1)))
        return alerts + shown + rest

    @staticmethod
    def _named(label: str, value: str, droppable: bool = False) -> Segment:
        """ "STATION bench-9" → "bench-9" → "ben…": the label goes early, the name is cut last."""
        name = Content.styled(value or "?", "b")
        cuts = _cuts(name, 6)
        return Segment(
            [Content(f"{label} ") + name, name, *cuts],
            [LABEL] + [NAME_CUT] * len(cuts) + ([LAST_CUT] if droppable else []),
        )

    def _part_lines(self) -> list[tuple[str, str | Content]]:
        names = [n for n in PARTS if n in self.parts] + sorted(n for n in self.parts if n not in PARTS)
        return [(n, self.parts[n]) for n in names if self.parts[n] and not (n == "sync" and self.sync is not None)]

    def _today(self) -> list[Content]:
        if not self.counts:
            return [Content(_("TODAY nothing yet")), Content(_("today —"))]
        full = Content(_("TODAY") + " ") + Content("  ").join(
            Content.assemble(_(FULL_NAMES.get(name, name)) + " ", (number(n), "b")) for name, n in self.counts.items()
        )
        short, tiny = (
            Content(head)
            + Content(" ").join(
                Content.assemble(_(names[name]) + " " if name in names else f"{name[:5]} ", (number(n), "b"))
                for name, n in self.counts.items()
            )
            for head, names in ((_("today") + " ", SHORT_NAMES), ("", TINY_NAMES))
        )
        return [full, short, tiny, *_cuts(tiny, 12)]


# How readily a shortening step is taken: the highest first.  A segment's last
# variant stays unless it has one step more than gaps between variants (then it may be left out).
ERROR, EXTRA, DEVICE, LABEL, UNSENT, DETAIL, TODAY, NAME_CUT, LAST_CUT, ALERT_CUT = 9, 8, 7, 6, 5, 5, 4, 3, 2, 1


@dataclass
class Segment:
    """One thing the header says, in several lengths (longest first).

    ``steps[k]`` is how readily the line goes from variant ``k`` to ``k + 1``
    (higher: sooner); one step more than there are gaps means the segment may
    be left out.  No steps: it is always shown as it is (an alert's minimum).
    """

    variants: list[Content]
    steps: list[int] = field(default_factory=list)


def _styled(text: str, style: str) -> Content:
    return Content.styled(text, style)


def _alert_words() -> list[str]:
    """The alert words in English and in the language in force (a part may report in either)."""
    return [*ALERT_WORDS, *(_(w).lower() for w in ALERT_WORDS)]


def _is_alert(plain: str) -> bool:
    low = plain.lower()
    return any(word in low for word in _alert_words())


def _alert_minimum(plain: str) -> tuple[int, int]:
    """How many cells of an alert line should stay — its first clause ("PRINTER NOT READY: paper out") — and must.

    In cells, not characters: "打印机未就绪" is six characters and twelve cells.
    """
    low = plain.lower()
    ends = [low.index(w) + len(w) for w in _alert_words() if w in low]
    if not ends:
        return cell_len(plain), cell_len(plain)
    words = min(len(plain), max(ends))
    clause = low.find(" · ", words)
    return cell_len(plain[: clause if clause > 0 else words]), cell_len(plain[:words])


def _cuts(content: Content, minimum: int) -> list[Content]:
    """Shorter and shorter cuts of ``content`` ending in an ellipsis, the last one ``minimum`` cells (+ "…")."""
    cuts = []
    width = content.cell_length - 4
    while width > minimum:
        cuts.append(content.truncate(width, ellipsis=True))
        width -= 4
    if minimum < content.cell_length:
        cuts.append(content.truncate(minimum).rstrip() + "…")
    return cuts


WIDE, NARROW = "  │  ", " │ "


def fit(segments: list[Segment], width: int) -> Content:
    """The segments on one line of ``width`` cells, shortening the most readily shortened first.

    Alerts have no step that removes them, so they stay; if even the
    shortest line is too wide, its end is cut with an ellipsis.
    """
    chosen = [0] * len(segments)  # variant shown; len(variants) = left out

    def line(separator: str) -> Content:
        shown = [s.variants[c] for s, c in zip(segments, chosen, strict=True) if c < len(s.variants)]
        return Content(separator).join(shown)

    text = line(WIDE)
    if text.cell_length <= width:
        return text
    while line(NARROW).cell_length > width:
        steps = [(s.steps[c], i) for i, (s, c) in enumerate(zip(segments, chosen, strict=True)) if c < len(s.steps)]
        if not steps:
            break  # everything is as short as it may be: cut the end
        _step, i = max(steps)  # the most readily shortened; of equals, the rightmost
        chosen[i] += 1
    return line(NARROW).truncate(width, ellipsis=True)


class StatusBar(Static):
    """One line, always visible: alerts · station · operator · unsent events · today's counts · devices.

    Every screen has its own bar; all of them render the app's one
    :class:`Header`, so a screen shown later never shows stale state.
    """

    def on_mount(self) -> None:
        self.header.watch(self.refresh)
        self.set_interval(0.5, self.refresh)  # the minutes offline go on without a change

    def on_unmount(self) -> None:
        self.header.unwatch(self.refresh)

    @property
    def header(self) -> Header:
        """The app's header state (an empty one outside the station app)."""
        return getattr(self.app, "header", None) or Header()

    # Read-only views, for tests and other widgets.
    station = property(lambda self: self.header.station)
    operator = property(lambda self: self.header.operator)
    unsent = property(lambda self: self.header.unsent)
    counts = property(lambda self: self.header.counts)

    def part(self, name: str) -> str:
        """The line another part reported, as plain text ("" when it has none)."""
        line = self.header.parts.get(name, "")
        return line if isinstance(line, str) else line.plain

    def text(self, width: int | None = None) -> Content:
        """The line as shown at ``width`` cells (default: this bar's width)."""
        if width is None:
            width = self.content_size.width or 80
        return fit(self.header.segments(), width)

    def render(self) -> Content:
        return self.text()
