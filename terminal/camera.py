"""The station's camera in the app: reader thread in, messages out.

The :class:`~terminal.scanning.camera.CameraReader` thread never touches a
widget: it posts :class:`~terminal.messages.Scanned` and
:class:`~terminal.messages.CameraStateChanged` to the app and
:class:`CameraPreview.Frame` to the preview, all with ``post_message``
(thread-safe, never blocks the reader).  A camera scan is a ``Scanned`` like
a keyboard-wedge scan, and goes the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING

from textual.content import Content
from textual.message import Message
from textual.screen import Screen

from terminal.i18n import N_
from terminal.messages import CameraStateChanged, Scanned
from terminal.photos import Photo, PhotoError, StoredPhoto, save_photo
from terminal.scanning.camera import CameraError, CameraReader, CameraState, Status, quiet_opencv
from terminal.scanning.decoders import Read
from terminal.scanning.scan import read_scan
from terminal.widgets.camera_preview import CameraPreview

if TYPE_CHECKING:
    from terminal.app import StationApp

BAD = {Status.ABSENT, Status.LOST}
# The camera's states as the header names them (marked here, translated when shown).
STATES = (N_("starting"), N_("live"), N_("absent"), N_("lost"), N_("ended"), N_("stopped"))


class StationCamera:
    """The app's camera (or none): started with the app, stopped with it."""

    def __init__(self, app: StationApp, source: str, photos: Path) -> None:
        self.app = app
        self.source = source.strip()
        self.photos = photos
        self.reader: CameraReader | None = None
        self.preview: CameraPreview | None = None
        self.state = CameraState(Status.STOPPED, _("no camera configured (set camera in station.toml or --camera)"))

    def start(self) -> None:
        """Start reading the configured camera in its own thread (nothing when none is configured)."""
        if not self.source:
            return
        quiet_opencv()  # OpenCV's warnings would scribble over the screen; our state line says it
        self.reader = CameraReader(
            self.source,
            on_scan=lambda read: self._post(self.app, Scanned(read_scan(read.raw, "camera"), read)),
            on_state=lambda state: self._post(self.app, CameraStateChanged(state)),
            on_frame=self._frame,
            realtime=True,
        )
        self.state = self.reader.state
        self.reader.start()

    def stop(self) -> None:
        """Stop the reader thread (called when the app unmounts)."""
        if self.reader is not None:
            self.reader.stop()

    @staticmethod
    def _post(target, message: Message) -> None:
        with contextlib.suppress(RuntimeError):  # the app's loop is already closed: we are shutting down
            target.post_message(message)

    def _frame(self, image, reads) -> None:
        preview = self.preview
        if preview is not None:
            self._post(preview, CameraPreview.Frame(image, reads))

    # -- on the event loop -------------------------------------------------------

    @property
    def status_line(self) -> str | Content:
        """The camera's state for the status bar ("" when the station has no camera)."""
        if not self.source:
            return ""
        if self.state.status in BAD:
            return Content.styled(" " + _("CAMERA OFF") + " ", "reverse")
        return Content.from_markup(_("CAMERA [b]$status[/b]"), status=_(self.state.status.value))

    def show_state(self, state: CameraState) -> None:
        """Put a new camera state on screen: status bars, preview, and one line when it went wrong."""
        self.state = state
        self.app.header.show_part("camera", self.status_line)
        if self.preview is not None:
            self.preview.show_state(state.message)
        if state.status in BAD:
            self.app.notify(
                _("{problem} — scan with the handheld scanner or type meanwhile").format(problem=state.message),
                title=_("Camera"),
                severity="warning",
                timeout=8,
                markup=False,
            )

    def show_code(self, read: Read) -> None:
        """Highlight the code just read in the preview."""
        if self.preview is not None:
            self.preview.show_code(read)

    def toggle_preview(self, screen: Screen) -> None:
        """Show the live preview on ``screen``, or hide it."""
        if self.preview is not None:
            shown_here = self.preview.screen is screen
            self.preview.remove()
            self.preview = None
            if self.reader is not None:
                self.reader.preview_size = None
            if shown_here:
                return
            # it was left on a screen below this one: bring it here instead
        self.preview = CameraPreview(self.state.message)
        screen.mount(self.preview)
        if self.reader is not None:
            self.reader.preview_size = self.preview.pixel_size

    async def take_photo(self) -> StoredPhoto:
        """Take a photo now and keep it as ``photos/<sha256>.jpg``; PhotoError says why not.

        For the inspect screen: ``photo = await app.camera.take_photo()``, then
        record ``photo.sha256`` with the finding.
        """
        if self.reader is None:
            raise PhotoError(_("no camera configured: set camera in station.toml or start with --camera"))
        reader, folder = self.reader, self.photos
        try:
            # reading the frame and writing the JPEG are blocking: never on the event loop
            return await asyncio.to_thread(lambda: save_photo(reader.snapshot(), folder))
        except CameraError as exc:
            raise PhotoError(str(exc)) from exc

    def capture(self, item_id: str) -> Photo:
        """Take a photo for checklist item ``item_id`` (blocking: the inspect screen runs it in a thread)."""
        if self.reader is None:
            raise PhotoError(_("no camera configured: set camera in station.toml or start with --camera"))
        try:
            stored = save_photo(self.reader.snapshot(), self.photos)
        except CameraError as exc:
            raise PhotoError(str(exc)) from exc
        return Photo(item_id, stored.sha256, str(stored.path), stored.path.stat().st_size)
