"""PNG, SVG and PDF from the same placed sheet the ZPL comes from.

PNG is drawn at the printer's own resolution, one pixel per dot, black on
white with no grey (a thermal head has none).  SVG and PDF are vector, sized
in physical units, with the dot as their unit, so every bar keeps its whole
number of dots at any zoom.

PDF is written with reportlab rather than Pillow's PDF output: reportlab
keeps bars as vectors and text as real (searchable) text with the same
TrueType font the PNG uses, so an office printer prints sharp bars at its
own resolution instead of a scaled 203-dpi bitmap.

A line holding wide (CJK) characters is drawn run by run on one baseline:
the Latin font for the rest, the CJK font (:func:`labels.layout.cjk_font`)
for the wide characters.  The PDF embeds a subset of that TrueType font, so
its text layer carries the Chinese (copy, search, ``pdftotext``).  A line
without wide characters is drawn exactly as before.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw

from labels.layout import (
    PlacedBarcode,
    PlacedBox,
    PlacedText,
    Sheet,
    cjk_font,
    cjk_font_face,
    font,
    font_file,
    has_wide,
    text_runs,
)

# --- PNG ------------------------------------------------------------------------


def to_image(sheet: Sheet) -> Image.Image:
    """The label as a 1-bit image, one pixel per printer dot."""
    image = Image.new("1", (sheet.width, sheet.height), 1)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    for el in sheet.elements:
        if isinstance(el, PlacedText):
            _draw_text(draw, el.x, el.y, el)
        elif isinstance(el, PlacedBarcode):
            for offset, width in el.bars:
                draw.rectangle((el.x + offset, el.y, el.x + offset + width - 1, el.y + el.height - 1), fill=0)
        elif isinstance(el, PlacedBox):
            for x0, y0, x1, y1 in _box_sides(el):
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
    return image


def _run_font(size: int, bold: bool, wide: bool):
    """The font a run is drawn with: the CJK font for wide characters (when installed), else the Latin one."""
    return (cjk_font(size) or font(size, bold)) if wide else font(size, bold)


def _draw_text(draw: ImageDraw.ImageDraw, x: int, y: int, el: PlacedText) -> None:
    """One line with its top-left corner at x, y; wide runs in the CJK font on the Latin font's baseline."""
    if not has_wide(el.text):
        draw.text((x, y), el.text, font=font(el.size, el.bold), fill=0, anchor="la")
        return
    baseline = y + font(el.size, el.bold).getmetrics()[0]
    left = float(x)
    for run, wide in text_runs(el.text):
        run_font = _run_font(el.size, el.bold, wide)
        draw.text((left, baseline), run, font=run_font, fill=0, anchor="ls")
        left += run_font.getlength(run)


def text_image(el: PlacedText) -> Image.Image:
    """One line of text alone, as the PNG draws it (1-bit, black on white): what ZPL sends as a graphic."""
    ascent, descent = font(el.size, el.bold).getmetrics()
    runs = text_runs(el.text)
    width = sum(_run_font(el.size, el.bold, wide).getlength(run) for run, wide in runs)
    descent = max([descent] + [_run_font(el.size, el.bold, wide).getmetrics()[1] for _, wide in runs])
    image = Image.new("1", (int(width) + 1 + el.size // 8, ascent + descent), 1)  # + room for an overhang
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    _draw_text(draw, 0, 0, el)
    return image


def to_png(sheet: Sheet) -> bytes:
    """The label as PNG bytes (with its dpi recorded)."""
    buffer = io.BytesIO()
    to_image(sheet).save(buffer, "PNG", dpi=(sheet.dpi, sheet.dpi), optimize=False)
    return buffer.getvalue()


def _box_sides(box: PlacedBox) -> list[tuple[int, int, int, int]]:
    """A box outline as filled rectangles (x0, y0, x1, y1), right/bottom exclusive."""
    x, y, w, h, t = box.x, box.y, box.width, box.height, box.line
    if w <= 2 * t or h <= 2 * t:
        return [(x, y, x + w, y + h)]
    return [(x, y, x + w, y + t), (x, y + h - t, x + w, y + h), (x, y, x + t, y + h), (x + w - t, y, x + w, y + h)]


# --- SVG ------------------------------------------------------------------------

_SVG_FONT = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif"
# wide runs name the CJK families themselves (a <tspan>): not every SVG renderer falls back glyph by glyph
_SVG_CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "sans-serif")


def _svg_text(text: str) -> str:
    """A line's SVG text content: wide runs as <tspan>s in the CJK font, the rest as plain text."""
    if not has_wide(text):
        return escape(text)
    face = cjk_font_face()
    families = ", ".join(dict.fromkeys([*([face.family] if face else []), *_SVG_CJK_FONTS]))
    return "".join(
        f"<tspan font-family={quoteattr(families)}>{escape(run)}</tspan>" if wide else escape(run)
        for run, wide in text_runs(text)
    )


def to_svg(sheet: Sheet) -> bytes:
    """The label as an SVG document in physical size; one user unit is one printer dot."""
    mm = 25.4 / sheet.dpi
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{sheet.width * mm:.2f}mm" '
        f'height="{sheet.height * mm:.2f}mm" viewBox="0 0 {sheet.width} {sheet.height}" '
        f'shape-rendering="crispEdges">',
        f"<title>{escape(sheet.kind)} label {escape(sheet.name)}</title>",
        f'<rect width="{sheet.width}" height="{sheet.height}" fill="#fff"/>',
        '<g fill="#000">',
    ]
    for el in sheet.elements:
        if isinstance(el, PlacedText):
            ascent = font(el.size, el.bold).getmetrics()[0]
            weight = ' font-weight="bold"' if el.bold else ""
            parts.append(
                f'<text x="{el.x}" y="{el.y + ascent}" font-size="{el.size}" '
                f"font-family={quoteattr(_SVG_FONT)}{weight}>{_svg_text(el.text)}</text>"
            )
        elif isinstance(el, PlacedBarcode):
            rects = "".join(f'<rect x="{el.x + o}" y="{el.y}" width="{w}" height="{el.height}"/>' for o, w in el.bars)
            parts.append(f"<g>{rects}</g>")
        elif isinstance(el, PlacedBox):
            parts.extend(
                f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/>' for x0, y0, x1, y1 in _box_sides(el)
            )
    parts += ["</g>", "</svg>", ""]
    return "\n".join(parts).encode("utf-8")


