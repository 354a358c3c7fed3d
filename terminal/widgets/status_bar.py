"""The station header: who is at which station, what is unsent, today's counts."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    """One line, always visible: station · operator · unsent events · today's counts."""

    station: reactive[str] = reactive("")
    operator: reactive[str] = reactive("")
    unsent: reactive[int] = reactive(0)
    counts: reactive[dict] = reactive(dict, always_update=True)
    extra: reactive[str] = reactive("")  # e.g. sync or printer state, set by other parts
    camera: reactive[str] = reactive("")  # the station camera's state ("" = no camera)
    sync: reactive[str] = reactive("")  # the sync worker's state ("" = no server configured)

    def render(self) -> str:
        who = self.operator or "[reverse] NOT SIGNED IN [/reverse]"
        today = "  ".join(f"{name} {n}" for name, n in self.counts.items()) or "nothing yet"
        parts = [f"STATION [b]{self.station}[/b]", f"OPERATOR [b]{who}[/b]",
                 f"UNSENT [b]{self.unsent}[/b]", f"TODAY {today}"]
        if self.camera:
            parts.append(self.camera)
        if self.sync:
            parts.append(self.sync)
        if self.extra:
            parts.append(self.extra)
        return "  │  ".join(parts)
