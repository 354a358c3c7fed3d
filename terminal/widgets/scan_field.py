"""The input a code is typed or scanned into."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import Input


class ScanField(Input):
    """Where typed codes go; Enter turns the text into a scan and empties the field at once."""

    # Widgets with ACCEPTS_SCANS take a scanner's burst themselves (see StationApp.on_event).
    ACCEPTS_SCANS = True

    @dataclass
    class Scanned(Message):
        """A code was entered (typed or scanned) and Enter pressed."""

        text: str
        at: float  # time.monotonic() of the Enter

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Scan a label, or type a code and press Enter", **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        """Enter takes the text and clears the field in the same step, in key order.

        Left to the Enter binding, the submit would run after the event went
        round the app, by which time the next scan's characters — a scanner
        sends them right behind — would already be in the field.
        """
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text, self.value = self.value, ""
            if text:  # a bare Enter is no scan: nothing to say about it
                self.post_message(self.Scanned(text, time.monotonic()))
            return
        await super()._on_key(event)
