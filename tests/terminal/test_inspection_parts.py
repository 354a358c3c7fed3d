"""The parts behind the inspect screen, without a screen: item barcodes, photos, the draft."""

from __future__ import annotations

import hashlib

import pytest

from qc_checklists import Disposition, check_text
from sync.store import Line, Rma
from terminal.inspection import Draft
from terminal.photos import NO_CAMERA, PhotoError, no_camera, photo_from_file
from terminal.scanning import read_scan
from terminal.scanning.item import ItemCode, read_item, same_gtin


@pytest.mark.parametrize(
    "raw, gtin, serial, lot, expiry",
    [
        ("4006381333931", "04006381333931", "", "", ""),  # EAN-13
        ("036000291452", "00036000291452", "", "", ""),  # UPC-A
        ("]C10104006381333931\x1d21SN1\x1d17261231\x1d10L5", "04006381333931", "SN1", "L5", "2026-12-31"),  # GS1-128
        ("]d20104006381333931\x1d10LOT-9", "04006381333931", "", "LOT-9", ""),  # GS1 DataMatrix
        ("010400638133393121SN99", "04006381333931", "SN99", "", ""),  # no AIM prefix, serial last
        ("(01)04006381333931(21)ABC(17)270131", "04006381333931", "ABC", "", "2027-01-31"),  # printed form
    ],
)
def test_item_barcodes(raw, gtin, serial, lot, expiry):
    code, problem = read_item(read_scan(raw))
    assert problem == ""
    assert (code.gtin, code.serial, code.lot, code.expiry) == (gtin, serial, lot, expiry)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("4006381333932", "check digit"),
        ("0104006381333932\x1d21X", "check digit"),
        ("(02)04006381333931", "carries no GTIN"),
    ],
)
def test_bad_item_barcodes(raw, reason):
    code, problem = read_item(read_scan(raw))
    assert code is None and reason in problem


def test_read_scan_survives_a_bad_check_digit():
    assert read_scan("4006381333932").kind.value == "parcel"


def test_same_gtin_ignores_leading_zeros():
    assert (
        same_gtin("4006381333931", "04006381333931")
        and not same_gtin("", "")
        and not same_gtin("4006381333931", "4006381333948")
    )


def test_photo_from_file(tmp_path):
    jpeg = tmp_path / "a.jpg"
    data = b"\xff\xd8\xff\xe0" + b"x" * 5000
    jpeg.write_bytes(data)
    photo = photo_from_file("stains", jpeg, tmp_path / "photos")
    kept = tmp_path / "photos" / f"{hashlib.sha256(data).hexdigest()}.jpg"  # copied by hash when attached
    assert (photo.sha256, photo.bytes, photo.path) == (hashlib.sha256(data).hexdigest(), 5000 + 4, str(kept))
    assert photo.record() == {"item": "stains", "sha256": photo.sha256, "path": str(kept), "bytes": 5004}
    jpeg.unlink()
    assert kept.read_bytes() == data and [p.name for p in (tmp_path / "photos").iterdir()] == [kept.name]
    assert no_camera("stains").record() == {"item": "stains", "exception": NO_CAMERA}


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("missing.jpg", None, "no file"),
        ("empty.jpg", b"", "is empty"),
        ("text.jpg", b"hello, not a photo", "not a JPEG, PNG or WebP"),
        ("", None, "is not a file"),  # the folder itself
    ],
)
def test_photo_files_refused(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PhotoError, match=reason):
        photo_from_file("stains", path, tmp_path / "photos")


CHECKLIST, _ = check_text("""\
checklist: bench
items:
  - {id: works, kind: pass_fail, severity: critical, prompt: Works, photo_required_on_fail: true}
  - {id: box, kind: choice, severity: minor, prompt: Box, choices: {fine: pass, dented: fail}}
  - {id: battery, kind: measurement, severity: major, prompt: Battery, unit: "%", min: 80, optional: true}
  - {id: front, kind: photo, prompt: Front photo}
  - {id: remarks, kind: note, prompt: Remarks}
""")


def draft() -> Draft:
    line = Line(1, "SKU", "4006381333931", "Thing", 1, "bench")
    return Draft(
        Rma("RMA-1", "", "", "", "authorized", "received", lines=(line,)),
        line,
        CHECKLIST,
        ItemCode("4006381333931", "04006381333931"),
    )


def test_draft_walks_the_checklist_and_skips_the_note():
    d = draft()
    assert d.current.id == "works"
    assert d.fail_current() == "" and d.current.id == "box"
    assert [i.id for i in d.photos_missing()] == ["works", "front"]
    assert d.fail_current().startswith("#2 Box is not a pass/fail check")
    assert d.choose(3) == "#2 Box has answers 1 to 2"
    assert d.pass_current() == "" and d.answers["box"] == "fine"
    assert d.enter_text("lots") == "'lots' is not a number — type the reading, e.g. 80%"
    assert d.enter_text("n/a") == "" and d.answers["battery"] == "n/a"
    assert d.current.id == "front"
    d.attach(no_camera("front"))
    assert d.current is None  # the note is optional: nothing required is left
    assert [i.id for i in d.photos_missing()] == ["works"]
    d.move(-1)
    assert d.current.id == "remarks"
    assert d.enter_text("  sticky   residue ") == "" and d.answers["remarks"] == "sticky residue"
    d.move(1)
    assert d.current.id == "works"  # wraps
    assert d.pass_current() == "" and d.photos_missing() == []
    inspection = d.to_inspection(Disposition.RESELLABLE)
    assert inspection.suggested == "resellable" and inspection.checklist_hash == CHECKLIST.content_hash
    assert [a["item"] for a in inspection.answers] == ["works", "box", "battery", "front", "remarks"]
    assert inspection.photos == ({"item": "front", "exception": NO_CAMERA},)


def test_a_fail_changed_to_pass_drops_its_defect_photo(tmp_path):
    d = draft()
    d.fail_current()
    d.attach(no_camera("works"))
    d.move(-1)
    d.pass_current()
    assert "works" not in d.photos
