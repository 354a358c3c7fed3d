"""What a label is: a page size and a few positioned elements, in millimetres.

Every label the floor prints is ONE :class:`Label` — text, Code 128 barcodes,
boxes and lines — written once in :mod:`labels.designs`.  :func:`place` turns
it into a :class:`Sheet` in printer dots for one resolution (203 or 300 dpi);
the ZPL, PNG, SVG and PDF renderers all draw that same sheet, so the four
formats cannot drift apart.

Placing is where the rules of a readable barcode live: every bar is a whole
number of printer dots (fractional module widths print unevenly and scan
badly), and each barcode keeps a quiet zone of at least 10 modules on both
sides.  Human text is cleaned to one printable line and shortened with "..."
to fit its width, measured with the font the PNG/SVG/PDF renderers use —
wider than the printer's condensed ZPL font, so what fits here fits there.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from gettext import gettext as _
from pathlib import Path

from barcode.charsets import code128
from barcode.codex import Code128
from PIL import ImageFont

DPIS = (203, 300)
QUIET_MODULES = 10
MIN_MODULE = 0.25  # mm; thinner bars (1 dot at 203 dpi) defeat ordinary scanners
MAX_BARCODE_DATA = 80
MM_PER_INCH = 25.4


class LabelError(ValueError):
    """A label cannot be made from this input; the message says why, for a person."""


# --- the layout, in millimetres ------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One line of text (or up to ``lines`` wrapped lines) whose top-left corner is at x, y."""

    x: float
    y: float
    text: str
    size: float  # character height in mm
    width: float = 0  # room to the right in mm; 0 = up to the label's right margin
    bold: bool = False
    lines: int = 1  # wrap into at most this many lines


@dataclass(frozen=True)
class Barcode:
    """A Code 128 symbol centred in a box of ``width`` mm (quiet zones included)."""

    x: float
    y: float
    data: str
    height: float
    width: float
    module: float = 0.375  # preferred narrow-bar width in mm; placing may only shrink it


@dataclass(frozen=True)
class Box:
    """A rectangle outline (``line`` thick); a box as thin as its line is a rule."""

    x: float
    y: float
    width: float
    height: float
    line: float = 0.3


@dataclass(frozen=True)
class Label:
    """One label: its kind (rma, disposition, ...), a name for people and files, size, elements."""

    kind: str
    name: str
    width: float
    height: float
    elements: tuple[Text | Barcode | Box, ...]


# --- the same label in printer dots ---------------------------------------------


@dataclass(frozen=True)
class PlacedText:
    """One line of text in dots: top-left corner, character height."""

    x: int
    y: int
    size: int
    text: str
    bold: bool


@dataclass(frozen=True)
class PlacedBarcode:
    """A Code 128 symbol in dots: ``x`` is the first bar (its quiet zone lies left of it)."""

    x: int
    y: int
    height: int
    module: int
    data: str
    codes: tuple[int, ...]  # Code 128 symbol values: start, data and shifts, checksum, stop

    @property
    def pattern(self) -> str:
        """The modules, '1' for bar and '0' for space, from start to stop."""
        return "".join(code128.CODES[c] if c != STOP else STOP_PATTERN for c in self.codes)

    @property
    def bars(self) -> list[tuple[int, int]]:
        """Each bar as (x offset in dots from ``x``, width in dots)."""
        bars, start = [], None
        pattern = self.pattern + "0"
        for i, bit in enumerate(pattern):
            if bit == "1" and start is None:
                start = i
            elif bit == "0" and start is not None:
                bars.append((start * self.module, (i - start) * self.module))
                start = None
        return bars

    @property
    def width(self) -> int:
        """Width of the bars in dots, quiet zones not included."""
        return len(self.pattern) * self.module


@dataclass(frozen=True)
class PlacedBox:
    """A rectangle outline in dots."""

    x: int
    y: int
    width: int
    height: int
    line: int


@dataclass(frozen=True)
class Sheet:
    """A label placed for one printer resolution; what every renderer draws."""

    kind: str
    name: str
    dpi: int
    width: int
    height: int
    elements: tuple[PlacedText | PlacedBarcode | PlacedBox, ...]


STOP = 106  # Code 128 stop symbol value
STOP_PATTERN = code128.STOP + "11"  # python-barcode keeps the stop's final 2-module bar apart


def dots(mm: float, dpi: int) -> int:
    """Millimetres to whole printer dots."""
    return round(mm * dpi / MM_PER_INCH)


