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
    "DISK FULL": "bad",
    "DATABASE LOCKED": "bad",
    "NOT WRITABLE": "bad",
}


class OutcomeBanner(Static):
    """Shows one outcome: a big word in its colour, and what to do next."""

    word = ""
    shown_at = 0.0

    def show(self, word: str, detail: str = "") -> None:
        """Show ``word`` big in the outcome's colour, ``detail`` under it."""
        self.set_classes(STYLES.get(word, "info"))
        spaced = " ".join(word)
        self.update(f"[b]{spaced}[/b]\n\n{detail}" if detail else f"[b]{spaced}[/b]")
        self.word = word
        self.shown_at = time.monotonic()  # for the scan-to-screen benchmark
