"""Carriers' tracking numbers as their waybill barcodes carry them: the one table receiving reads.

Most carriers' barcodes are matched without knowing the carrier: the tracking
number is the scan's rightmost characters, behind any routing data the carrier
prints in front (USPS's "420" + ZIP, see ``sync.store.find_rma``).  This table
is for what that rule cannot see — the Chinese carriers, from their public
number formats:

* a waybill barcode that holds more than the number: JD Logistics prints each
  parcel of a waybill as ``<waybill>-<parcel>-<parcels>-`` (JDVA11408814483-1-1-);
* a check digit to catch a misread: the UPU S10 numbers of China Post and EMS
  (2 letters, 8 digits, a mod-11 check digit, "CN");
* all-digit numbers of 12 to 15 digits (ZTO, STO, Yunda, China Post) that look
  like product barcodes: a scan in a carrier's format is a parcel at receiving,
  not a misread EAN (a valid EAN-8/UPC-A/EAN-13 stays a product code; a
  14-digit carrier number is never taken for a GTIN-14 case code).

Sources for the formats: the carriers' published waybill numbers as collected
by public validators (e.g. BF-zh/Courier-Validation) and the UPU S10 standard.
A number that fits no format here still matches an imported tracking number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from gettext import gettext as _

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number (weights 8 6 4 2 3 5 9 7, mod 11)."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def s10_ok(number: str) -> bool:
    """Whether an S10 number (e.g. EA123456785CN) carries the right check digit."""
    return s10_check_digit(number[2:10]) == int(number[10])


@dataclass(frozen=True)
class Carrier:
    """One carrier's number format: ``number`` is a regular expression of the whole tracking number.

    ``suffix`` is what its waybill barcode may carry after the number (a regular
    expression; the number is what comes before); ``check`` says whether a
    number has the right check digit, for a format that has one.
    """

    name: str
    number: str
    suffix: str = ""
    check: Callable[[str], bool] | None = None

    @cached_property
    def _barcode(self) -> re.Pattern[str]:
        return re.compile(f"(?P<number>{self.number})(?:{self.suffix})?")

    def read(self, compact: str) -> str | None:
        """The tracking number a waybill barcode's text (upper case, no spaces) holds, or None if not this format."""
        match = self._barcode.fullmatch(compact)
        if match is None and "-" in compact:  # a number typed in groups: SF-1023-5744-7021-5
            match = self._barcode.fullmatch(compact.replace("-", ""))
        return match["number"] if match else None


CARRIERS: tuple[Carrier, ...] = (
    # SF Express 顺丰: "SF" + 13 digits (SF1023574470215)
    Carrier("SF Express", r"SF\d{13}"),
    # JD Logistics 京东: "JD" + 2 letters/digits + 11 digits (JDVA11408814483, JDX + 12 digits); each parcel's
    # barcode adds "-<parcel>-<parcels>-" (JDVA11408814483-1-2-)
    Carrier("JD Logistics", r"JD[A-Z0-9]{2}\d{11}", suffix=r"-\d{1,4}-\d{1,4}-?"),
    # YTO Express 圆通: "YT" + 13 digits
    Carrier("YTO Express", r"YT\d{13}"),
    # J&T Express 极兔: "JT" + 13 digits (JT3002232682242)
    Carrier("J&T Express", r"JT\d{13}"),
    # China Post / EMS 中国邮政: UPU S10 — 2 letters, 8 digits, mod-11 check digit, "CN" (EA123456785CN)
    Carrier("China Post / EMS", r"[A-Z]{2}\d{9}CN", check=s10_ok),
    # China Post / EMS domestic: 13 digits — EMS 10/11/50/51…, parcels 95–99…
    Carrier("China Post / EMS", r"(?:1[0-2]|5[0-2]|9[5-9])\d{11}"),
    # ZTO Express 中通: 14 digits from 73–76 or 78 (75312345678901); older 12-digit numbers
    Carrier("ZTO Express", r"7[3-68]\d{12}"),
    Carrier("ZTO Express", r"(?:2[1-9]|3[679]|5[0346]|6[348]|72|9[1-58])\d{10}"),
    # STO Express 申通: 14 or 15 digits from 77 (773165231258961); older 12–13 digits from x68 / 88
    Carrier("STO Express", r"77\d{12,13}"),
    Carrier("STO Express", r"(?:[2-9]68|888)\d{9,10}"),
    # Yunda 韵达: 15 digits from 3 or 4 (462598779470531); older 13 digits from 5
    Carrier("Yunda", r"[34]\d{14}"),
    Carrier("Yunda", r"5\d{12}"),
)


@dataclass(frozen=True)
class Waybill:
    """A scan read as a carrier's waybill barcode: the carrier, its tracking number, the check digit's verdict."""

    carrier: Carrier
    number: str
    check_ok: bool = True

    @property
    def problem(self) -> str:
        """Why the scan is a misread (a wrong check digit), or ""."""
        if self.check_ok:
            return ""
        return _("{number}: {carrier} check digit wrong — scan again. Nothing recorded.").format(
            number=self.number, carrier=self.carrier.name
        )


def waybill(text: str) -> Waybill | None:
    """The carrier and tracking number a scanned waybill barcode holds, or None when it fits no format here."""
    compact = re.sub(r"\s+", "", text).upper()
    for carrier in CARRIERS:
        number = carrier.read(compact)
        if number is not None:
            return Waybill(carrier, number, carrier.check(number) if carrier.check else True)
    return None
