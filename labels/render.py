"""One call from labels to bytes in any format the floor uses."""

from __future__ import annotations

from collections.abc import Sequence

from labels.layout import Label, LabelError, place
from labels.pictures import to_pdf, to_png, to_svg
from labels.zpl import to_zpl

FORMATS = ("zpl", "png", "pdf", "svg")
SUFFIX = {"zpl": ".zpl", "png": ".png", "pdf": ".pdf", "svg": ".svg"}
# Formats that hold many labels in one document (a ZPL stream, a PDF with a page per label).
MULTI_LABEL = ("zpl", "pdf")


def render(labels: Sequence[Label], fmt: str, dpi: int = 203) -> list[bytes]:
    """Render labels for a printer of ``dpi``.

    ZPL and PDF give one document holding every label; PNG and SVG give one
    file per label, in order.
    """
    if fmt not in FORMATS:
        raise LabelError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not labels:
        raise LabelError("no labels to render")
    sheets = [place(label, dpi) for label in labels]
    if fmt == "zpl":
        return [to_zpl(sheets)]
    if fmt == "pdf":
        return [to_pdf(sheets)]
    draw = to_png if fmt == "png" else to_svg
    return [draw(sheet) for sheet in sheets]
