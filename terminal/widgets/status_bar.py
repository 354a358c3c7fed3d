"""The station header: who is at which station, what is unsent, today's counts, the devices."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.content import Content
from textual.widgets import Static

# The parts other pieces of the station report, in the order they are shown.
PARTS = ("disk", "camera", "sync", "printer")


@dataclass
class Header:
    """What every status bar shows; the app owns one and changes it, the bars only read it."""

    station: str = ""
    operator: str = ""
    unsent: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    # "disk" / "camera" / "sync" / "printer" -> one short line: a str is shown as text, Content with its styles
    parts: dict[str, str | Content] = field(default_factory=dict)


class StatusBar(Static):
    """One line, always visible: station · operator · unsent events · today's counts · devices.

    Every screen has its own bar; all of them render the app's one
    :class:`Header`, so a screen shown later never shows stale state.
    """

    def on_mount(self) -> None:
        self.set_interval(0.5, self.refresh)  # cheap, and covers screens that were not on top

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

    def render(self) -> Content:
        # station, operator and the parts' lines come from config, badges and the server: text, not markup
        h = self.header
        who = Content.from_markup("[b]$who[/b]", who=h.operator) if h.operator else \
            Content.styled(" NOT SIGNED IN ", "bold reverse")
        today = "  ".join(f"{name} {n}" for name, n in h.counts.items()) or "nothing yet"
        shown = [Content.from_markup("STATION [b]$station[/b]", station=h.station), Content("OPERATOR ") + who,
                 Content.from_markup("UNSENT [b]$unsent[/b]", unsent=str(h.unsent)), Content(f"TODAY {today}")]
        shown += [Content(line) if isinstance(line, str) else line
                  for line in (h.parts.get(name) for name in PARTS) if line]
        return Content("  │  ").join(shown)
