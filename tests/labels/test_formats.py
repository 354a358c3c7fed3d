"""Every label, in every format and resolution, decodes back to what it was given."""

from __future__ import annotations

import re

import pytest

from labels import place, render

from .conftest import decode, pdf_images, png_image, svg_image, zpl_images

DPIS = (203, 300)


def ascii_only(zpl: bytes) -> bytes:
    """zplkit's built-in font lacks non-ASCII glyphs (it raises); swap escaped UTF-8 for '?'.

    Only human text holds such bytes; the barcodes, which these tests read, are ASCII.
    """
    return re.sub(rb"(_[89A-F][0-9A-F])+", b"?", zpl)


@pytest.mark.parametrize("dpi", DPIS)
def test_png_decodes_to_its_input(sample, dpi):
    _, label, barcodes = sample
    [png] = render([label], "png", dpi)
    image = png_image(png)
    assert image.size == (place(label, dpi).width, place(label, dpi).height)
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)
    assert decode(image) == sorted(barcodes)


@pytest.mark.parametrize("dpi", DPIS)
def test_svg_decodes_to_its_input(sample, dpi):
    _, label, barcodes = sample
    [svg] = render([label], "svg", dpi)
    assert decode(svg_image(svg, dpi)) == sorted(barcodes)


@pytest.mark.parametrize("dpi", DPIS)
def test_pdf_decodes_to_its_input(sample, dpi):
    _, label, barcodes = sample
    [pdf] = render([label], "pdf", dpi)
    [page] = pdf_images(pdf, dpi)
    assert decode(page) == sorted(barcodes)


@pytest.mark.parametrize("dpi", DPIS)
def test_zpl_rendered_by_zplkit_decodes_to_its_input(sample, dpi):
    _, label, barcodes = sample
    [zpl] = render([label], "zpl", dpi)
    images = zpl_images(ascii_only(zpl), dpi)
    assert len(images) == 1
    assert decode(images[0]) == sorted(barcodes)


def test_a_batch_is_one_document_with_every_label_in_order():
    from .conftest import sample_labels

    samples = sample_labels()
    labels = [s[1] for s in samples]
    [pdf] = render(labels, "pdf", 203)
    pages = pdf_images(pdf, 203)
    assert [decode(p) for p in pages] == [sorted(s[2]) for s in samples]
    assert len(render(labels, "png", 203)) == len(labels)
