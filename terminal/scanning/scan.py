"""What a scan is: cleaned-up text, where it came from, and what kind of code it looks like.

Every source — a handheld scanner acting as a keyboard, a serial scanner,
the camera — hands raw text to :func:`read_scan`; the screens only ever see
:class:`Scan` objects.  Nothing here touches the database or the screen.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import Enum
from gettext import gettext as _

import biip

from sync.lpn import is_lpn
from sync.text import clean_text

# A scan longer than this is not a label anyone prints; it is a stuck key or garbage.
MAX_SCAN_LENGTH = 256
GS = "\x1d"  # GS1 group separator, kept: it ends variable-length element strings
# AIM symbology identifiers scanners may put in front: "]" + code letter + modifier.
_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# Symbology identifiers that announce GS1 data (GS1-128, DataBar, DataMatrix, QR, EAN/UPC).
_GS1_AIM = {"]C1", "]e0", "]d2", "]Q3", "]E0", "]E3", "]E4", "]J1"}

BADGE_PREFIX = "OP:"
COMMAND_PREFIX = "CMD:"
BIN_PREFIX = "BIN:"  # a bin's label: BIN:B-GRADE (put-away)
# The command barcodes of the command sheet; every screen understands the ones it needs.
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
    "PHOTO",
)


class Kind(str, Enum):
    """What a scan looks like, before any database says what it is."""

    PARCEL = "parcel"  # an RMA code, tracking number or order reference
    ITEM = "item"  # a product barcode: GTIN (EAN/UPC) or GS1 element string
    BADGE = "badge"  # an operator's badge
    COMMAND = "command"  # a command-sheet barcode
    LPN = "lpn"  # an inspected unit's license plate (sync.lpn: LP + 17 characters with a check character)
    BIN = "bin"  # a bin's label (BIN:B-GRADE); value: the bin's name in capitals
    EMPTY = "empty"
    GARBAGE = "garbage"  # too long, or nothing printable in it


@dataclass(frozen=True)
class Scan:
    """One scan, normalised.

    ``text`` is what the code says (AIM prefix removed, control and invisible
    characters other than GS removed by :func:`sync.text.clean_text` — the same
    cleaning imports get — surrounding whitespace stripped); ``value`` is the
    part that matters for its kind: the operator id of a badge, the command
    name, the GTIN of an item, the plate in capitals for a license plate, the
    bin's name in capitals for a bin label, the text itself for a parcel.
    """

    text: str
    kind: Kind
    value: str
    source: str = "keyboard"
    symbology: str = ""
    problem: str = ""  # for EMPTY and GARBAGE: one line a person can read
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived

    @property
    def shown(self) -> str:
        """The text as it is safe to show on one line of a screen."""
        shown = self.text.replace(GS, "<GS>")
        return shown if len(shown) <= 60 else shown[:57] + "..."


def read_scan(raw: str, source: str = "keyboard") -> Scan:
    """Normalise raw scanner text and say what kind of code it looks like."""
    if len(raw) > MAX_SCAN_LENGTH * 4:
        return Scan(
            raw[:40],
            Kind.GARBAGE,
            "",
            source,
            problem=_("scan of {n} characters is not a label; nothing recorded — scan again").format(n=len(raw)),
        )
    text = clean_text(raw, keep=GS).strip()
    text = text.strip(GS)
    symbology = ""
    match = _AIM.match(text)
    if match:
        symbology, text = match.group(0), text[match.end() :].strip()
    if not text:
        problem = (
            _("empty scan; nothing recorded")
            if not raw.strip()
            else _("scan held no readable characters; nothing recorded — scan again")
        )
        return Scan("", Kind.EMPTY, "", source, symbology, problem)
    if len(text) > MAX_SCAN_LENGTH:
        return Scan(
            text[:40],
            Kind.GARBAGE,
            "",
            source,
            symbology,
            problem=_("scan of {n} characters is not a label; nothing recorded — scan again").format(n=len(text)),
        )
    upper = text.upper()
    if upper.startswith(BADGE_PREFIX) and len(text) > len(BADGE_PREFIX):
        return Scan(text, Kind.BADGE, text[len(BADGE_PREFIX) :].strip(), source, symbology)
    if upper.startswith(COMMAND_PREFIX):
        return Scan(text, Kind.COMMAND, upper[len(COMMAND_PREFIX) :].strip(), source, symbology)
    if upper.startswith(BIN_PREFIX) and upper[len(BIN_PREFIX) :].strip():
        return Scan(text, Kind.BIN, " ".join(upper[len(BIN_PREFIX) :].split()), source, symbology)
    if is_lpn(text):
        return Scan(text, Kind.LPN, upper, source, symbology)
    gtin = item_gtin(text, symbology)
    if gtin:
        return Scan(text, Kind.ITEM, gtin, source, symbology)
    return Scan(text, Kind.PARCEL, text, source, symbology)


def item_gtin(text: str, symbology: str = "") -> str:
    """The GTIN a product barcode carries, or "" when the text is not one.

    Plain 8/12/13/14-digit numbers count when their check digit is right;
    GS1 element strings (from a GS1 symbology, or with a GS separator) count
    when they carry AI (01).
    """
    gs1 = symbology in _GS1_AIM or GS in text
    if not gs1 and not (text.isdigit() and len(text) in (8, 12, 13, 14)):
        return ""
    try:
        result = biip.parse(symbology + text if gs1 else text)
    except Exception:  # noqa: BLE001 - biip raises its own ParseError (and relatives) on malformed data
        return ""
    if result.gtin is not None:
        return result.gtin.value
    if result.gs1_message is not None:
        element = result.gs1_message.element_strings.get(ai="01")  # biip 5 API
        if element is not None and element.gtin is not None:
            return element.gtin.value
    return ""
