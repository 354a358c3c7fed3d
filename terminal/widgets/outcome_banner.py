"""The big coloured word a clerk reads from a step away, and the line under it."""

from __future__ import annotations

import time
from gettext import gettext as _

from textual.content import Content
from textual.widgets import Static

from terminal.i18n import N_

# outcome word -> CSS class (colours in station.tcss); the word is shown translated (N_: drawn in show())
STYLES = {
    N_("RECEIVED"): "good",
    N_("ALREADY RECEIVED"): "warn",
    N_("SECOND PARCEL"): "good",
    N_("NOT EXPECTED"): "bad",
    N_("CANCELLED"): "bad",
    N_("EXPIRED"): "bad",
    N_("NOT AN RMA"): "info",
    N_("SIGN IN"): "idle",
    N_("SIGNED IN"): "good",
    N_("SCAN"): "idle",
    N_("UNDONE"): "warn",
    N_("NOT READ"): "bad",
    N_("ERROR"): "bad",
    N_("DISK FULL"): "bad",
    N_("DATABASE LOCKED"): "bad",
    N_("NOT WRITABLE"): "bad",
    # put-away (terminal/screens/putaway.py; the refusals are sync.store.Refusal's words)
    N_("TO BIN"): "info",
    N_("PUT AWAY"): "good",
    N_("WRONG BIN"): "bad",
    N_("UNKNOWN BIN"): "bad",
    N_("NOT A PLATE"): "bad",
    N_("NOT INSPECTED"): "bad",
    N_("NO CHANNEL"): "bad",
    N_("ALREADY IN BIN"): "warn",
    # containers and counts (terminal/screens/putaway_modes.py; sync.store.ContainerRefusal's words)
    N_("SORT"): "idle",
    N_("COUNT"): "info",
    N_("COUNTED"): "good",
    N_("NO BIN"): "bad",
    N_("CONTAINER CLOSED"): "bad",
    N_("SHIPPED"): "bad",
    N_("CONTAINER OPEN"): "bad",
    N_("CONTAINER EMPTY"): "bad",
    N_("NO DESTINATION"): "bad",
    N_("BAD KIND"): "bad",
    N_("BAD CHANNEL"): "bad",
}


class OutcomeBanner(Static):
    """Shows one outcome: a big word in its colour, and what to do next."""

    word = ""
    shown_at = 0.0
    _detail: str | Content = ""
    _compact = False

    def language_changed(self) -> None:
        """Say the big word again in the language now in force (the detail is the screen's to redo)."""
        if self.word:
            self.show(self.word, self._detail, compact=self._compact)

    def show(self, word: str, detail: str | Content = "", *, compact: bool = False) -> None:
        """Show ``word`` big in the outcome's colour, ``detail`` under it (``compact``: beside it, for 24 rows).

        ``word`` is the outcome's English name (``word`` keeps it, for the colour and for tests); it is
        shown in the language in force.  A ``str`` detail is shown as it is, never read as markup: it carries
        scans, customer names and server messages.  Emphasis comes as
        :class:`~textual.content.Content` built by the caller.
        """
        self.set_classes(STYLES.get(word, "info"))
        shown = _(word)
        if compact:
            self.update(Content.assemble((shown, "bold"), "  ", detail) if detail else Content.styled(shown, "bold"))
        else:
            # letters spaced out to read from a step away; Chinese characters are two cells wide already
            spaced = " ".join(shown) if shown.isascii() else shown
            self.update(
                Content.assemble((spaced, "bold"), "\n\n", detail) if detail else Content.styled(spaced, "bold")
            )
        self.word, self._detail, self._compact = word, detail, compact
        self.shown_at = time.monotonic()  # for the scan-to-screen benchmark
