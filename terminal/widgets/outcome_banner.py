"""The big coloured word a clerk reads from a step away, and the line under it."""

from __future__ import annotations

import time

from textual.widgets import Static

# outcome word -> CSS class (colours in station.tcss)
STYLES = {
    "RECEIVED": "good",
    "ALREADY RECEIVED": "warn",
    "NOT EXPECTED": "bad",
    "CANCELLED": "bad",
    "EXPIRED": "bad",
    "NOT AN RMA": "info",
    "SIGN IN": "idle",
    "SIGNED IN": "good",
    "SCAN": "idle",
    "UNDONE": "warn",
    "NOT READ": "bad",
    "ERROR": "bad",
}


class OutcomeBanner(Static):
    """Shows one outcome: a big word in its colour, and what to do next."""

    word = ""
    shown_at = 0.0

    def show(self, word: str, detail: str = "", *, compact: bool = False) -> None:
        """Show ``word`` big in the outcome's colour, ``detail`` under it (``compact``: beside it, for 24 rows)."""
        self.set_classes(STYLES.get(word, "info"))
        if compact:
            self.update(f"[b]{word}[/b]  {detail}" if detail else f"[b]{word}[/b]")
        else:
            spaced = " ".join(word)
            self.update(f"[b]{spaced}[/b]\n\n{detail}" if detail else f"[b]{spaced}[/b]")
        self.word = word
        self.shown_at = time.monotonic()  # for the scan-to-screen benchmark
