"""Where an inspected unit physically goes: its channel, decided by declarative routing rules.

The grade (:class:`~qc_checklists.checklist.Disposition`) says how good a unit
is; the channel says where it goes next — back to stock, to the outlet, to the
repair bench, back to the supplier, to charity, to recycling or to be
destroyed.  A rule set is read from a data file by
:mod:`qc_checklists.routing_loader`; :func:`route` is a pure function of the
rules and the unit's facts, so every bench routes the same unit the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from gettext import gettext as _

from qc_checklists.checklist import N_, Disposition


class Channel(str, Enum):
    """Where an inspected unit goes.

    The source of this vocabulary.  Packages that may not import qc_checklists keep a copy
    (the store's CHANNELS); tests/test_channels.py pins each copy to this enum.
    """

    RESTOCK = "restock"  # back to sellable stock
    B_STOCK = "b_stock"  # outlet / markdown
    REFURBISH = "refurbish"  # the repair bench, then B-stock or restock
    RETURN_TO_VENDOR = "return_to_vendor"  # a claim against the supplier
    DONATE = "donate"
    RECYCLE = "recycle"
    DESTROY = "destroy"  # unsafe or must never reach the market

    @property
    def shown(self) -> str:
        """The channel as printed and shown, in the language in force: 'B-STOCK', 'RETURN TO VENDOR'."""
        return _(CHANNEL_WORDS[self.value])

    @property
    def bin_name(self) -> str:
        """The bin of a channel the rules give none: its English name, as on the bin's label ('B-STOCK')."""
        return CHANNEL_WORDS[self.value]


CHANNEL_WORDS = {
    "restock": N_("RESTOCK"),
    "b_stock": N_("B-STOCK"),
    "refurbish": N_("REFURBISH"),
    "return_to_vendor": N_("RETURN TO VENDOR"),
    "donate": N_("DONATE"),
    "recycle": N_("RECYCLE"),
    "destroy": N_("DESTROY"),
}
GRADE_WORDS = {"resellable": N_("resellable"), "discounted": N_("discounted"), "scrapped": N_("scrapped")}


@dataclass(frozen=True)
class Facts:
    """What routing looks at for one unit."""

    grade: Disposition
    category: str = ""
    reason: str = ""  # the customer's reason (text or code) from the RMA
    failed: frozenset[str] = frozenset()  # ids of checklist items that failed
    passed: frozenset[str] = frozenset()  # ids of judged items that passed
    value: float | None = None  # the unit's value from the RMA line, when known


def normal(text: str) -> str:
    """Reason text as it is compared: case-folded, runs of white space as one space."""
    return " ".join(str(text).casefold().split())


@dataclass(frozen=True)
class RoutingRule:
    """One routing rule: when every condition it names holds, the unit goes to ``then``.

    A list names alternatives (any grade, category or reason of the list),
    except ``passed``, whose items must all have passed.  A rule with no
    condition matches every unit.
    """

    then: Channel
    grades: tuple[Disposition, ...] = ()
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # the whole reason equals one of these (a reason code)
    reason_contains: tuple[str, ...] = ()  # the reason contains one of these
    failed: tuple[str, ...] = ()  # any of these items failed
    passed: tuple[str, ...] = ()  # every one of these items passed
    value_at_least: float | None = None
    value_below: float | None = None
    bin: str = ""
    because: str = ""
    line: int = 0
    because_texts: tuple[tuple[str, str], ...] = ()  # (language, ``because`` in it): the rule's zh-CN block

    def because_in(self, language: str) -> str:
        """``because`` in ``language`` (e.g. the language in force), else as written."""
        return dict(self.because_texts).get(language, self.because)

    def matches(self, facts: Facts) -> bool:
        """True when every condition of the rule holds for the unit."""
        reason = normal(facts.reason)
        return (
            (not self.grades or facts.grade in self.grades)
            and (not self.categories or (facts.category or "").strip().lower() in self.categories)
            and (not self.reasons or reason in self.reasons)
            and (not self.reason_contains or any(part in reason for part in self.reason_contains))
            and (not self.failed or any(item in facts.failed for item in self.failed))
            and (not self.passed or all(item in facts.passed for item in self.passed))
            and (self.value_at_least is None or (facts.value is not None and facts.value >= self.value_at_least))
            and (self.value_below is None or (facts.value is not None and facts.value < self.value_below))
        )

    def describe(self) -> str:
        """The conditions in words (the reason shown when the file gives no ``because``)."""
        parts = []
        for name, values, joint in (
            (_("grade"), [_(GRADE_WORDS[g.value]) for g in self.grades], " / "),
            (_("category"), self.categories, " / "),
            (_("reason"), self.reasons, " / "),
            (_("reason contains"), self.reason_contains, " / "),
            (_("failed"), self.failed, " / "),
            (_("passed"), self.passed, " + "),
        ):
            if values:
                parts.append(f"{name} {joint.join(values)}")
        if self.value_at_least is not None:
            parts.append(_("value ≥ {value}").format(value=f"{self.value_at_least:g}"))
        if self.value_below is not None:
            parts.append(_("value < {value}").format(value=f"{self.value_below:g}"))
        return ", ".join(parts) or _("every unit")

    def as_dict(self) -> dict:
        """The rule as plain data (part of the content hash)."""
        return {
            "then": self.then.value,
            "grade": [g.value for g in self.grades],
            "category": list(self.categories),
            "reason": list(self.reasons),
            "reason_contains": list(self.reason_contains),
            "failed": list(self.failed),
            "passed": list(self.passed),
            "value_at_least": self.value_at_least,
            "value_below": self.value_below,
            "bin": self.bin,
            "because": self.because,
            **({"because_texts": dict(self.because_texts)} if self.because_texts else {}),
        }


@dataclass(frozen=True)
class Routed:
    """Where one unit goes, and why: what the screen shows and the inspection records."""

    channel: Channel
    bin: str
    because: str
    rule_line: int  # the deciding rule's line in the file; 0 for the default
    routing_id: str
    routing_hash: str


@dataclass(frozen=True)
class RoutingRules:
    """A validated routing rule set: ordered rules, a default channel, the bin of each channel."""

    id: str
    title: str
    version: int
    rules: tuple[RoutingRule, ...]
    default: Channel
    bins: tuple[tuple[Channel, str], ...] = ()
    path: str = ""

    def bin_for(self, channel: Channel) -> str:
        """The bin a channel's units go to (the file's ``bins``, or the channel's name)."""
        return dict(self.bins).get(channel) or channel.bin_name

    def as_dict(self) -> dict:
        """Everything that decides a channel, as plain data."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "rules": [r.as_dict() for r in self.rules],
            "default": self.default.value,
            "bins": {c.value: b for c, b in self.bins},
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 of the parsed, normalised content (comments and layout do not change it)."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def route(rules: RoutingRules, facts: Facts, language: str = "en") -> Routed:
    """The channel of one unit: the first rule that matches decides; none matching, the default.

    ``because`` comes in ``language`` where the rule gives it (its ``zh-CN`` block)."""
    for rule in rules.rules:
        if rule.matches(facts):
            return Routed(
                rule.then,
                rule.bin or rules.bin_for(rule.then),
                rule.because_in(language) or rule.describe(),
                rule.line,
                rules.id,
                rules.content_hash,
            )
    return Routed(
        rules.default, rules.bin_for(rules.default), _("no rule matched: the default"), 0, rules.id, rules.content_hash
    )
