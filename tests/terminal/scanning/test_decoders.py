"""Decoders on rendered labels: each reads what the label says, and only the station's symbologies."""

from __future__ import annotations

import barcode.codex
import cv2
import numpy as np
import pytest

from terminal.scanning import Kind, read_scan
from terminal.scanning.decoders import StationDecoder, ZbarDecoder, ZxingDecoder, make_decoder
from terminal.scanning.synthetic import FULL_HD, HD, Bench, datamatrix_image, frame, gs1_label, item_label, rma_label

from .conftest import EAN, EAN13, RMA

ALL = [StationDecoder, ZxingDecoder, ZbarDecoder]


@pytest.mark.parametrize("decoder_class", ALL)
def test_every_decoder_reads_the_rma_code_and_the_item_ean_on_a_clean_label(decoder_class):
    reads = decoder_class().decode(rma_label(RMA, ean=EAN))
    assert {(r.format, r.text) for r in reads} == {("Code128", RMA), ("EAN-13", EAN13)}


@pytest.mark.parametrize("size", [HD, FULL_HD])
@pytest.mark.parametrize("decoder_class", ALL)
def test_the_rma_label_is_read_in_a_cluttered_rotated_blurred_noisy_frame(decoder_class, size):
    image = frame(Bench(size, seed=2), rma_label(RMA), width_share=0.35, angle=-5, blur=1.2, noise=6, seed=4)
    assert RMA in [r.text for r in decoder_class().decode(image)]


@pytest.mark.parametrize("decoder_class", ALL)
def test_a_frame_without_a_label_reads_nothing(decoder_class):
    assert decoder_class().decode(frame(Bench(HD, seed=5), None, seed=1)) == []


def test_only_zxing_reads_datamatrix():
    code = datamatrix_image("RMA-2026-000999")
    assert [(r.format, r.text) for r in ZxingDecoder().decode(code)] == [("DataMatrix", "RMA-2026-000999")]
    assert StationDecoder().decode(code)[0].text == "RMA-2026-000999"
    assert ZbarDecoder().decode(code) == []


@pytest.mark.parametrize("decoder_class", ALL)
def test_symbologies_the_station_does_not_use_are_not_read(decoder_class):
    # a Code 39 on the same sheet (a supplier's old label) must not become a scan
    modules = barcode.codex.Code39("ABC123", add_checksum=False).build()[0]
    row = np.array([255] * 20 + [0 if m == "1" else 255 for m in modules] + [255] * 20, np.uint8)
    image = np.tile(np.repeat(row, 3), (90, 1))
    assert decoder_class().decode(image) == []
    # ...while an unrestricted zxing-cpp does read it: the restriction is what keeps it out
    import zxingcpp

    assert [b.text for b in zxingcpp.read_barcodes(image)] == ["ABC123"]


def test_gs1_128_from_the_camera_is_an_item_scan_like_a_scanners():
    reads = StationDecoder().decode(gs1_label("0104012345678901" + "10LOT7"))
    assert [r.symbology for r in reads] == ["]C1"]
    scan = read_scan(reads[0].raw, source="camera")
    assert (scan.kind, scan.value, scan.source) == (Kind.ITEM, "04012345678901", "camera")


def test_an_item_label_read_by_the_camera_is_an_item_scan():
    (read,) = StationDecoder().decode(item_label(EAN))
    scan = read_scan(read.raw, source="camera")
    assert (scan.kind, scan.value) == (Kind.ITEM, EAN13)


def test_boxes_are_in_full_frame_pixels_when_the_station_reads_a_halved_1080p_frame():
    image = frame(Bench(FULL_HD, seed=2), rma_label(RMA), width_share=0.35, angle=0, centre=(0.7, 0.6), seed=1)
    (read,) = [r for r in StationDecoder().decode(image) if r.text == RMA]
    x, y, w, h = read.box
    # the label's centre is at 70% / 60% of the frame: the code's box must be around there
    assert abs((x + w / 2) / FULL_HD[0] - 0.7) < 0.08
    assert 0.4 < (y + h / 2) / FULL_HD[1] < 0.65


def test_an_unknown_decoder_name_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown decoder 'zbarr'; choose one of station, zxing, zbar"):
        make_decoder("zbarr")


def test_colour_and_grey_frames_read_the_same():
    image = frame(Bench(HD, seed=2), rma_label(RMA), seed=3)
    decoder = StationDecoder()
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert [r.text for r in decoder.decode(image)] == [r.text for r in decoder.decode(gray)]


def test_capture_decoding_and_photos_import_no_textual():
    # the camera's domain part must run without the TUI (rma decode, a conveyor script)
    import subprocess
    import sys

    code = (
        "import sys, terminal.scanning.camera, terminal.scanning.decoders, terminal.scanning.synthetic, "
        "terminal.photos; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_generated_frames_carry_their_sensor_noise_in_the_grey_image_the_decoders_see():
    # the decoders binarise luminance: noise in one colour channel only would be footage cleaner than a camera's
    bench = Bench(HD, seed=2)
    bench.image[:] = (95, 140, 175)  # a plain parcel side, so the grain is all there is
    grey = cv2.cvtColor(frame(bench, None, blur=0, noise=6, seed=1), cv2.COLOR_BGR2GRAY).astype(float)
    assert 5.0 < grey.std() < 7.0
