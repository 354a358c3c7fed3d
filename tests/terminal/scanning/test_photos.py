"""Photo evidence: JPEG files named by their content hash, in the station's data folder."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from terminal.app import make_app
from terminal.config import Settings
from terminal.photos import PhotoError, photo_folder, save_photo
from terminal.scanning.synthetic import HD, Bench, frame, rma_label


def test_a_photo_is_a_jpeg_named_by_the_hash_of_its_bytes(tmp_path):
    image = frame(Bench(HD), rma_label(), seed=1)
    photo = save_photo(image, tmp_path / "photos")
    data = photo.path.read_bytes()
    assert photo.path.name == f"{photo.sha256}.jpg"
    assert hashlib.sha256(data).hexdigest() == photo.sha256
    assert data[:3] == b"\xff\xd8\xff"  # JPEG
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == image.shape
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [photo.path.name]  # no temporary file left


def test_the_same_picture_twice_is_one_file_and_another_is_another(tmp_path):
    image = frame(Bench(HD), rma_label(), seed=1)
    first, again = save_photo(image, tmp_path), save_photo(image.copy(), tmp_path)
    other = save_photo(frame(Bench(HD), None, seed=2), tmp_path)
    assert first == again
    assert other.sha256 != first.sha256
    assert len(list(tmp_path.glob("*.jpg"))) == 2


def test_photos_live_beside_the_station_database(tmp_path):
    assert photo_folder(tmp_path / "data" / "station.db") == tmp_path / "data" / "photos"


def test_a_folder_that_cannot_be_written_is_one_clear_error(tmp_path):
    blocker = tmp_path / "photos"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(PhotoError, match=f"cannot store the photo in {blocker}: .*; nothing was recorded"):
        save_photo(frame(Bench((320, 180)), None), blocker)


async def test_the_station_takes_a_photo_from_its_camera(footage, tmp_path):
    app = make_app(
        Settings(station="qc-1", db=str(tmp_path / "station.db"), camera=str(footage), sources={"db": "flag"})
    )
    async with app.run_test() as pilot:
        photo = await app.camera.take_photo()
        await pilot.pause()
    assert photo.path.parent == tmp_path / "photos"
    assert hashlib.sha256(photo.path.read_bytes()).hexdigest() == photo.sha256
    picture = cv2.imread(str(photo.path))
    assert picture.shape == (720, 1280, 3)


async def test_without_a_camera_taking_a_photo_says_why(tmp_path):
    app = make_app(Settings(station="qc-1", db=str(tmp_path / "station.db"), camera="", sources={"db": "flag"}))
    async with app.run_test():
        with pytest.raises(PhotoError, match="no camera configured"):
            await app.camera.take_photo()
