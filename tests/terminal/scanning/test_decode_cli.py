"""`rma decode` on label photos, generated videos and bad input."""

from __future__ import annotations

import cv2
from click.testing import CliRunner

from terminal.cli import rma
from terminal.scanning.synthetic import FULL_HD, Bench, frame, rma_label

from .conftest import EAN, EAN13, RMA


def run(*args):
    return CliRunner().invoke(rma, list(args))


def test_a_label_photo_prints_file_format_text_per_barcode(tmp_path):
    photo = tmp_path / "label.jpg"
    cv2.imwrite(str(photo), frame(Bench(FULL_HD), rma_label(RMA, ean=EAN, datamatrix="RMA-2026-000777"), seed=2))
    result = run("decode", str(photo))
    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.splitlines()) == sorted(
        [f"{photo}\tCode128\t{RMA}", f"{photo}\tEAN-13\t{EAN13}", f"{photo}\tDataMatrix\tRMA-2026-000777"]
    )


def test_zbar_can_be_chosen_and_does_not_see_the_datamatrix(tmp_path):
    photo = tmp_path / "label.png"
    cv2.imwrite(str(photo), rma_label(RMA, datamatrix="RMA-2026-000777"))
    result = run("decode", "--decoder", "zbar", str(photo))
    assert result.stdout.splitlines() == [f"{photo}\tCode128\t{RMA}"]


def test_a_photo_without_a_barcode_exits_1(tmp_path):
    photo = tmp_path / "bench.png"
    cv2.imwrite(str(photo), frame(Bench((640, 360)), None))
    result = run("decode", str(photo))
    assert (result.exit_code, result.stdout) == (1, "")


def test_a_file_that_is_not_an_image_is_one_line_and_exit_1(tmp_path):
    good, bad = tmp_path / "label.png", tmp_path / "notes.png"
    cv2.imwrite(str(good), rma_label(RMA))
    bad.write_text("not a picture")
    result = run("decode", str(bad), str(good))
    assert result.exit_code == 1
    assert result.stderr == f"rma: {bad}: not an image that can be read (missing, damaged or not a picture)\n"
    assert result.stdout == f"{good}\tCode128\t{RMA}\n"  # the good one is still read


def test_a_video_prints_each_scan_once_as_the_station_receives_it(footage):
    result = run("decode", "--video", str(footage), "--stats")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{footage}\tCode128\t{RMA}",
        f"{footage}\tEAN-13\t{EAN13}",
        f"{footage}\tCode128\t{RMA}",
    ]
    assert result.stderr.startswith("stats: 83 frames in ")
    assert " fps (" in result.stderr


def test_a_corrupt_video_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "camera.avi"
    bad.write_bytes(b"\x00garbage" * 500)
    result = run("decode", "--video", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"rma: video file {bad} cannot be opened")


def test_images_and_a_video_together_are_refused(footage, tmp_path):
    result = run("decode", "x.png", "--video", str(footage))
    assert result.exit_code == 2
    assert result.stderr == "rma: give IMAGE files, or --video FILE, or --camera N (exactly one of them)\n"


def test_a_camera_that_is_not_there_is_one_line(tmp_path):
    result = run("decode", "--camera", "9", "--seconds", "0.5")
    assert result.exit_code == 1
    assert result.stderr.startswith("rma: camera 9 cannot be opened")
    assert result.stderr.count("\n") == 1
