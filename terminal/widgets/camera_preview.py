"""A small live picture of what the station camera sees, so a clerk can aim.

Each character cell shows two pixels: the upper half block ``▀`` in the top
pixel's colour on the bottom pixel's colour.  The box of the last code read
is drawn in yellow and its text is shown under the picture.
"""

from __future__ import annotations

import cv2
import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from terminal.i18n.cells import cut, pad
from terminal.i18n.cells import width as cells
from terminal.scanning.decoders import Read

COLUMNS, ROWS = 48, 14  # 48 x 28 pixels: a 16:9 picture in half blocks
HIGHLIGHT = (255, 214, 0)


class CameraPreview(Widget):
    """The camera picture in half blocks, the camera's state above it, the last code below."""

    DEFAULT_CSS = f"""
    CameraPreview {{
        dock: right;
        width: {COLUMNS + 2};
        height: {ROWS + 4};
        border: round $accent;
        margin: 1 1 0 0;
    }}
    """

    class Frame(Message):
        """A shrunk camera frame (RGB) and what was read in it; a newer frame replaces a queued one."""

        def __init__(self, image: np.ndarray, reads: list[Read]) -> None:
            super().__init__()
            self.image = image
            self.reads = reads

        def can_replace(self, message: Message) -> bool:
            # a fast camera must not flood the queue: only the newest picture matters
            return isinstance(message, CameraPreview.Frame)

    def __init__(self, state: str = "camera: starting", **kwargs) -> None:
        super().__init__(**kwargs)
        self.image: np.ndarray | None = None
        self.state = state
        self.last_code = ""

    @property
    def pixel_size(self) -> tuple[int, int]:
        """The picture's size in pixels (width, height) the camera should shrink frames to."""
        return COLUMNS, ROWS * 2

    def on_camera_preview_frame(self, message: Frame) -> None:
        image = message.image.copy()
        for read in message.reads:
            x, y, w, h = read.box
            cv2.rectangle(image, (x, y), (x + w, y + h), HIGHLIGHT, 1)
        self.image = image
        self.refresh()

    def show_state(self, state: str) -> None:
        """Show the camera's one-line state above the picture."""
        self.state = state
        self.refresh()

    def show_code(self, read: Read) -> None:
        """Highlight the last code the camera read."""
        self.last_code = f" {read.text} ({read.format}) "
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return Strip([Segment(pad(cut(self.state, width, ""), width), Style(bold=True))])  # cells, not characters
        if y == ROWS + 1:
            return (
                Strip(
                    [
                        Segment(
                            cut(self.last_code, width, ""), Style(bold=True, color="black", bgcolor="rgb(255,214,0)")
                        ),
                        Segment(" " * max(0, width - cells(self.last_code))),
                    ]
                )
                if self.last_code
                else Strip.blank(width)
            )
        row = y - 1
        if self.image is None or not 0 <= row < ROWS or 2 * row + 1 >= self.image.shape[0]:
            return Strip.blank(width)
        top, bottom = self.image[2 * row], self.image[2 * row + 1]
        segments = [
            Segment("▀", Style(color=f"rgb({t[0]},{t[1]},{t[2]})", bgcolor=f"rgb({b[0]},{b[1]},{b[2]})"))
            for t, b in zip(top[:width], bottom[:width], strict=False)
        ]
        return Strip(segments)
