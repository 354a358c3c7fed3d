"""The inspect screen with the station's other parts for real: a video file as its camera and a
loopback socket as its label printer."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import pytest

from terminal.app import make_app
from terminal.config import Settings
from terminal.scanning.synthetic import Shot, rma_label, write_video
from terminal.screens.inspect_dialogs import PhotoDialog
from tests.helpers.loopback_printer import LoopbackPrinter
from tests.terminal.test_inspect_screen import GADGET_GTIN, folder, open_bench, settings  # noqa: F401 (fixtures)


def zpl_barcodes(zpl: bytes) -> list[str]:
    """What an independent ZPL renderer (zplkit) prints, read back by zbar."""
    import zplkit
    from PIL import Image
    from pyzbar import pyzbar

    found = []
    for page in zplkit.render(zpl, zplkit.Options(dpi=203)).labels:
        image = Image.open(io.BytesIO(page.png())).convert("L")
        found += [d.data.decode("ascii") for d in pyzbar.decode(image)]
    return sorted(found)


@pytest.fixture
def camera_video(tmp_path) -> Path:
    """Ten seconds of a bench camera looking at a label (long enough to take a photo from)."""
    return write_video(tmp_path / "bench-camera.avi", [Shot(rma_label("RMA-2026-000777"), 150)], fps=15.0)


async def test_camera_photo_and_disposition_label_on_save(settings, folder, camera_video):  # noqa: F811
    with LoopbackPrinter() as printer:
        station = Settings(
            station=settings.station,
            db=settings.db,
            camera=str(camera_video),
            printer=printer.url,
            sources=settings.sources,
        )
        app = make_app(station, operator="qc1")
        async with app.run_test(size=(130, 50)) as pilot:
            bench = await open_bench(app, pilot, folder, ready=lambda app: app.print_queue is not None)
            screen = bench.screen
            await bench.type_scan("RMA-1")
            await bench.type_scan(GADGET_GTIN)
            await bench.key("f")  # check_1: critical, photo required on fail
            assert isinstance(app.screen, PhotoDialog)
            await pilot.press("f8")  # take it with the station camera
            for _ in range(300):
                await pilot.pause(0.02)
                if app.screen is screen:
                    break
            assert app.screen is screen
            await bench.key("p", "p", "p", "p", "p", "p", "p", "enter")
            assert bench.word == "SCRAPPED"
            [event] = bench.events("item.inspected")
            jobs = await asyncio.to_thread(printer.wait_for_jobs, 1)
    [photo] = event.payload["photos"]
    stored = Path(photo["path"])
    assert stored.parent == Path(settings.db).parent / "photos"
    assert stored.name == f"{photo['sha256']}.jpg"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo["sha256"]
    assert stored.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    assert len(jobs) == 1 and b"SCRAPPED" in jobs[0]
    assert zpl_barcodes(jobs[0]) == [event.payload["lpn"]]  # the unit's license plate, its one barcode


async def test_photo_command_barcode_takes_the_picture_at_once(settings, folder, camera_video):  # noqa: F811
    station = Settings(station=settings.station, db=settings.db, camera=str(camera_video), sources=settings.sources)
    app = make_app(station, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        bench = await open_bench(app, pilot, folder)
        screen = bench.screen
        await bench.type_scan("RMA-1")
        await bench.type_scan(GADGET_GTIN)
        await bench.key("p")  # check_1 passes; the cursor moves to check_2
        await bench.key("f")  # check_2: major, no photo required
        await bench.scan("CMD:PHOTO")  # evidence anyway: no dialog, the camera takes it
        for _ in range(300):
            await pilot.pause(0.02)
            if screen.draft is not None and screen.draft.photos:
                break
        assert not isinstance(app.screen, PhotoDialog)
        [photo] = screen.draft.photos.values()
        assert Path(photo.path).is_file() and hashlib.sha256(Path(photo.path).read_bytes()).hexdigest() == photo.sha256
