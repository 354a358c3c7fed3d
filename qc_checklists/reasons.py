"""The return-reason vocabulary: what customers write (Chinese or English) → one reason code.

ONE table, :data:`REASONS`: each code with the phrases that mean it, Chinese
and English.  An import keeps the customer's own text and adds its code
(:func:`reason_code`), so reports can group "尺码偏小", "too small" and
"Too small." together while the customer's words stay on record.  A text
the table does not know gets no code ("") — a report shows it unclassified,
with its text, rather than guessing; a phrase added here later classifies it.

Matching is exact after normalising what people vary without meaning to:
case, full-width letters (NFKC), spaces, and punctuation at either end
("尺码偏小。", " Too Small! ").  It never looks for a phrase *inside* a longer
text: "尺码偏小但是也有质量问题" names two reasons and is left to a person.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One reason code, its phrases in Chinese (``zh``) and in English (``en``), the usual one first."""

    code: str
    zh: tuple[str, ...]
    en: tuple[str, ...]


REASONS: tuple[Reason, ...] = (
    Reason("size_too_small", ("尺码偏小", "尺码小了", "偏小", "太小"), ("too small", "size too small", "runs small")),
    Reason("size_too_large", ("尺码偏大", "尺码大了", "偏大", "太大"), ("too large", "too big", "size too large")),
    Reason(
        "wrong_size",
        ("尺码不合适", "尺码不对", "不合身"),
        ("wrong size", "does not fit", "doesn't fit", "did not fit"),
    ),
    Reason(
        "defective",
        ("质量问题", "有质量问题", "商品损坏", "坏了", "有瑕疵"),
        ("defective", "faulty", "broken", "does not work", "doesn't work", "quality issue"),
    ),
    Reason(
        "not_as_described",
        ("与描述不符", "描述不符", "货不对板", "与图片不符"),
        ("not as described", "not as pictured", "different from description"),
    ),
    Reason(
        "damaged_in_transit",
        ("运输损坏", "快递损坏", "物流损坏", "包装破损"),
        ("damaged in transit", "damaged in shipping", "arrived damaged", "damaged on arrival"),
    ),
    Reason(
        "changed_mind",
        ("不想要了", "不喜欢", "七天无理由", "七天无理由退货", "拍错了", "买错了"),
        ("changed mind", "changed my mind", "no longer needed", "no longer wanted", "ordered by mistake"),
    ),
    Reason(
        "wrong_item",
        ("发错货", "发错了", "商品发错", "收到的商品不对"),
        ("wrong item", "wrong item sent", "wrong product", "received wrong item"),
    ),
    Reason(
        "late_delivery", ("发货太慢", "物流太慢", "到货太晚"), ("late delivery", "arrived late", "arrived too late")
    ),
)

# what people put around a reason without changing it (full-width commas and brackets are ASCII after NFKC)
_ENDS = " \t.,;:!?'\"。、…·-—()[]【】"


def _key(text: str) -> str:
    """The form phrases are compared in: NFKC, case-folded, no spaces or underscores, no punctuation at the ends."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip(_ENDS)
    return "".join(folded.replace("_", " ").split())


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for reason in REASONS:
        for phrase in (reason.code, *reason.zh, *reason.en):
            key = _key(phrase)
            if table.setdefault(key, reason.code) != reason.code:  # a phrase may name one reason only
                raise ValueError(f"reason phrase {phrase!r} is in both {table[key]} and {reason.code}")
    return table


_BY_PHRASE = _table()


def reason_code(text: str | None) -> str:
    """The reason code the customer's ``text`` names (``"尺码偏小"`` → ``"size_too_small"``), or "" if none."""
    return _BY_PHRASE.get(_key(text or ""), "")


def reason_codes() -> tuple[str, ...]:
    """Every reason code, in the table's order."""
    return tuple(reason.code for reason in REASONS)
