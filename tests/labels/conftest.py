"""Labels under test, and independent decoders that read them back."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from labels import badge_label, command_sheet, disposition_label, rma_label

# The station's command names, spelled out here: labels must not import terminal.
COMMANDS = (
    "PASS",
    "FAIL",
    "RESELLABLE",
    "DISCOUNTED",
    "SCRAPPED",
    "CONFIRM",
    "CANCEL",
    "UNDO",
    "SIGN-OUT",
    "NEXT-ITEM",
)


def sample_labels():
    """One of each label the floor prints, with fixed dates so output is stable: (key, label, barcodes)."""
    return [
        (
            "rma-4x6",
            rma_label(
                "RMA-2026-000123",
                customer="Zoë Müller-Lüdenscheidt GmbH & Co. KG",
                order="SO-88812",
                reason="Arrived damaged: the box was crushed and the lid is "
                "cracked on two sides; customer wants a refund",
                day="2026-11-21",
            ),
            ["RMA-2026-000123"],
        ),
        (
            "rma-4x2",
            rma_label(
                "RMA-2026-000124", customer="ACME Ltd", order="SO-1", reason="Too small", size="4x2", day="2026-11-21"
            ),
            ["RMA-2026-000124"],
        ),
        (
            "disposition",
            disposition_label(
                "DISCOUNTED",
                sku="SKU-100234",
                rma="RMA-2026-000123",
                line=2,
                grade="B",
                defect="scratched lid",
                inspector="anna",
                day="2026-11-21",
            ),
            ["SKU-100234"],
        ),
        ("commands", command_sheet(COMMANDS), [f"CMD:{c}" for c in COMMANDS]),
        ("badge", badge_label("anna", "Anna Kowalska"), ["OP:anna"]),
    ]


@pytest.fixture(params=[s[0] for s in sample_labels()])
def sample(request):
    """(key, label, the barcodes it must carry) for each kind of label."""
    return next(s for s in sample_labels() if s[0] == request.param)


def decode(image: Image.Image) -> list[str]:
    """Every barcode in the image, read by pyzbar AND zxing-cpp; both must read the same."""
    import zxingcpp
    from pyzbar import pyzbar

    gray = image.convert("L")
    by_zbar = sorted(d.data.decode("ascii") for d in pyzbar.decode(gray))
    by_zxing = sorted(r.text for r in zxingcpp.read_barcodes(gray))
    assert by_zbar == by_zxing, f"decoders disagree: zbar {by_zbar} zxing {by_zxing}"
    return by_zbar


def png_image(data: bytes) -> Image.Image:
    """A PNG as an image."""
    return Image.open(io.BytesIO(data))


def svg_image(data: bytes, dpi: int) -> Image.Image:
    """An SVG rasterised by cairo at the printer's resolution."""
    import cairosvg

    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=data, dpi=dpi, background_color="white")))


def pdf_images(data: bytes, dpi: int) -> list[Image.Image]:
    """Each PDF page rasterised by PDFium at the printer's resolution."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72).to_pil() for page in pdf]
    finally:
        pdf.close()


def zpl_images(data: bytes, dpi: int) -> list[Image.Image]:
    """ZPL rendered by zplkit, an independent ZPL renderer: one image per label it would print."""
    import zplkit

    document = zplkit.render(data, zplkit.Options(dpi=dpi))
    return [png_image(scene.png()) for scene in document.labels]
