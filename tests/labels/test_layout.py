"""Bars in whole dots, quiet zones, text that fits: read off the rendered pixels."""

from __future__ import annotations

import itertools

import pytest

from labels import LabelError, place, render, rma_label
from labels.layout import PlacedBarcode, PlacedText, fit_lines, text_width

from .conftest import png_image, zpl_images


def runs(image, y):
    """(is_black, length) runs along pixel row y."""
    gray = image.convert("L")
    row = [gray.getpixel((x, y)) < 128 for x in range(gray.width)]
    return [(black, len(list(group))) for black, group in itertools.groupby(row)]


def barcode_runs(image, barcode: PlacedBarcode):
    """The runs of the row through the middle of a barcode, from its first bar to its last."""
    row = runs(image, barcode.y + barcode.height // 2)
    xs = list(itertools.accumulate(n for _, n in row))
    first = next(i for i, (black, _) in enumerate(row) if black and xs[i] > barcode.x)
    last = max(i for i, (black, _) in enumerate(row) if black and xs[i] - row[i][1] < barcode.x + barcode.width)
    return row[first - 1], row[first : last + 1], row[last + 1]


@pytest.mark.parametrize("dpi", (203, 300))
def test_every_bar_is_whole_dots_with_quiet_zones_of_ten_modules(sample, dpi):
    _, label, _ = sample
    sheet = place(label, dpi)
    image = png_image(render([label], "png", dpi)[0])
    barcodes = [e for e in sheet.elements if isinstance(e, PlacedBarcode)]
    assert barcodes
    for barcode in barcodes:
        before, bars, after = barcode_runs(image, barcode)
        widths = {n for _, n in bars}
        module = min(widths)
        assert all(n % module == 0 for n in widths), f"a bar is not whole modules: {sorted(widths)}"
        assert sum(n for _, n in bars) == len(barcode.pattern) * module
        assert not before[0] and before[1] >= 10 * module
        assert not after[0] and after[1] >= 10 * module


@pytest.mark.parametrize("dpi", (203, 300))
def test_the_printer_draws_the_same_bars_as_the_png(sample, dpi):
    """zplkit, an independent ZPL renderer, gives bar-for-bar the symbol the PNG shows."""
    from .test_formats import ascii_only

    _, label, _ = sample
    sheet = place(label, dpi)
    ours = png_image(render([label], "png", dpi)[0])
    [printed] = zpl_images(ascii_only(render([label], "zpl", dpi)[0]), dpi)
    for barcode in (e for e in sheet.elements if isinstance(e, PlacedBarcode)):
        assert barcode_runs(printed, barcode)[1] == barcode_runs(ours, barcode)[1]


def test_a_long_code_gets_thinner_bars_and_too_long_a_code_is_refused():
    short = place(rma_label("RMA-1"), 203)
    long = place(rma_label("RMA-" + "ABCDEFGHIJKLMNOPQRSTUV"), 203)
    module = lambda sheet: next(e.module for e in sheet.elements if isinstance(e, PlacedBarcode))  # noqa: E731
    assert module(long) < module(short)
    with pytest.raises(LabelError, match="too long for a barcode"):
        place(rma_label("RMA-" + "X" * 70), 203)


@pytest.mark.parametrize("code", ["", "RMA-ÄÖÜ", "x" * 81])
def test_what_no_scanner_reads_back_is_refused(code):
    with pytest.raises(LabelError):
        place(rma_label(code), 203)


def test_unknown_dpi_is_refused():
    with pytest.raises(LabelError, match="203 or 300"):
        place(rma_label("RMA-1"), 600)


def test_text_is_one_printable_line_cut_to_fit():
    sheet = place(rma_label("RMA-1", customer="Line one\nline two\tand\x1b[31m more " + "x" * 300), 203)
    texts = [e for e in sheet.elements if isinstance(e, PlacedText)]
    assert all(e.text.isprintable() for e in texts)
    shown = [e.text for e in texts]
    customer = shown[shown.index("CUSTOMER") + 1 : shown.index("ORDER")]
    assert customer[0].startswith("Line one line two and [31m more")
    assert len(customer) == 2 and customer[-1].endswith("...")
    for e in texts:
        assert e.x + text_width(e.text, e.size, e.bold) <= sheet.width


def test_wrapping_keeps_every_word_that_fits():
    lines = fit_lines("the lid is cracked on two sides", 40, 400, lines=3)
    assert len(lines) > 1
    assert " ".join(lines) == "the lid is cracked on two sides"


def texts(label, dpi=203) -> list[str]:
    """The text lines a label prints."""
    return [e.text for e in place(label, dpi).elements if isinstance(e, PlacedText)]


def test_a_disposition_label_without_grade_defect_or_inspector_prints_no_empty_fields():
    from labels import disposition_label

    lines = texts(disposition_label("RESELLABLE", sku="SKU-1", rma="RMA-1", line=1, day="2026-11-21"))
    assert "-" not in lines and not any("Inspector" in t for t in lines)
    assert lines == ["RESELLABLE", "SKU SKU-1", "RMA RMA-1 / line 1", "Inspected 2026-11-21"]
    full = texts(
        disposition_label(
            "DISCOUNTED",
            sku="SKU-1",
            rma="RMA-1",
            line=1,
            grade="B",
            defect="scratch",
            inspector="anna",
            day="2026-11-21",
        )
    )
    assert "Grade B / scratch" in full and "Inspector anna / 2026-11-21" in full


@pytest.mark.parametrize("dpi", (203, 300))
def test_the_4x6_rma_label_is_laid_out_as_a_carrier_label(dpi):
    """A large code, readable from a metre: 3.5-4 in wide, over an inch tall, in the lower half; the code big."""
    label = rma_label("RMA-2026-000123", customer="Eva Jensen", order="SO-1", reason="too small", day="2026-11-21")
    sheet = place(label, dpi)
    [barcode] = [e for e in sheet.elements if isinstance(e, PlacedBarcode)]
    assert 3.5 * dpi <= barcode.width <= 4 * dpi
    assert barcode.height >= 1.0 * dpi
    assert barcode.y + barcode.height > sheet.height * 0.75  # the bottom half carries the code
    [code] = [e for e in sheet.elements if isinstance(e, PlacedText) and e.text == "RMA-2026-000123"]
    assert code.size >= round(8 / 25.4 * dpi)  # the code in text, about 8 mm tall or more
    assert decode_png(label, dpi) == ["RMA-2026-000123"]


def decode_png(label, dpi):
    from .conftest import decode

    return decode(png_image(render([label], "png", dpi)[0]))