def place(label: Label, dpi: int) -> Sheet:
    """Lay a label out in dots for a printer of ``dpi`` (203 or 300)."""
    if dpi not in DPIS:
        raise LabelError(_("printers here are {dpis} dpi, not {dpi}").format(dpis=" or ".join(map(str, DPIS)), dpi=dpi))
    width, height = dots(label.width, dpi), dots(label.height, dpi)
    placed: list = []
    for el in label.elements:
        if isinstance(el, Text):
            room = dots(el.width, dpi) if el.width else width - dots(el.x, dpi) - dots(3, dpi)
            size = max(dots(el.size, dpi), 8)
            for n, line in enumerate(fit_lines(el.text, size, room, el.bold, el.lines)):
                if not line:
                    continue
                placed.append(
                    PlacedText(dots(el.x, dpi), dots(el.y, dpi) + round(n * size * 1.15), size, line, el.bold)
                )
        elif isinstance(el, Barcode):
            placed.append(_place_barcode(el, dpi))
        elif isinstance(el, Box):
            stroke = max(1, dots(el.line, dpi))
            placed.append(
                PlacedBox(
                    dots(el.x, dpi),
                    dots(el.y, dpi),
                    max(dots(el.width, dpi), stroke),
                    max(dots(el.height, dpi), stroke),
                    stroke,
                )
            )
    return Sheet(label.kind, label.name, dpi, width, height, tuple(placed))


def _place_barcode(el: Barcode, dpi: int) -> PlacedBarcode:
    codes = code128_codes(el.data)
    modules = len(code128.CODES[0]) * (len(codes) - 1) + len(STOP_PATTERN)
    room = dots(el.width, dpi)
    # Whole dots per module: the preferred width, shrunk only as far as the room needs.
    thinnest = max(1, dots(MIN_MODULE, dpi))
    module = min(max(thinnest, dots(el.module, dpi)), room // (modules + 2 * QUIET_MODULES))
    if module < thinnest:
        raise LabelError(
            _("{data!r} is too long for a barcode on this label ({modules} modules in {width:.0f} mm)").format(
                data=el.data, modules=modules, width=el.width
            )
        )
    left = dots(el.x, dpi) + (room - modules * module) // 2
    return PlacedBarcode(left, dots(el.y, dpi), dots(el.height, dpi), module, el.data, codes)


def code128_codes(data: str) -> tuple[int, ...]:
    """The Code 128 symbol values for ``data`` (printable ASCII), checksum and stop included.

    python-barcode chooses the code sets (B for text, C for runs of digits);
    the ZPL renderer hands the printer exactly these values, so the printed
    symbol is the one measured here.
    """
    check_barcode_data(data)
    codes = list(Code128(data).encoded)
    checksum = (codes[0] + sum(i * value for i, value in enumerate(codes[1:], 1))) % 103
    return (*codes, checksum, STOP)


def check_barcode_data(data: str) -> None:
    """Refuse what a scanner could not read back as typed: only printable ASCII, 1-80 chars."""
    if not data:
        raise LabelError(_("a barcode needs some text; got nothing"))
    if len(data) > MAX_BARCODE_DATA:
        raise LabelError(
            _("{start!r}... is {count} characters; a barcode takes at most {most}").format(
                start=data[:20], count=len(data), most=MAX_BARCODE_DATA
            )
        )
    bad = next((ch for ch in data if not " " <= ch <= "~"), None)
    if bad is not None:
        raise LabelError(
            _("{data!r} cannot be a barcode: {bad!r} is not a printable ASCII character").format(data=data, bad=bad)
        )


# --- text -----------------------------------------------------------------------


_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def _vera(bold: bool) -> Path:
    import reportlab

    return Path(reportlab.__file__).parent / "fonts" / ("VeraBd.ttf" if bold else "Vera.ttf")


@functools.cache
def font_file(bold: bool) -> Path:
    """The TrueType font PNG, SVG and PDF draw with: DejaVu Sans where installed, else Vera.

    DejaVu is Vera (shipped inside reportlab) with many more scripts and the
    same Latin metrics; layout always measures with Vera, so a label is laid
    out the same on every machine and the ZPL golden files hold everywhere.
    """
    for folder in _FONT_DIRS:
        path = folder / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if path.is_file():
            return path
    return _vera(bold)


@functools.cache
def font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """The drawing font at ``size`` dots (character cell height)."""
    return ImageFont.truetype(str(font_file(bold)), size)


@functools.cache
def _measuring_font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_vera(bold)), size)


def clean_text(text: object) -> str:
    """One printable line: control characters (newlines, tabs, ESC...) become spaces."""
    text = "" if text is None else str(text)
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(cleaned.split())


def text_width(text: str, size: int, bold: bool) -> float:
    """Width of ``text`` in dots at ``size``."""
    return _measuring_font(size, bold).getlength(text)


def fit_lines(text: object, size: int, room: int, bold: bool = False, lines: int = 1) -> list[str]:
    """Wrap cleaned text into at most ``lines`` lines of ``room`` dots; the last is cut with "..."."""
    words = clean_text(text).split(" ")
    out: list[str] = []
    current = ""
    for i, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= room or not current:
            current = trial
            continue
        if len(out) + 1 == lines:
            current = " ".join([current, *words[i:]])
            break
        out.append(current)
        current = word
    out.append(current)
    out[-1] = _cut(out[-1], size, room, bold)
    return [line for line in out if line] or [""]


def _cut(line: str, size: int, room: int, bold: bool) -> str:
    if text_width(line, size, bold) <= room:
        return line
    lo, hi = 0, len(line)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(line[:mid].rstrip() + "...", size, bold) <= room:
            lo = mid
        else:
            hi = mid - 1
    return line[:lo].rstrip() + "..."
