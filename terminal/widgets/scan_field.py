"""The input a code is typed or scanned into."""

from __future__ import annotations

from gettext import gettext as _

from textual import events
from textual.widgets import Input

from terminal.i18n import N_
from terminal.messages import Scanned
from terminal.scanning import read_scan

PLACEHOLDER = N_("Scan a label, or type a code and press Enter")


class ScanField(Input):
    """Where typed codes go; Enter makes the text one :class:`~terminal.messages.Scanned` and empties the field."""

    # Widgets with ACCEPTS_SCANS take a scanner's burst themselves (see terminal.scanning.keyboard).
    ACCEPTS_SCANS = True

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=_(PLACEHOLDER), **kwargs)

    def language_changed(self) -> None:
        """Say what to do in the language now in force."""
        self.placeholder = _(PLACEHOLDER)

    def on_key(self, event: events.Key) -> None:
        """Enter takes the text and clears the field in the same step, in key order.

        Left to the Enter binding, the submit would run after the event went
        round the app, by which time the next scan's characters — a scanner
        sends them right behind — would already be in the field.  This
        handler runs before Input's own; ``prevent_default`` keeps Input from
        seeing the Enter, other keys go on to it.
        """
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text, self.value = self.value, ""
            if text:  # a bare Enter is no scan: nothing to say about it
                self.app.post_message(Scanned(read_scan(text, source="keyboard")))
