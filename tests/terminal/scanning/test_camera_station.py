"""The station with a video file as its camera: camera scans go where keyboard scans go."""

from __future__ import annotations

import pytest

from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.demo import create_demo_database, demo_rmas
from terminal.scanning.synthetic import HD, Shot, rma_label, write_video
from terminal.widgets.camera_preview import CameraPreview
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.status_bar import StatusBar


def settings(db, camera: str) -> Settings:
    return Settings(station="bench-7", db=str(db), camera=camera, sources={"db": "flag"})


async def settle(pilot, condition, rounds: int = 150):
    """Let the app run until ``condition()`` holds (bounded; the assertion after it decides)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.1)


@pytest.fixture
def demo_db(tmp_path):
    return create_demo_database(tmp_path / "demo.db", 10)


@pytest.fixture
def expected_code():
    """An RMA of the demo database that is expected (authorized, not received)."""
    return next(p.rma["rma_code"] for p in demo_rmas(10) if p.rma["status"] == "authorized")


async def test_a_parcel_held_under_the_camera_is_received_once(demo_db, expected_code, tmp_path):
    video = write_video(
        tmp_path / "bench.avi", [Shot(None, 3), Shot(rma_label(expected_code), 14), Shot(None, 2)], HD, fps=10
    )
    app = make_app(settings(demo_db, str(video)), operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.screen.query_one(OutcomeBanner)
        await settle(pilot, lambda: getattr(banner, "word", "") == "RECEIVED")
        assert banner.word == "RECEIVED"
        assert expected_code in str(banner.render())
        await settle(pilot, lambda: app.camera.state.status.value == "ended")
        await pilot.pause(0.3)
        assert app.screen.query_one(StatusBar).part("camera") == "CAMERA ended"
        # the receive screen handled exactly one scan: no ALREADY RECEIVED for frames 2..14
        assert len(app.screen.latencies) == 1
    with Store(demo_db) as store:
        assert store.get_rma(expected_code).stage == "received"
        received = [e for e in store.events() if e.type == "rma.received"]
    # 14 frames with the label in view: one receipt, received by the camera source
    assert [e.rma_code for e in received] == [expected_code]
    assert [e.operator for e in received] == ["anna"]


async def test_f8_shows_the_live_preview_with_the_code_just_read(demo_db, expected_code, tmp_path):
    video = write_video(tmp_path / "bench.avi", [Shot(None, 2), Shot(rma_label(expected_code), 40)], HD, fps=10)
    app = make_app(settings(demo_db, str(video)), operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        assert not app.screen.query(CameraPreview)
        await pilot.press("f8")
        await pilot.pause(0.15)
        preview = app.screen.query_one(CameraPreview)
        await settle(pilot, lambda: preview.image is not None and preview.last_code)
        assert preview.image.shape == (28, 48, 3)
        assert expected_code in preview.last_code
        # the picture is drawn in half blocks
        assert "▀" in "".join(segment.text for segment in preview.render_line(3))
        await pilot.press("f8")
        await pilot.pause(0.15)
        assert not app.screen.query(CameraPreview)
        assert app.camera.reader.preview_size is None


async def test_without_its_camera_the_station_says_so_and_keyboard_scanning_works(demo_db, expected_code):
    app = make_app(settings(demo_db, "9"), operator="anna")  # no device 9 on this machine
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.camera.state.status.value == "absent")
        await pilot.pause(0.2)
        assert "CAMERA OFF" in app.screen.query_one(StatusBar).part("camera")
        assert any("camera 9 cannot be opened" in n.message for n in app._notifications)
        for key in expected_code:
            await pilot.press(key)
        await pilot.press("enter")
        banner = app.screen.query_one(OutcomeBanner)
        await settle(pilot, lambda: getattr(banner, "word", "") == "RECEIVED")
        assert banner.word == "RECEIVED"
        assert app.camera.reader.is_alive()  # still retrying in the background
    assert not app.camera.reader.is_alive()  # and stopped with the app


async def test_a_station_without_a_camera_shows_nothing_about_one(demo_db):
    app = make_app(settings(demo_db, ""), operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        assert app.camera.reader is None
        assert app.screen.query_one(StatusBar).part("camera") == ""
