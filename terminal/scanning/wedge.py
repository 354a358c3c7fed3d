"""Telling a scanner's burst of keystrokes from a person typing.

A handheld scanner is a keyboard that types a whole code and Enter in a few
milliseconds; a person needs 80 ms or more per key.  The app holds printable
keys here for a moment; if Enter follows a fast enough burst, the held keys
are one scan, whatever widget has focus.  Otherwise they are released to the
focused widget as typed.  No Textual import: this is timing logic only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

# Scanners send 1-15 ms apart; touch typists rarely go under 50 ms between keys.
MAX_GAP = 0.035
MIN_LENGTH = 3


@dataclass
class Wedge:
    """Printable keys held back while it is unclear whether they are a scan."""

    max_gap: float = MAX_GAP
    min_length: int = MIN_LENGTH
    held: list[tuple[str, float]] = field(default_factory=list)  # (character, time)

    def hold(self, character: str, at: float) -> None:
        """Hold one printable key pressed at ``at`` (seconds, monotonic)."""
        self.held.append((character, at))

    def is_burst(self, enter_at: float) -> bool:
        """True when the held keys and an Enter at ``enter_at`` came as fast as a scanner types."""
        if len(self.held) < self.min_length:
            return False
        times = [t for _, t in self.held] + [enter_at]
        return all(b - a <= self.max_gap for a, b in pairwise(times))

    def take(self) -> str:
        """The held characters, releasing them."""
        text = "".join(ch for ch, _ in self.held)
        self.held.clear()
        return text
