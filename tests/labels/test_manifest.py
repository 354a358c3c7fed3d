"""A closed container's manifest, and a container's own label: the barcode reads back as the container."""

from __future__ import annotations

import pytest

from labels import container_label, manifest_labels, place, render
from labels.layout import PlacedBarcode, PlacedText

from .conftest import decode, pdf_images, png_image, zpl_images
from .test_formats import ascii_only

PLATES = [f"LP0KQ3ZX79M4T2B8CW{n:02d}" for n in range(40)]  # the shape of sync.lpn's plates


def manifest(count: int = 3):
    units = [(lpn, f"SKU-{n}", "discounted", "b-stock") for n, lpn in enumerate(PLATES[:count])]
    return manifest_labels(
        "TOTE-7",
        kind="tote",
        units=units,
        channel_counts=[("B-STOCK", count)],
        grade_counts=[("DISCOUNTED", count)],
        closed="Closed 2026-11-21 10:00 UTC by li at zone-1",
        location="dock 3",
    )


def texts(label) -> list[str]:
    return [e.text for e in place(label, 203).elements if isinstance(e, PlacedText)]


@pytest.mark.parametrize("dpi", (203, 300))
def test_the_manifest_barcode_reads_back_as_the_container_from_png_and_zpl(dpi):
    [first] = manifest()
    [png] = render([first], "png", dpi)
    assert decode(png_image(png)) == ["BIN:TOTE-7"]
    [zpl] = render([first], "zpl", dpi)
    [image] = zpl_images(ascii_only(zpl), dpi)
    assert decode(image) == ["BIN:TOTE-7"]


def test_the_manifest_lists_each_unit_and_the_counts_per_channel_and_grade():
    [first] = manifest()
    lines = texts(first)
    assert lines[0] == "MANIFEST TOTE TOTE-7"
    assert "Units: 3" in lines and "By channel: B-STOCK 3" in lines and "By grade: DISCOUNTED 3" in lines
    assert "At DOCK 3" in lines and "Closed 2026-11-21 10:00 UTC by li at zone-1" in lines
    for n, lpn in enumerate(PLATES[:3]):
        assert lpn in lines and f"SKU-{n}" in lines
    assert lines.count("DISCOUNTED B-STOCK") == 3 and lines[-1] == "Manifest TOTE-7 / page 1 of 1"


def test_a_long_manifest_goes_on_over_numbered_pages_and_every_unit_is_listed_once():
    pages = manifest(40)
    assert len(pages) == 2
    listed = [t for page in pages for t in texts(page) if t.startswith("LP0")]
    assert listed == PLATES[:40]
    assert texts(pages[1])[-1] == "Manifest TOTE-7 / page 2 of 2"
    [pdf] = render(pages, "pdf", 203)
    images = pdf_images(pdf, 203)
    assert [decode(image) for image in images] == [["BIN:TOTE-7"], []]  # the barcode once, on the first page


def test_a_container_label_is_the_bin_barcode_with_its_kind_printed():
    label = container_label("pallet 12", "pallet", ["b_stock"])
    [png] = render([label], "png", 203)
    assert decode(png_image(png)) == ["BIN:PALLET 12"]
    assert texts(label)[0] == "PALLET PALLET 12"
    [barcode] = [e for e in place(label, 203).elements if isinstance(e, PlacedBarcode)]
    assert barcode.data == "BIN:PALLET 12"
