"""The disposition label of an inspected unit: grade, channel, bin, and its license plate as the one barcode."""

from __future__ import annotations

import pytest

from labels import disposition_label, place, render
from labels.layout import PlacedBarcode, PlacedText

from .conftest import decode, png_image, zpl_images
from .test_formats import ascii_only

LPN = "LP0KQ3ZX79M4T2B8CWEQ"  # the shape of sync.lpn's plates (labels may not import sync)


def unit_label(**more):
    fields = dict(
        sku="SKU-100234",
        rma="RMA-2026-000123",
        line=2,
        defect="Housing: visible scratches or dents",
        inspector="anna",
        day="2026-11-21",
        channel="B-STOCK",
        bin="B-GRADE",
        lpn=LPN,
    )
    fields.update(more)
    return disposition_label("DISCOUNTED", **fields)


@pytest.mark.parametrize("dpi", (203, 300))
def test_the_plate_is_the_one_barcode_and_decodes_back_from_the_png(dpi):
    [png] = render([unit_label()], "png", dpi)
    assert decode(png_image(png)) == [LPN]


@pytest.mark.parametrize("dpi", (203, 300))
def test_the_plate_decodes_back_from_zpl_as_a_printer_renders_it(dpi):
    [zpl] = render([unit_label()], "zpl", dpi)
    [image] = zpl_images(ascii_only(zpl), dpi)
    assert decode(image) == [LPN]


def test_the_label_says_grade_channel_bin_and_plate():
    sheet = place(unit_label(), 203)
    lines = [e.text for e in sheet.elements if isinstance(e, PlacedText)]
    assert lines[:3] == ["DISCOUNTED", "Channel B-STOCK / Bin B-GRADE", f"LPN {LPN}"]
    assert "SKU SKU-100234 / RMA RMA-2026-000123 / line 2" in lines
    assert "Inspector anna / 2026-11-21" in lines
    [barcode] = [e for e in sheet.elements if isinstance(e, PlacedBarcode)]
    assert barcode.width <= sheet.width and barcode.height >= 16 * 203 / 25.4 * 0.95  # tall enough to scan


def test_without_a_plate_the_label_is_as_before():
    label = disposition_label("RESELLABLE", sku="SKU-1", rma="RMA-1", line=1, day="2026-11-21")
    assert [e.data for e in label.elements if hasattr(e, "data")] == ["SKU-1"]


def test_customer_text_in_channel_or_bin_is_printed_as_text_not_commands():
    [zpl] = render([unit_label(bin="^XA^FDX", channel="~JA")], "zpl", 203)
    assert zpl.count(b"^XA") == 1 and b"~JA" not in zpl
