"""ZPL II for thermal printers, with every variable field made harmless.

Customer names, reasons and notes come from outside.  A name like
``ACME^FS^XZ^XA^FDFAKE`` must not end the field and start a second label, and
a ``~`` must never reach the printer as a control command.  So every field is
sent as UTF-8 under ``^CI28`` and written through ``^FH``: each byte that is
not plain printable ASCII, and each of ``^ ~ _ \\``, goes as ``_XX`` hex.  The
output is pure ASCII in which ``^`` and ``~`` appear only as our own commands.

Barcodes are ``^BC`` in mode N with the exact Code 128 values the layout
measured (start code, B/C shifts written as invocation codes ``>:``, ``>;``,
``>5``, ``>6``), so the printer draws the very symbol the PNG shows, bar for
bar; ``^BY`` gives the module width in whole dots.

Text a stock printer cannot draw.  A stock Zebra printer's scalable font 0
(``^A0``, CG Triumvirate) holds the Latin characters of Zebra's code pages:
under ``^CI28`` we count on it for exactly the characters of Windows-1252
(what ``^CI27`` selects: ASCII, Western European accents, €, „ “ ” – — …)
and nothing else — no Chinese, and no Ł, Ő, Cyrillic or Greek either.  A
line with any other character is sent as a graphic field, ``^GFA`` with Z64
data (zlib, Base64, CRC-16/XMODEM of the Base64 text): the line exactly as
the PNG label draws it, with the same fonts (the CJK one for Chinese), one
field per line.  A Windows-1252 line stays printer text, so a Latin label is
the ZPL it always was.  When the printer holds a CJK TrueType font of its
own (``zpl_cjk_font = "E:SIMSUN.TTF"`` in ``station.toml``), such a line is
sent as text in that font instead (``^A@`` naming the font in the field
itself, so no ``^CW`` font letter is left reassigned on the printer).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterable

from labels.layout import LabelError, PlacedBarcode, PlacedBox, PlacedText, Sheet

_SAFE = frozenset(range(0x20, 0x7F)) - {ord(c) for c in "^~_\\"}
# Code 128 start and code-set switch values -> ZPL invocation codes (mode N).
_START = {103: ">9", 104: ">:", 105: ">;"}
_SWITCH = {"B": {99: ">5", 101: ">7"}, "C": {100: ">6", 101: ">7"}}


def field_data(text: str) -> str:
    """Text as ``^FH`` field data: UTF-8, hex-escaping ``^ ~ _ \\`` and every non-printable byte."""
    return "".join(chr(b) if b in _SAFE else f"_{b:02X}" for b in text.encode("utf-8"))


def barcode_data(codes: tuple[int, ...]) -> str:
    """Code 128 values (start, data, shifts; no checksum/stop) as ``^BC`` mode-N field data."""
    out = [_START[codes[0]]]
    code_set = {103: "A", 104: "B", 105: "C"}[codes[0]]
    for value in codes[1:]:
        if value in _SWITCH.get(code_set, {}):
            out.append(_SWITCH[code_set][value])
            code_set = {99: "C", 100: "B", 101: "A"}[value]
        elif code_set == "C":
            out.append(f"{value:02d}")
        elif code_set == "B" and value < 95:
            char = chr(value + 32)
            # '>' starts an invocation code in mode N; ">0" is the plain '>'.
            out.append(">0" if char == ">" else field_data(char))
        else:
            raise ValueError(f"Code 128 value {value} in set {code_set} has no ZPL form here")
    return "".join(out)


# A printer font: a drive (R: RAM, E: flash, B: card, A: USB), a name of 1-8 characters, a font extension.
PRINTER_FONT = re.compile(r"[REBA]:[A-Z0-9_-]{1,8}\.(TTF|TTE|FNT)", re.IGNORECASE)


def printer_draws(text: str) -> bool:
    """True when a stock printer's font 0 under ``^CI28`` draws every character of ``text`` (Windows-1252)."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def check_printer_font(name: str) -> str:
    """A printer-resident font name (``E:SIMSUN.TTF``) as given, or :class:`LabelError` saying what it must be."""
    if not PRINTER_FONT.fullmatch(name):
        raise LabelError(
            f"{name!r} is not a printer font: write a drive, a name of up to 8 letters or digits and .TTF, .TTE "
            "or .FNT, e.g. E:SIMSUN.TTF"
        )
    return name


def graphic_field(el: PlacedText) -> str:
    """A line of text as the PNG draws it, as a ``^GFA`` graphic field with Z64 data."""
    from PIL import Image

    from labels.pictures import text_image

    line = text_image(el)
    row = (line.width + 7) // 8
    image = Image.new("1", (row * 8, line.height), 1)  # whole bytes a row: the padding bits stay white
    image.paste(line, (0, 0))
    ink = bytes(b ^ 0xFF for b in image.tobytes())  # Pillow's 1-bit: 1 is white; ZPL's: 1 is a black dot
    encoded = base64.b64encode(zlib.compress(ink, 9))
    crc = binascii.crc_hqx(encoded, 0)  # CRC-16/XMODEM over the Base64 text, as ZB64 defines it
    return f"^GFA,{len(ink)},{len(ink)},{row},:Z64:{encoded.decode('ascii')}:{crc:04X}"


def sheet_to_zpl(sheet: Sheet, cjk_font: str = "") -> str:
    """One label as one ``^XA ... ^XZ`` format; ``cjk_font`` names a CJK font the printer holds, if any."""
    if cjk_font:
        check_printer_font(cjk_font)
    out = ["^XA", "^CI28", f"^PW{sheet.width}", f"^LL{sheet.height}", "^LH0,0"]
    for el in sheet.elements:
        if isinstance(el, PlacedText) and not printer_draws(el.text):
            if cjk_font:
                out.append(f"^FO{el.x},{el.y}^A@N,{el.size},{el.size},{cjk_font}^FH^FD{field_data(el.text)}^FS")
            else:
                out.append(f"^FO{el.x},{el.y}{graphic_field(el)}^FS")
        elif isinstance(el, PlacedText):
            font = f"^A0N,{el.size},{el.size}" if el.bold else f"^A0N,{el.size},{round(el.size * 0.85)}"
            out.append(f"^FO{el.x},{el.y}{font}^FH^FD{field_data(el.text)}^FS")
        elif isinstance(el, PlacedBarcode):
            data = barcode_data(el.codes[:-2])  # the printer adds checksum and stop itself
            out.append(f"^FO{el.x},{el.y}^BY{el.module}^BCN,{el.height},N,N,N,N^FH^FD{data}^FS")
        elif isinstance(el, PlacedBox):
            out.append(f"^FO{el.x},{el.y}^GB{el.width},{el.height},{el.line}^FS")
    out.append("^XZ")
    return "\n".join(out) + "\n"


def to_zpl(sheets: Iterable[Sheet], cjk_font: str = "") -> bytes:
    """Labels as one ZPL document (ASCII bytes), one format per label."""
    return "".join(sheet_to_zpl(s, cjk_font) for s in sheets).encode("ascii")
