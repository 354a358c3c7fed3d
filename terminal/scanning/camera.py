"""The station camera: a reader thread that turns frames into scans.

Shape (as toolong's file watcher): one dedicated thread per camera, a stop
event and :meth:`CameraReader.stop`; the thread reports through callbacks
(``on_scan``, ``on_state``, ``on_frame``) and never touches a screen — the
Textual side turns those calls into messages (terminal/camera.py).

A source is a device index (``"0"``), a video file, or a network stream
URL (``rtsp://``, ``http://``).  A camera that cannot be opened, is unplugged
or stalls is reported in one line and retried in the background every few
seconds; a video file that was played to its end is finished.

The same code held in view is one scan (:class:`Debouncer`).  Nothing here
imports Textual.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from gettext import gettext as _
from pathlib import Path

import cv2
import numpy as np

from terminal.scanning.decoders import Decoder, Read, StationDecoder

# FFmpeg waits this long for a network camera to open or to send a frame
# before read() gives up; OpenCV's own default is 30 s — far too long for a
# clerk to wait for the line that says the camera is gone.
STALL_MS = 5000


class CameraError(Exception):
    """The camera source cannot be used; the message is one line for a person."""


class Status(str, Enum):
    """Where the camera is at."""

    STARTING = "starting"
    LIVE = "live"  # frames arrive and are decoded
    ABSENT = "absent"  # cannot be opened; retried
    LOST = "lost"  # was live, then stopped sending (unplugged, stalled); retried
    ENDED = "ended"  # a video file played to its end
    STOPPED = "stopped"  # stop() was called


@dataclass(frozen=True)
class CameraState:
    """The camera's status and one line a clerk can read."""

    status: Status
    message: str


def is_device(source: str) -> bool:
    """True for a device index such as "0"."""
    return source.strip().isdigit()


def is_stream(source: str) -> bool:
    """True for a network camera URL."""
    return "://" in source


def open_capture(source: str, stall_ms: int = STALL_MS) -> cv2.VideoCapture:
    """An opened ``VideoCapture`` on ``source``, or :class:`CameraError` saying why not."""
    source = source.strip()
    if not source:
        raise CameraError(_("no camera configured"))
    if is_device(source):
        capture = cv2.VideoCapture(int(source))
        what = _("camera {source}").format(source=source)
    elif is_stream(source):
        capture = cv2.VideoCapture(
            source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, stall_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, stall_ms]
        )
        what = _("camera stream {source}").format(source=source)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CameraError(_("video file {source} does not exist").format(source=source))
        capture = cv2.VideoCapture(str(path))
        what = _("video file {source}").format(source=source)
    if not capture.isOpened():  # OpenCV also logs why on stderr; quiet_opencv() silences that
        capture.release()
        raise CameraError(
            _("{what} cannot be opened (not connected, or not a video OpenCV can read)").format(what=what)
        )
    return capture


