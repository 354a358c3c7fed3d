"""The station's pipeline on frames as a webcam gives them (sensor grain, blur) and on photographs.

What is asserted is what is read — every family, the 2D code when it is
there, nothing that is not there. How fast is bench/camera_bench.py's
business, never a test's.
"""

from __future__ import annotations

import collections
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from pyzbar import pyzbar

from terminal.scanning import Kind, read_scan
from terminal.scanning.decoders import StationDecoder
from terminal.scanning.synthetic import (
    FULL_HD,
    HD,
    PHOTO_FAMILIES,
    Bench,
    frame,
    gs1_label,
    item_label,
    matrix_image,
    photo_set,
    printed_rma_label,
    qr_label,
    rma_label,
)

from .conftest import EAN, EAN13, QR_TEXT, RMA

GS1 = "0104012345678901" + "10LOT7"
SMALL_DM = matrix_image(GS1, "DataMatrix", 10)  # 10 px a module, quiet zone included


def parcel_frame(label, size=FULL_HD, seed=0, **kwargs):
    """A frame of ``label`` on a plain parcel side, with a webcam's grain (sigma 6) and slight blur."""
    options = dict(width_share=0.35, angle=4, blur=1.0, noise=6.0)
    options.update(kwargs)
    return frame(Bench(size, seed=2, parcel=True), label, seed=seed, **options)


def reads_of(frames):
    """{(format, text)} read by one station decoder over consecutive ``frames`` (as the reader thread feeds it)."""
    decoder = StationDecoder()
    return [{(r.format, r.text) for r in decoder.decode(image)} for image in frames]


SCENES = {
    "RMA label: Code 128, EAN-13, DataMatrix": (
        rma_label(RMA, ean=EAN, datamatrix=RMA),
        {},
        {("Code128", RMA), ("EAN-13", EAN13), ("DataMatrix", RMA)},
    ),
    "QR sticker": (qr_label(QR_TEXT), {"width_share": 0.2}, {("QR", QR_TEXT)}),
    "light-on-dark QR (a phone's screen)": (255 - qr_label(QR_TEXT), {"width_share": 0.2}, {("QR", QR_TEXT)}),
    "item EAN-13": (item_label(EAN), {"width_share": 0.25}, {("EAN-13", EAN13)}),
    "GS1-128": (gs1_label(GS1), {}, {("Code128", GS1)}),
}
# a DataMatrix on a small item: 3.5 px a module at 1080p (at 720p that is 2.3 px, below what any decoder resolves)
SMALL = (SMALL_DM, {"width_share": 3.5 * SMALL_DM.shape[1] / 10 / 1920, "angle": 10}, {("DataMatrix", GS1)})


@pytest.mark.parametrize(
    "scene, size",
    [pytest.param(scene, size, id=f"{scene}-{size[1]}p") for scene in SCENES for size in (HD, FULL_HD)]
    + [pytest.param("small GS1 DataMatrix", FULL_HD, id="small GS1 DataMatrix-1080p")],
)
def test_every_family_is_read_on_noisy_frames_and_nothing_else(scene, size):
    label, options, expected = SCENES.get(scene, SMALL)
    frames = [parcel_frame(label, size, seed=s, **options) for s in range(3)]
    per_frame = reads_of(frames)
    assert all(reads <= expected for reads in per_frame), per_frame  # nothing misread, in any frame
    # every code is read, at the latest in the second frame (the rescue passes take turns)
    assert per_frame[0] | per_frame[1] == expected, per_frame


def test_the_printed_4x6_label_is_read_on_noisy_1080p_frames():
    frames = [parcel_frame(printed_rma_label(RMA), seed=s, angle=a) for s, a in ((0, 2), (1, -3), (2, 5))]
    per_frame = reads_of(frames)
    assert all(reads <= {("Code128", RMA)} for reads in per_frame), per_frame
    assert sum(("Code128", RMA) in reads for reads in per_frame) >= 2, per_frame


def test_a_light_on_dark_qr_beside_an_rma_label_is_read_too():
    # the label's Code 128 is read by the cheapest pass; the QR code on a phone held next to it must not be
    # left unread because something was already found in the frame
    bench = Bench(FULL_HD, seed=2, parcel=True)
    bench.image = frame(bench, rma_label(RMA), width_share=0.3, centre=(0.35, 0.5), angle=3, blur=1.0, noise=0)
    frames = [
        frame(
            bench, 255 - qr_label(QR_TEXT, 6), width_share=0.15, centre=(0.75, 0.5), angle=-8, blur=0, noise=6, seed=s
        )
        for s in range(2)
    ]
    assert reads_of(frames) == [{("Code128", RMA), ("QR", QR_TEXT)}] * 2


@pytest.mark.parametrize("size", [HD, FULL_HD], ids=["720p", "1080p"])
def test_noisy_frames_with_nothing_in_view_read_nothing(size):
    frames = [frame(Bench(size, seed=s, parcel=bool(s % 2)), None, blur=1.0, noise=6 + s, seed=s) for s in range(4)]
    assert reads_of(frames) == [set()] * 4


def test_gs1_128_on_a_noisy_frame_is_still_an_item_scan():
    (read,) = StationDecoder().decode(parcel_frame(gs1_label(GS1)))
    scan = read_scan(read.raw, source="camera")
    assert (read.symbology, scan.kind, scan.value) == ("]C1", Kind.ITEM, "04012345678901")


