"""An item's own barcode: GTIN, and from GS1 element strings also serial, lot and expiry.

EAN-13, UPC-A, GTIN-8/14, GS1-128 and GS1 DataMatrix (with or without AIM
symbology prefix, with GS separators) and the printed form ``(01)...(21)...``
are all parsed with ``biip``, a maintained GS1 parser — check digits included.
"""

from __future__ import annotations

from dataclasses import dataclass
from gettext import gettext as _

import biip
from biip.gs1_messages import GS1Message

from terminal.scanning.scan import GS, Kind, Scan

GTIN_LENGTHS = (8, 12, 13, 14)


@dataclass(frozen=True)
class ItemCode:
    """What an item barcode says; ``gtin`` is always 14 digits, so EAN-13 and GTIN-14 compare equal."""

    scanned: str
    gtin: str
    serial: str = ""
    lot: str = ""
    expiry: str = ""  # ISO date


def same_gtin(a: str, b: str) -> bool:
    """True when two GTINs name the same article (leading zeros do not count)."""
    return bool(a and b) and a.strip().zfill(14) == b.strip().zfill(14)


def looks_like_item(scan: Scan) -> bool:
    """True when a scan should be read as an item barcode rather than an RMA or order code."""
    text = scan.text
    if scan.kind == Kind.ITEM:
        return True
    if scan.kind != Kind.PARCEL:
        return False
    return (
        (text.isdigit() and len(text) in GTIN_LENGTHS)
        or text.startswith("(0")
        or GS in text
        or (text.startswith("01") and len(text) >= 16 and text[2:16].isdigit())
    )


def read_item(scan: Scan) -> tuple[ItemCode | None, str]:
    """The item code a scan carries, or ``(None, reason)`` a person can act on."""
    text = scan.text
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text)
        elif text.isdigit() and len(text) in GTIN_LENGTHS:
            result = biip.parse(text)
            if result.gtin is None:
                return None, _("{code}: {problem} — check digit wrong: scan again").format(
                    code=text, problem=result.gtin_error or _("not a GTIN")
                )
            return ItemCode(text, result.gtin.value.zfill(14)), ""
        else:
            result = biip.parse(scan.symbology + text)
            message = result.gs1_message
            if message is None:
                return None, _("{code} is not a product barcode (no GS1 data)").format(code=scan.shown)
    except Exception as exc:  # noqa: BLE001 - biip's ParseError (and its relatives): malformed element string
        return None, _("{code} is not a readable GS1 code: {problem}").format(code=scan.shown, problem=exc)
    fields = {e.ai.ai: e for e in message.element_strings}
    gtin = fields.get("01")
    if gtin is None:
        return None, _("{code} carries no GTIN (AI 01); scan the item's own barcode").format(code=scan.shown)
    if gtin.gtin is None:
        return None, _("{problem} — scan again").format(problem=gtin.gtin_error or _("GTIN not readable"))
    expiry = fields.get("17")
    return ItemCode(
        text,
        gtin.gtin.value.zfill(14),
        serial=fields["21"].value if "21" in fields else "",
        lot=fields["10"].value if "10" in fields else "",
        expiry=expiry.date.isoformat() if expiry is not None and expiry.date else "",
    ), ""