# --- PDF ------------------------------------------------------------------------

_PDF_FONTS: dict[bool, str] = {}


def _pdf_font(bold: bool) -> str:
    """Register the label font with reportlab once; returns its name."""
    if bold not in _PDF_FONTS:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        name = "LabelSans-Bold" if bold else "LabelSans"
        pdfmetrics.registerFont(TTFont(name, str(font_file(bold))))
        _PDF_FONTS[bold] = name
    return _PDF_FONTS[bold]


def _pdf_cjk_font() -> str | None:
    """Register the CJK font (one face of its file) with reportlab once; None when none is installed."""
    face = cjk_font_face()
    if face is None:
        return None
    if "cjk" not in _PDF_CJK:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        # reportlab embeds only the glyphs used (a subset) with a ToUnicode map: the text layer reads as Chinese
        pdfmetrics.registerFont(TTFont("LabelCJK", str(face.path), subfontIndex=face.index))
        _PDF_CJK["cjk"] = "LabelCJK"
    return _PDF_CJK["cjk"]


_PDF_CJK: dict[str, str] = {}


def to_pdf(sheets: Iterable[Sheet]) -> bytes:
    """Labels as one PDF, one page per label, each page the label's physical size."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1, pageCompression=1)
    pdf.setTitle("RMA Station labels")
    count = 0
    for sheet in sheets:
        count += 1
        k = 72 / sheet.dpi  # points per dot
        page_h = sheet.height * k
        pdf.setPageSize((sheet.width * k, page_h))
        pdf.setFillColorRGB(0, 0, 0)
        for el in sheet.elements:
            if isinstance(el, PlacedText):
                ascent = font(el.size, el.bold).getmetrics()[0]
                if not has_wide(el.text):
                    pdf.setFont(_pdf_font(el.bold), el.size * k)
                    pdf.drawString(el.x * k, page_h - (el.y + ascent) * k, el.text)
                    continue
                left = el.x * k
                for run, wide in text_runs(el.text):
                    name = (_pdf_cjk_font() or _pdf_font(el.bold)) if wide else _pdf_font(el.bold)
                    pdf.setFont(name, el.size * k)
                    pdf.drawString(left, page_h - (el.y + ascent) * k, run)
                    left += pdf.stringWidth(run, name, el.size * k)
            elif isinstance(el, PlacedBarcode):
                for offset, width in el.bars:
                    pdf.rect(
                        (el.x + offset) * k, page_h - (el.y + el.height) * k, width * k, el.height * k, stroke=0, fill=1
                    )
            elif isinstance(el, PlacedBox):
                for x0, y0, x1, y1 in _box_sides(el):
                    pdf.rect(x0 * k, page_h - y1 * k, (x1 - x0) * k, (y1 - y0) * k, stroke=0, fill=1)
        pdf.showPage()
    if not count:
        raise ValueError("no labels to put in a PDF")
    pdf.save()
    return buffer.getvalue()