# -- photographs -----------------------------------------------------------------------

STATION_FORMATS = zxingcpp.barcode_formats_from_str("Code128,EAN13,UPCA,EAN8,DataMatrix,QRCode")
ZBAR_SYMBOLS = [
    pyzbar.ZBarSymbol.CODE128,
    pyzbar.ZBarSymbol.EAN13,
    pyzbar.ZBarSymbol.UPCA,
    pyzbar.ZBarSymbol.EAN8,
    pyzbar.ZBarSymbol.QRCODE,
]
ZXING_NAMES = {
    "Code128": "Code128",
    "EAN13": "EAN-13",
    "UPCA": "UPC-A",
    "EAN8": "EAN-8",
    "DataMatrix": "DataMatrix",
    "QRCode": "QR",
}
ZBAR_NAMES = {"CODE128": "Code128", "EAN13": "EAN-13", "UPCA": "UPC-A", "EAN8": "EAN-8", "QRCODE": "QR"}


def raw_zxing(image):
    """zxing-cpp as it comes (its default passes), on the station's formats."""
    return [
        (ZXING_NAMES[c.format.name], c.text)
        for c in zxingcpp.read_barcodes(image, formats=STATION_FORMATS, text_mode=zxingcpp.TextMode.Plain)
    ]


def raw_pyzbar(image):
    """pyzbar as it comes, on the station's symbologies."""
    return [(ZBAR_NAMES[c.type], c.data.decode()) for c in pyzbar.decode(image, symbols=ZBAR_SYMBOLS)]


def same(read, fmt, text):
    """A UPC-A is the EAN-13 with a leading 0: the same GTIN, whichever name a decoder gives it."""
    if fmt in ("EAN-13", "UPC-A") and read[0] in ("EAN-13", "UPC-A"):
        return read[1].zfill(13) == text.zfill(13)
    return read == (fmt, text)


def family(fmt, text):
    return "GS1-128" if fmt == "Code128" and text.startswith("01") else fmt


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Photograph-like pictures of every family, written as PNG files (what `rma decode` is given)."""
    folder = tmp_path_factory.mktemp("photos")
    made = []
    for n, p in enumerate(photo_set(per_family=5)):
        path = folder / f"{n:03d}-{family(p.format, p.text)}.png"
        cv2.imwrite(str(path), p.image)
        made.append((path, p))
    return made


def test_rma_decode_reads_every_family_in_photographs_at_least_as_often_as_raw_zxing_and_raw_pyzbar(photos):
    from click.testing import CliRunner

    from terminal.cli import rma

    result = CliRunner().invoke(rma, ["decode", *[str(path) for path, _ in photos]])
    printed = collections.defaultdict(list)
    for line in result.stdout.splitlines():
        path, fmt, text = line.split("\t")
        printed[path].append((fmt, text))
    counts = {name: collections.Counter() for name in ("rma decode", "raw zxing-cpp", "raw pyzbar")}
    wrong = []
    for path, p in photos:
        grey = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
        for name, reads in (
            ("rma decode", printed[str(path)]),
            ("raw zxing-cpp", raw_zxing(grey)),
            ("raw pyzbar", raw_pyzbar(grey)),
        ):
            good = [r for r in reads if same(r, p.format, p.text)]
            counts[name][family(p.format, p.text)] += bool(good)
            if name == "rma decode":
                wrong += [(path.name, r) for r in reads if r not in good]
    assert wrong == []
    for fam in PHOTO_FAMILIES:
        station = counts["rma decode"][fam]
        assert station >= counts["raw zxing-cpp"][fam] and station >= counts["raw pyzbar"][fam], (fam, counts)
    assert sum(counts["rma decode"].values()) > 0


def test_the_barcode_pictures_shipped_with_pyzbar_read_as_pyzbar_reads_them():
    import pyzbar as package

    folder = Path(package.__file__).parent / "tests"
    pictures = sorted(p for p in folder.glob("*.png") if p.name != "empty.png")
    assert pictures, "pyzbar ships its test pictures"
    decoder = StationDecoder()
    for picture in pictures:
        grey = cv2.cvtColor(cv2.imread(str(picture)), cv2.COLOR_BGR2GRAY)
        expected = {(fmt, text) for fmt, text in raw_pyzbar(grey) if fmt in ("Code128", "QR")}
        assert expected <= {(r.format, r.text) for r in decoder.decode_photo(grey)}, picture.name
    assert decoder.decode_photo(cv2.imread(str(folder / "empty.png"))) == []


def test_a_code_both_decoders_read_differently_in_a_photo_is_one_read_not_two():
    # a QR code of GB18030 bytes without an ECI (as some Chinese suppliers print them): zxing-cpp and
    # zbar each guess another character set; `rma decode` must not print the one code twice
    code = zxingcpp.create_barcode("生产许可证号：测试-123".encode("gb18030"), zxingcpp.QRCode)
    image = np.asarray(zxingcpp.write_barcode_to_image(code, scale=6, add_quiet_zones=True))
    assert len({text for _, text in raw_zxing(image) + raw_pyzbar(image)}) == 2  # they do disagree
    reads = StationDecoder().decode_photo(image)
    assert [r.format for r in reads] == ["QR"]
