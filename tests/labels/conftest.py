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


def ocr(image: Image.Image, lang: str = "chi_sim", psm: int = 11) -> str:
    """The text tesseract (an independent reader, Debian's tesseract-ocr with chi_sim) reads, without whitespace.

    Sparse-text mode (``--psm 11``) by default: a label is words scattered between barcodes.
    Tesseract puts spaces between Chinese characters; they say nothing here, so all whitespace goes.
    """
    import subprocess

    buffer = io.BytesIO()
    image.convert("L").save(buffer, "PNG")
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", lang, "--psm", str(psm)],
        input=buffer.getvalue(),
        capture_output=True,
        check=True,
        timeout=120,
    )
    return "".join(done.stdout.decode("utf-8").split())


OCR_LINE_HEIGHT = 32  # pixels: the character height tesseract reads most reliably


def ocr_lines(image: Image.Image, sheet) -> str:
    """What tesseract reads in each place the sheet puts a line of wide (CJK) text, one line at a time.

    The layout only says where to look; what is there is read from the
    rendered pixels.  Each line is cut out with a margin, scaled to a
    character height of 32 pixels and read as one line (``--psm 7``): a whole
    label (big barcodes beside big characters) misleads tesseract's page layout.
    """
    from labels.layout import PlacedText, has_wide, text_width

    read = []
    for el in sheet.elements:
        if isinstance(el, PlacedText) and has_wide(el.text):
            pad = el.size // 2
            right = el.x + int(text_width(el.text, el.size, el.bold)) + pad
            box = (
                max(0, el.x - pad),
                max(0, el.y - pad),
                min(image.width, right),
                min(image.height, el.y + round(el.size * 1.3) + pad),
            )
            line = image.convert("L").crop(box)
            k = OCR_LINE_HEIGHT / el.size
            read.append(ocr(line.resize((round(line.width * k), round(line.height * k)), Image.LANCZOS), psm=7))
    return "".join(read)


def poppler_images(data: bytes, dpi: int) -> list[Image.Image]:
    """Each PDF page rasterised by poppler's pdftoppm (a second, independent PDF reader)."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "labels.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(Path(folder) / "page")], check=True)
        return [Image.open(page).copy() for page in sorted(Path(folder).glob("page*.png"))]


def pdf_text(data: bytes) -> str:
    """The PDF's text layer as poppler's pdftotext reads it."""
    import subprocess

    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")
