"""One call from labels to bytes in any format the floor uses."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from gettext import gettext as _
from pathlib import Path

from labels.layout import Label, LabelError, PlacedText, Text, font_problem, place
from labels.pictures import to_pdf, to_png, to_svg
from labels.zpl import to_zpl

FORMATS = ("zpl", "png", "pdf", "svg")
SUFFIX = {"zpl": ".zpl", "png": ".png", "pdf": ".pdf", "svg": ".svg"}
_log = logging.getLogger("labels")
# Formats that hold many labels in one document (a ZPL stream, a PDF with a page per label).
MULTI_LABEL = ("zpl", "pdf")


def render(labels: Sequence[Label], fmt: str, dpi: int = 203, *, zpl_cjk_font: str = "") -> list[bytes]:
    """Render labels for a printer of ``dpi``.

    ZPL and PDF give one document holding every label; PNG and SVG give one
    file per label, in order.  ``zpl_cjk_font`` names a CJK font the ZPL
    printer holds (``E:SIMSUN.TTF``); without it Chinese goes as graphics.
    """
    if fmt not in FORMATS:
        raise LabelError(_("format must be one of {formats}, not {fmt!r}").format(formats=", ".join(FORMATS), fmt=fmt))
    if not labels:
        raise LabelError(_("no labels to render"))
    sheets = [place(label, dpi) for label in labels]
    problem = font_problem(el.text for sheet in sheets for el in sheet.elements if isinstance(el, PlacedText))
    if problem and not (fmt == "zpl" and zpl_cjk_font):
        _log.warning("%s", problem)
    if fmt == "zpl":
        return [to_zpl(sheets, zpl_cjk_font)]
    if fmt == "pdf":
        return [to_pdf(sheets)]
    draw = to_png if fmt == "png" else to_svg
    return [draw(sheet) for sheet in sheets]


def font_note(labels: Sequence[Label]) -> str:
    """One line for a person when these labels hold Chinese and no CJK font is installed, else ""."""
    return font_problem(el.text for label in labels for el in label.elements if isinstance(el, Text))


def file_per_label(out: str | Path, labels: Sequence[Label], fmt: str) -> list[Path]:
    """Where to write labels one file each: OUT-<name><suffix> for each label, or OUT-1, OUT-2, ...
    when names repeat (two command sheets): one file never holds two labels."""
    out = Path(out)
    names = [_file_safe(label.name) for label in labels]
    if len(set(names)) < len(names):
        names = [str(n) for n in range(1, len(labels) + 1)]
    return [out.with_name(f"{out.stem}-{name}{SUFFIX[fmt]}") for name in names]


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "label"
