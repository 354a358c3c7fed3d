"""Generated camera footage for the camera tests: real video files, written once per run."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import pytest

from terminal.scanning.synthetic import (
    FULL_HD,
    HD,
    Bench,
    Shot,
    frame,
    item_label,
    printed_rma_label,
    qr_label,
    rma_label,
    write_video,
)

RMA = "RMA-2026-000123"
OTHER_RMA = "RMA-2026-000456"
EAN = "400638133393"  # 12 digits; the label adds the check digit
EAN13 = "4006381333931"
QR_TEXT = "https://returns.example/t/SF1402276583"


@pytest.fixture(scope="session")
def footage(tmp_path_factory):
    """A 720p clip at 15 fps.

    Nothing, an RMA label held for two seconds, nothing, an item's EAN-13, nothing, the same RMA label again.
    """
    path = tmp_path_factory.mktemp("footage") / "bench-720p.avi"
    return write_video(
        path,
        [
            Shot(None, 4),
            Shot(rma_label(RMA), 30),
            Shot(None, 12),
            Shot(item_label(EAN), 12),
            Shot(None, 12),
            Shot(rma_label(RMA), 10),
            Shot(None, 3),
        ],
        HD,
        fps=15,
    )


@pytest.fixture(scope="session")
def footage_1080p(tmp_path_factory):
    """A 1080p mp4 clip: one RMA label, a gap, another RMA label."""
    path = tmp_path_factory.mktemp("footage") / "bench-1080p.mp4"
    return write_video(
        path, [Shot(None, 3), Shot(rma_label(RMA), 8), Shot(None, 10), Shot(rma_label(OTHER_RMA), 8)], FULL_HD, fps=15
    )


@pytest.fixture(scope="session")
def noisy_footage(tmp_path_factory):
    """A 1080p clip at 15 fps with a webcam's sensor grain (sigma 6) on a plain parcel side: the RMA label
    (Code 128 + DataMatrix), nothing, a light-on-dark QR code (a phone's screen), nothing, the printed 4x6 label."""
    path = tmp_path_factory.mktemp("footage") / "parcel-1080p-noisy.avi"
    return write_video(
        path,
        [
            Shot(None, 3),
            Shot(rma_label(RMA, datamatrix=RMA), 8),
            Shot(None, 8),
            Shot(255 - qr_label(QR_TEXT, 6), 8, width_share=0.2),
            Shot(None, 8),
            Shot(printed_rma_label(OTHER_RMA), 10),
            Shot(None, 3),
        ],
        FULL_HD,
        fps=15,
        noise=6.0,
        parcel=True,
    )


class MjpegCamera:
    """A network camera on 127.0.0.1: serves an MJPEG stream, then hangs up or goes silent.

    ``frames`` are sent to each connection; afterwards the connection is closed
    (``after="close"``, an unplugged camera) or held open without a byte
    (``after="stall"``, a frozen one) until the server stops.
    """

    def __init__(self, frames, after: str = "close", fps: float = 30.0) -> None:
        jpegs = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]
        self.connections = 0
        self._stop = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                camera.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for jpeg in jpegs:
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                            + jpeg
                            + b"\r\n"
                        )
                        time.sleep(1 / fps)
                    if after == "stall":
                        camera._stop.wait(30)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/video.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving (also ends a stalled connection)."""
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mjpeg_camera():
    """Start network cameras: ``mjpeg_camera(frames, after=...)``; all stopped after the test."""
    cameras = []

    def start(frames, after="close"):
        camera = MjpegCamera(frames, after)
        cameras.append(camera)
        return camera

    yield start
    for camera in cameras:
        camera.close()


@pytest.fixture(scope="session")
def label_frames():
    """Eight 640x360-ish frames with the RMA label in view (small, to keep the stream light)."""
    bench = Bench((960, 540), seed=3)
    return [frame(bench, rma_label(RMA), width_share=0.45, angle=2, seed=i) for i in range(8)]
