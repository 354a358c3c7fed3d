"""The input a code is typed or scanned into."""

from __future__ import annotations

from textual.widgets import Input


class ScanField(Input):
    """Where typed codes go; Enter submits.  The app's wedge leaves keys here untouched."""

    # Widgets with ACCEPTS_SCANS take a scanner's burst themselves (see StationApp.on_event).
    ACCEPTS_SCANS = True

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Scan a label, or type a code and press Enter", max_length=0, **kwargs)
