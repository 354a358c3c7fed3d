"""The big coloured word a clerk reads from a step away, and the line under it."""

from __future__ import annotations

import time

from textual.content import Content
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

    def show(self, word: str, detail: str | Content = "", *, compact: bool = False) -> None:
        """Show ``word`` big in the outcome's colour, ``detail`` under it (``compact``: beside it, for 24 rows).

        A ``str`` detail is shown as it is, never read as markup: it carries
        scans, customer names and server messages.  Emphasis comes as
        :class:`~textual.content.Content` built by the caller.
        """
        self.set_classes(STYLES.get(word, "info"))
        if compact:
            self.update(Content.assemble((word, "bold"), "  ", detail) if detail else Content.styled(word, "bold"))
        else:
            spaced = " ".join(word)
            self.update(
                Content.assemble((spaced, "bold"), "\n\n", detail) if detail else Content.styled(spaced, "bold")
            )
        self.word = word
        self.shown_at = time.monotonic()  # for the scan-to-screen benchmark
