"""License plate numbers (LPN): one code per inspected unit, unique across stations without coordination.

Format — 20 characters, one token, upper-case letters and digits only::

    LP 0KQ3ZX7 9M4T2B8CWE Q
    |  |       |          `- check character (Luhn mod 32 over the 17 after LP)
    |  |       `------------ 50 random bits (10 characters)
    |  `------------------ seconds since 2024-01-01 UTC (7 characters, until the year 3112)
    `--------------------- "LP": says what it is when scanned

Characters are Crockford's base 32 (``0-9`` and ``A-Z`` without ``I L O U``,
so nothing reads as another).  Why time and randomness, not a station
prefix and a counter: a station id can be any text, and a prefix cut from it
could be shared by two stations; a counter goes back when a database is
restored from last night's copy, and would print a plate twice.  Random bits
need neither: two stations would have to draw the same 50 bits in the same
second (at a sustained 100 units a second across a site: once in about 7,000
years).
The station database's UNIQUE index catches the local case and a new plate
is drawn.  Plates sort by the time they were made.  20 characters of Code 128
(code set B) are 255 modules: about 64 mm at 0.25 mm, on a label 4 in wide.
"""

from __future__ import annotations

import secrets
import time

PREFIX = "LP"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
EPOCH = 1704067200  # 2024-01-01T00:00:00Z
TIME_CHARS, RANDOM_CHARS = 7, 10
LENGTH = len(PREFIX) + TIME_CHARS + RANDOM_CHARS + 1


def _base32(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of ``body`` (catches every single wrong character and most swaps)."""
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return ALPHABET[-total % 32]


def new_lpn(now: float | None = None, random_bits: int | None = None) -> str:
    """A new license plate number (``now`` and ``random_bits`` only for tests that need a known plate)."""
    seconds = int((time.time() if now is None else now) - EPOCH)
    bits = secrets.randbits(5 * RANDOM_CHARS) if random_bits is None else random_bits
    body = _base32(max(seconds, 0), TIME_CHARS) + _base32(bits, RANDOM_CHARS)
    return PREFIX + body + check_character(body)


def is_lpn(text: str) -> bool:
    """True when ``text`` (as scanned: any case) is a well-formed license plate with a right check character."""
    code = text.strip().upper()
    return (
        len(code) == LENGTH
        and code.startswith(PREFIX)
        and all(ch in ALPHABET for ch in code[len(PREFIX) :])
        and check_character(code[len(PREFIX) : -1]) == code[-1]
    )
