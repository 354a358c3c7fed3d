"""The camera reader thread on real video files and a real network camera on 127.0.0.1."""

from __future__ import annotations

import threading
import time

from terminal.scanning.camera import CameraReader, Debouncer, Status
from terminal.scanning.decoders import Read

from .conftest import EAN13, OTHER_RMA, QR_TEXT, RMA


class Recorder:
    """Collects what a reader reports, from its thread."""

    def __init__(self) -> None:
        self.scans: list[Read] = []
        self.states = []
        self.frames = []
        self.lock = threading.Lock()

    def scan(self, read):
        with self.lock:
            self.scans.append(read)

    def state(self, state):
        with self.lock:
            self.states.append(state)

    def frame(self, image, reads):
        self.frames.append((image, reads))

    @property
    def statuses(self):
        return [s.status for s in self.states]

    @property
    def texts(self):
        return [r.text for r in self.scans]


def wait_for(condition, limit=20.0):
    """Wait until ``condition()`` is true (polling), at most ``limit`` seconds; returns its last value."""
    end = time.monotonic() + limit
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)
    return condition()


def run_reader(source, **kwargs) -> tuple[CameraReader, Recorder]:
    rec = Recorder()
    reader = CameraReader(str(source), rec.scan, rec.state, rec.frame, **kwargs)
    reader.start()
    return reader, rec


# -- debouncing --------------------------------------------------------------------


def read(text):
    return Read(text, "Code128", "]C0")


def test_a_code_held_in_view_is_one_scan_even_with_missed_frames():
    debouncer, scans = Debouncer(gap_frames=6, gap_seconds=0.6), []
    for n in range(60):  # two seconds at 30 fps, not read in every third frame
        scans += debouncer.feed([] if n % 3 == 2 else [read(RMA)], n / 30)
    assert [r.text for r in scans] == [RMA]


def test_the_same_code_after_it_left_the_view_is_a_new_scan():
    debouncer, scans = Debouncer(gap_frames=6, gap_seconds=0.6), []
    for n in range(90):  # in view, out of view for one second, in view again
        scans += debouncer.feed([read(RMA)] if n < 30 or n >= 60 else [], n / 30)
    assert [r.text for r in scans] == [RMA, RMA]


def test_a_stalled_camera_does_not_make_a_label_still_in_view_scan_twice():
    debouncer = Debouncer(gap_frames=6, gap_seconds=0.6)
    assert debouncer.feed([read(RMA)], 0.0) == [read(RMA)]
    # five seconds without a frame, then the same label: it never left the view
    assert debouncer.feed([read(RMA)], 5.0) == []


def test_a_fast_file_does_not_make_a_brief_miss_a_new_scan():
    debouncer = Debouncer(gap_frames=6, gap_seconds=0.6)
    scans = []
    for n in range(40):  # 8 frames without a read, but all within 0.1 s of file time
        scans += debouncer.feed([] if 10 <= n < 18 else [read(RMA)], n / 300)
    assert len(scans) == 1


def test_two_codes_in_one_frame_are_two_scans_and_a_code_twice_in_a_frame_is_one():
    debouncer = Debouncer()
    assert [r.text for r in debouncer.feed([read(RMA), read(OTHER_RMA), read(RMA)], 0.0)] == [RMA, OTHER_RMA]


def test_a_label_with_its_code_in_two_symbologies_is_one_scan():
    debouncer = Debouncer()
    both = [read(RMA), Read(RMA, "DataMatrix", "]d1")]
    assert [r.format for r in debouncer.feed(both, 0.0)] == ["Code128"]
    assert debouncer.feed([Read(RMA, "DataMatrix", "]d1")], 0.1) == []  # later frames: only the DataMatrix read


# -- video files ---------------------------------------------------------------------


def test_each_label_in_a_720p_video_arrives_once(footage):
    reader, rec = run_reader(footage)
    reader.join(30)
    assert not reader.is_alive()
    assert rec.texts == [RMA, EAN13, RMA]
    assert [r.format for r in rec.scans] == ["Code128", "EAN-13", "Code128"]
    assert rec.statuses == [Status.LIVE, Status.ENDED]
    assert reader.frames == 83


def test_each_label_in_a_1080p_mp4_arrives_once(footage_1080p):
    reader, rec = run_reader(footage_1080p)
    reader.join(30)
    assert rec.texts == [RMA, OTHER_RMA]
    assert rec.statuses[-1] == Status.ENDED


