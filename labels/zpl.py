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
"""

from __future__ import annotations

from collections.abc import Iterable

from labels.layout import PlacedBarcode, PlacedBox, PlacedText, Sheet

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


def sheet_to_zpl(sheet: Sheet) -> str:
    """One label as one ``^XA ... ^XZ`` format."""
    out = ["^XA", "^CI28", f"^PW{sheet.width}", f"^LL{sheet.height}", "^LH0,0"]
    for el in sheet.elements:
        if isinstance(el, PlacedText):
            font = f"^A0N,{el.size},{el.size}" if el.bold else f"^A0N,{el.size},{round(el.size * 0.85)}"
            out.append(f"^FO{el.x},{el.y}{font}^FH^FD{field_data(el.text)}^FS")
        elif isinstance(el, PlacedBarcode):
            data = barcode_data(el.codes[:-2])  # the printer adds checksum and stop itself
            out.append(f"^FO{el.x},{el.y}^BY{el.module}^BCN,{el.height},N,N,N,N^FH^FD{data}^FS")
        elif isinstance(el, PlacedBox):
            out.append(f"^FO{el.x},{el.y}^GB{el.width},{el.height},{el.line}^FS")
    out.append("^XZ")
    return "\n".join(out) + "\n"


def to_zpl(sheets: Iterable[Sheet]) -> bytes:
    """Labels as one ZPL document (ASCII bytes), one format per label."""
    return "".join(sheet_to_zpl(s) for s in sheets).encode("ascii")