def quiet_opencv() -> None:
    """Stop OpenCV's own warnings on stderr: our one line says what went wrong."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class Debouncer:
    """Turns per-frame reads into scans: the same code held in view is one scan.

    A code is a new scan the first time it is read, and again only after it
    has been out of view — not read in ``gap_frames`` frames in a row spanning
    at least ``gap_seconds`` (both: a live camera that stalls sends no frames,
    so time alone must not make a label still in view scan twice, and a
    fast file must not either).
    """

    def __init__(self, gap_frames: int = 6, gap_seconds: float = 0.6) -> None:
        self.gap_frames = gap_frames
        self.gap_seconds = gap_seconds
        self._frame = 0
        self._last: dict[str, tuple[int, float]] = {}  # code -> (frame, time) it was last read

    def feed(self, reads: list[Read], at: float) -> list[Read]:
        """The reads of one frame taken at ``at`` seconds that are new scans."""
        self._frame += 1
        new = []
        for read in reads:
            # keyed on the text: a label carrying its code twice (Code 128 and DataMatrix) is one scan
            last = self._last.get(read.text)
            due = last is None or (self._frame - last[0] > self.gap_frames and at - last[1] >= self.gap_seconds)
            if due and read.text not in (r.text for r in new):
                new.append(read)
            self._last[read.text] = (self._frame, at)
        if len(self._last) > 64:  # codes long out of view need no memory
            self._last = {k: v for k, v in self._last.items() if self._frame - v[0] <= self.gap_frames}
        return new


class CameraReader(threading.Thread):
    """Reads frames from one source in its own thread and reports scans.

    ``on_scan(read)`` is called once per scan (debounced), ``on_state(state)``
    when the camera's status changes, ``on_frame(small_rgb, reads)`` at most
    ``preview_fps`` times a second with the frame shrunk to ``preview_size``
    (only while ``preview_size`` is set: a hidden preview costs nothing).
    Video files are played at their own frame rate when ``realtime`` (the
    station) or as fast as they decode (``rma decode``, tests).
    """

    def __init__(
        self,
        source: str,
        on_scan: Callable[[Read], None],
        on_state: Callable[[CameraState], None] = lambda state: None,
        on_frame: Callable[[np.ndarray, list[Read]], None] | None = None,
        decoder: Decoder | None = None,
        *,
        realtime: bool = False,
        retry_seconds: float = 3.0,
        debouncer: Debouncer | None = None,
        preview_fps: float = 10.0,
        stall_seconds: float = STALL_MS / 1000,
    ) -> None:
        super().__init__(name=f"camera {source}", daemon=True)
        self.source = str(source)
        self.on_scan, self.on_state, self.on_frame = on_scan, on_state, on_frame
        self.decoder = decoder or StationDecoder()
        self.realtime = realtime
        self.retry_seconds = retry_seconds
        self.stall_seconds = stall_seconds  # a network camera silent this long is lost
        self.debouncer = debouncer or Debouncer()
        self.preview_fps = preview_fps
        self.preview_size: tuple[int, int] | None = None  # (width, height) in pixels of the preview
        self.state = CameraState(Status.STARTING, _("camera {source}: starting").format(source=self.source))
        self.frames = 0  # frames decoded since start
        self.decode_seconds = 0.0  # time spent decoding them
        self.latest: np.ndarray | None = None  # the last full frame, for photos
        self._stop_event = threading.Event()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait a little for it (a stalled read ends by its own timeout)."""
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    @property
    def is_file(self) -> bool:
        """True when the source is a video file (played once, never retried)."""
        return not (is_device(self.source) or is_stream(self.source))

    @property
    def stopped(self) -> bool:
        """True once stop() was called."""
        return self._stop_event.is_set()

    def run(self) -> None:
        """Open, read, decode; on trouble report it and try again until stopped."""
        while not self._stop_event.is_set():
            try:
                capture = open_capture(self.source, int(self.stall_seconds * 1000))
            except CameraError as exc:
                if self.is_file:  # a file does not come back by waiting for it
                    self._report(Status.ABSENT, str(exc))
                    return
                self._report(
                    Status.ABSENT, _("{problem}; retrying every {s:g} s").format(problem=exc, s=self.retry_seconds)
                )
                self._stop_event.wait(self.retry_seconds)
                continue
            try:
                finished = self._read_frames(capture)
            except Exception as exc:  # noqa: BLE001 - a driver or decoder fault must not kill the camera for the shift
                self._report(
                    Status.LOST,
                    _("camera {source} failed ({problem}); retrying every {s:g} s").format(
                        source=self.source, problem=f"{type(exc).__name__}: {exc}", s=self.retry_seconds
                    ),
                )
                finished = False
            finally:
                capture.release()
            if finished:
                return
            self._stop_event.wait(self.retry_seconds)
        self._report(Status.STOPPED, _("camera {source}: off").format(source=self.source))

    def _read_frames(self, capture: cv2.VideoCapture) -> bool:
        """Decode frames until the source ends or stop(); True when there is nothing to retry."""
        is_file = self.is_file
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        period = 1.0 / fps if (self.realtime and is_file and 0 < fps < 240) else 0.0
        self._report(Status.LIVE, _("camera {source}: live").format(source=self.source))
        started, next_preview, played = time.monotonic(), 0.0, 0
        while not self._stop_event.is_set():
            ok, frame = capture.read()
            if not ok or frame is None:
                if is_file and played:
                    self._report(Status.ENDED, _("video {source} ended").format(source=self.source))
                    return True
                if is_file:
                    self._report(
                        Status.ABSENT,
                        _("video file {source} has no readable frame (damaged or not a video)").format(
                            source=self.source
                        ),
                    )
                    return True
                self._report(
                    Status.LOST,
                    _("camera {source} stopped sending (unplugged or stalled); retrying every {s:g} s").format(
                        source=self.source, s=self.retry_seconds
                    ),
                )
                return False
            played += 1
            # the time the frame was taken: the file's own clock for files, ours for live cameras
            at = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if is_file else time.monotonic()
            self.latest = frame
            t0 = time.perf_counter()
            reads = self.decoder.decode(frame)
            self.decode_seconds += time.perf_counter() - t0
            self.frames += 1
            for read in self.debouncer.feed(reads, at):
                self.on_scan(read)
            now = time.monotonic()
            if self.on_frame is not None and self.preview_size and now >= next_preview:
                next_preview = now + 1.0 / self.preview_fps
                self.on_frame(preview_image(frame, self.preview_size), _scaled(reads, frame, self.preview_size))
            if period:
                self._stop_event.wait(max(0.0, started + played * period - time.monotonic()))
        return False  # stopped: run() reports it

    def _report(self, status: Status, message: str) -> None:
        if (status, message) != (self.state.status, self.state.message):
            self.state = CameraState(status, message)
            self.on_state(self.state)

    def snapshot(self, wait: float = 2.0) -> np.ndarray:
        """A copy of the newest frame; :class:`CameraError` when the camera has none to give."""
        deadline = time.monotonic() + wait
        while self.latest is None and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.05)
        if self.latest is None or self.state.status not in (Status.LIVE, Status.ENDED):
            raise CameraError(_("no picture from the camera: {why}").format(why=self.state.message))
        return self.latest.copy()


def preview_image(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` shrunk to ``size`` (width, height) as RGB, for the half-block preview."""
    return cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def _scaled(reads: list[Read], frame: np.ndarray, size: tuple[int, int]) -> list[Read]:
    """``reads`` with their boxes in preview pixels."""
    fx, fy = size[0] / frame.shape[1], size[1] / frame.shape[0]
    return [
        Read(
            r.text,
            r.format,
            r.symbology,
            (int(r.box[0] * fx), int(r.box[1] * fy), max(1, int(r.box[2] * fx)), max(1, int(r.box[3] * fy))),
        )
        for r in reads
    ]
