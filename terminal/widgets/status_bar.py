"""The station header: who is at which station, what is unsent, today's counts, the devices."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    parts: dict[str, str] = field(default_factory=dict)  # "disk" / "camera" / "sync" / "printer" -> one short line


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
        """The line another part reported ("" when it has none)."""
        return self.header.parts.get(name, "")

    def render(self) -> str:
        h = self.header
        who = h.operator or "[reverse] NOT SIGNED IN [/reverse]"
        today = "  ".join(f"{name} {n}" for name, n in h.counts.items()) or "nothing yet"
        shown = [f"STATION [b]{h.station}[/b]", f"OPERATOR [b]{who}[/b]",
                 f"UNSENT [b]{h.unsent}[/b]", f"TODAY {today}"]
        shown += [h.parts[name] for name in PARTS if h.parts.get(name)]
        return "  │  ".join(shown)
