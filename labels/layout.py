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

Chinese (and Japanese, Korean) text: every *wide* character — East Asian
width W or F in Unicode (ideographs, kana, hangul, CJK and full-width
punctuation such as "：") — is measured and drawn with a CJK font
found through fontconfig (``fc-list :lang=zh-cn``; ``./dev`` installs
WenQuanYi Micro Hei, ``fonts-wqy-microhei``), everything else with the Latin
font as before, so a Latin-only label is laid out exactly as it always was.
A line may break between two wide characters (Chinese has no spaces).  The
CJK font has one weight, so bold Chinese prints in its regular weight; and
Chinese is measured with whichever CJK font the machine has (Latin text
always with Vera), which is why the Chinese label tests read the text back
rather than compare it with golden files.  Without a CJK font the wide characters fall back to the Latin font (empty
boxes), the rest of the label prints as usual, and :func:`font_problem` says
so in one line.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
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


# --- wide (CJK) characters and their font ------------------------------------------

# The CJK font every station gets from ./dev (Debian's fonts-wqy-microhei): preferred when several
# are installed, so labels look the same on every bench.  Any other TrueType CJK font will do.
PREFERRED_CJK_FAMILY = "WenQuanYi Micro Hei"
_CJK_SAMPLE = "中文张伟尺码偏小"  # a font for labels must have at least these
# Where fonts live when fontconfig (fc-list) is not installed: the XDG data folders' fonts/.
_DATA_DIRS = ("~/.local/share", "/usr/local/share", "/usr/share")


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a .ttc holds several): what Pillow and reportlab open."""

    path: Path
    index: int
    family: str


def is_wide(ch: str) -> bool:
    """True for a character drawn with the CJK font: East Asian width W (wide) or F (full-width)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def has_wide(text: str) -> bool:
    """True when ``text`` holds a character the CJK font draws."""
    return any(is_wide(ch) for ch in text)


def text_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` as runs of (characters, wide?): the Latin font draws one kind, the CJK font the other."""
    runs: list[tuple[str, bool]] = []
    for ch in text:
        wide = is_wide(ch)
        if runs and runs[-1][1] == wide:
            runs[-1] = (runs[-1][0] + ch, wide)
        else:
            runs.append((ch, wide))
    return runs


def _fontconfig_faces() -> list[FontFace] | None:
    """The TrueType faces fontconfig lists for Simplified Chinese; None when fc-list is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        done = subprocess.run(
            [fc_list, ":lang=zh-cn", "--format", "%{file}\t%{index}\t%{fontformat}\t%{family[0]}\n"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    faces = []
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        # reportlab embeds TrueType (glyf) outlines only; a CFF-based OpenType font (Noto CJK) it cannot
        if len(parts) == 4 and parts[2] == "TrueType" and parts[1].isdigit():
            faces.append(FontFace(Path(parts[0]), int(parts[1]), parts[3]))
    return faces


def _font_dir_faces() -> list[FontFace]:
    """Every .ttf/.ttc in the standard font folders (the first face of each), for machines without fontconfig."""
    folders = [Path(os.path.expanduser(d)) / "fonts" for d in _DATA_DIRS] + [Path("~/.fonts").expanduser()]
    faces = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in (".ttf", ".ttc") and path.is_file():
                    faces.append(FontFace(path, 0, path.stem))
    return faces


def _has_cjk_glyphs(face: FontFace) -> bool:
    """True when reportlab can embed the face and it has glyphs for the sample Chinese."""
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        glyphs = TTFont("probe", str(face.path), subfontIndex=face.index).face.charToGlyph
    except (TTFError, OSError, ValueError, KeyError, IndexError, AssertionError):
        return False
    return all(ord(ch) in glyphs for ch in _CJK_SAMPLE)


@functools.cache
def cjk_font_face() -> FontFace | None:
    """The CJK font for wide characters, found through fontconfig (or the standard font folders); None if none."""
    faces = _fontconfig_faces()
    checked = faces is not None  # fontconfig has checked the faces it lists cover Simplified Chinese
    if faces is None:
        faces = _font_dir_faces()
    # the font ./dev installs first, then proportional before monospaced faces; otherwise fontconfig's order
    faces.sort(key=lambda f: (f.family != PREFERRED_CJK_FAMILY, "mono" in f.family.lower()))
    return next((face for face in faces if face.path.is_file() and (checked or _has_cjk_glyphs(face))), None)


def font_problem(texts: Iterable[str]) -> str:
    """One line for a person when some text holds Chinese and no CJK font is installed, else ""."""
    if not any(has_wide(t) for t in texts) or cjk_font_face() is not None:
        return ""
    return _(
        "no Chinese font is installed: Chinese text on this label prints as empty boxes (the rest and the barcodes "
        "print as usual); install one with ./dev setup (or apt-get install fonts-wqy-microhei)"
    )


@functools.cache
def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    """The CJK font at ``size`` dots, or None when none is installed (wide characters then use the Latin font)."""
    face = cjk_font_face()
    return None if face is None else ImageFont.truetype(str(face.path), size, index=face.index)


def clean_text(text: object) -> str:
    """One printable line: control characters (newlines, tabs, ESC...) become spaces."""
    text = "" if text is None else str(text)
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(cleaned.split())


def text_width(text: str, size: int, bold: bool) -> float:
    """Width of ``text`` in dots at ``size`` (wide characters measured with the CJK font, if installed)."""
    if not has_wide(text):
        return _measuring_font(size, bold).getlength(text)
    wide_font = cjk_font(size)
    return sum(
        ((wide_font or _measuring_font(size, bold)) if wide else _measuring_font(size, bold)).getlength(run)
        for run, wide in text_runs(text)
    )


def _words(text: str) -> list[tuple[str, str]]:
    """Text as (separator, word) pieces a line may break before: at spaces, and around each wide character."""
    pieces: list[tuple[str, str]] = []
    for n, word in enumerate(text.split(" ")):
        sep = " " if n else ""
        if not has_wide(word):
            pieces.append((sep, word))
            continue
        for run, wide in text_runs(word):
            for part in run if wide else [run]:
                pieces.append((sep, part))
                sep = ""
    return pieces


def fit_lines(text: object, size: int, room: int, bold: bool = False, lines: int = 1) -> list[str]:
    """Wrap cleaned text into at most ``lines`` lines of ``room`` dots; the last is cut with "..."."""
    words = _words(clean_text(text))
    out: list[str] = []
    current = ""
    for i, (sep, word) in enumerate(words):
        trial = f"{current}{sep}{word}" if current else word
        if text_width(trial, size, bold) <= room or not current:
            current = trial
            continue
        if len(out) + 1 == lines:
            current = current + "".join(s + w for s, w in words[i:])
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