def test_each_code_in_noisy_1080p_footage_arrives_once_and_nothing_else(noisy_footage):
    reader, rec = run_reader(noisy_footage)
    reader.join(60)
    assert not reader.is_alive()
    # the RMA label carries its code twice (Code 128 and DataMatrix): one scan
    assert rec.texts == [RMA, QR_TEXT, OTHER_RMA]
    assert rec.scans[1].format == "QR"
    assert rec.statuses == [Status.LIVE, Status.ENDED]


def test_a_corrupt_file_is_one_line_and_no_scan(tmp_path):
    bad = tmp_path / "camera.avi"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(range(256)) * 40)
    reader, rec = run_reader(bad)
    reader.join(10)
    assert not reader.is_alive()
    assert rec.scans == []
    assert rec.statuses == [Status.ABSENT]
    assert rec.states[0].message.startswith(f"video file {bad} cannot be opened")


def test_a_missing_file_is_one_line(tmp_path):
    reader, rec = run_reader(tmp_path / "nope.avi")
    reader.join(10)
    assert [s.message for s in rec.states] == [f"video file {tmp_path / 'nope.avi'} does not exist"]


def test_a_truncated_video_gives_the_scans_it_still_holds(footage, tmp_path):
    cut = tmp_path / "cut.avi"
    data = footage.read_bytes()
    cut.write_bytes(data[: len(data) * 45 // 100])  # the first RMA label is in the first 40%
    reader, rec = run_reader(cut)
    reader.join(30)
    assert not reader.is_alive()
    assert rec.texts[:1] == [RMA]
    assert rec.statuses[-1] == Status.ENDED


def test_stop_ends_a_video_played_in_real_time(footage):
    reader, rec = run_reader(footage, realtime=True)
    assert wait_for(lambda: reader.frames > 2)
    reader.stop(timeout=5)
    assert not reader.is_alive()
    assert reader.frames < 83  # it did not play to the end: stop() stopped it
    assert rec.statuses[-1] == Status.STOPPED


def test_frames_reach_the_preview_only_while_a_preview_size_is_set(footage):
    reader, rec = run_reader(footage, preview_fps=1000)
    reader.join(30)
    assert rec.frames == []
    rec = Recorder()
    reader = CameraReader(str(footage), rec.scan, rec.state, rec.frame, preview_fps=1000)
    reader.preview_size = (48, 28)
    reader.start()
    reader.join(30)
    assert rec.frames and all(image.shape == (28, 48, 3) for image, _ in rec.frames)
    # the boxes of what was read are in preview pixels, inside the picture
    boxes = [r.box for _, reads in rec.frames for r in reads]
    assert boxes and all(0 <= x < 48 and 0 <= y < 28 and x + w <= 49 for x, y, w, h in boxes)


def test_snapshot_gives_a_full_frame(footage):
    reader, _rec = run_reader(footage, realtime=True)
    try:
        image = reader.snapshot(wait=10)
    finally:
        reader.stop()
    assert image.shape == (720, 1280, 3)


# -- live cameras ------------------------------------------------------------------------


def test_a_camera_that_is_not_there_is_retried_until_stopped():
    reader, rec = run_reader("9", retry_seconds=0.2)
    assert wait_for(lambda: rec.states)
    time.sleep(0.5)
    assert reader.is_alive()  # still trying in the background
    reader.stop(timeout=5)
    assert not reader.is_alive()
    assert rec.states[0].status == Status.ABSENT
    assert (
        rec.states[0].message == "camera 9 cannot be opened (not connected, or not a video OpenCV can read); "
        "retrying every 0.2 s"
    )
    assert rec.statuses[-1] == Status.STOPPED


def test_a_network_camera_that_hangs_up_is_lost_then_retried(mjpeg_camera, label_frames):
    camera = mjpeg_camera(label_frames, after="close")
    reader, rec = run_reader(camera.url, retry_seconds=0.2)
    try:
        assert wait_for(lambda: camera.connections >= 2 and Status.LOST in rec.statuses)
        assert wait_for(lambda: rec.statuses.count(Status.LIVE) >= 2)
    finally:
        reader.stop(timeout=5)
    assert rec.statuses[:3] == [Status.LIVE, Status.LOST, Status.LIVE]
    assert "stopped sending (unplugged or stalled)" in rec.states[1].message
    # the label stayed in view across the reconnection: still one scan
    assert rec.texts == [RMA]


def test_a_network_camera_that_stalls_is_reported_lost(mjpeg_camera, label_frames):
    camera = mjpeg_camera(label_frames[:3], after="stall")
    reader, rec = run_reader(camera.url, retry_seconds=5, stall_seconds=1.0)
    try:
        assert wait_for(lambda: Status.LOST in rec.statuses)
    finally:
        reader.stop(timeout=5)
    assert rec.texts == [RMA]
    assert rec.statuses[:2] == [Status.LIVE, Status.LOST]
