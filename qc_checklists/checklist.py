"""What a checklist is: its items, their kinds and severities, and its disposition rules.

Plain frozen dataclasses, built only by :mod:`qc_checklists.loader` after a
file has been checked, so code that holds a :class:`Checklist` may trust it.

Texts in a second language (``LANGUAGES``) sit beside the English ones and are
only ever *shown*: ``item.prompt_in("zh-CN")`` falls back to English for any
other language.  Ids, the English choice labels (what an answer records) and
the rules are the same in every language.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from enum import Enum
from gettext import gettext as _
from gettext import ngettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; it is translated only where a person reads it."""
    return message


def for_people(english: str, language: str | None) -> str:
    """``english`` as recorded (``language`` None), or translated for a screen (any language given)."""
    return english if language is None else _(english)


SEVERITY_WORDS = {"critical": N_("critical"), "major": N_("major"), "minor": N_("minor")}


class Kind(str, Enum):
    """How an item is answered."""

    PASS_FAIL = "pass_fail"  # one key: pass or fail
    CHOICE = "choice"  # one of up to 9 named answers, each passing or failing
    MEASUREMENT = "measurement"  # a number checked against min/max limits
    NOTE = "note"  # free text for the record; never fails
    PHOTO = "photo"  # a photo that must be taken; never fails

    @property
    def judged(self) -> bool:
        """True for kinds whose answer can fail."""
        return self in (Kind.PASS_FAIL, Kind.CHOICE, Kind.MEASUREMENT)


class Severity(str, Enum):
    """How bad a failed item is."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class Disposition(str, Enum):
    """Where an inspected item goes next, best first.

    The source of this vocabulary.  Packages that may not import qc_checklists keep a copy
    (labels.DISPOSITIONS, the store's DISPOSITIONS and its CHECK constraints);
    tests/test_dispositions.py pins each copy to this enum.
    """

    RESELLABLE = "resellable"
    DISCOUNTED = "discounted"
    SCRAPPED = "scrapped"

    @property
    def rank(self) -> int:
        """Worse dispositions rank higher (resellable 0, discounted 1, scrapped 2)."""
        return _RANK[self]


_RANK = {disposition: rank for rank, disposition in enumerate(Disposition)}  # the order declared

# The answer recorded for an optional item the inspector marks "not applicable".
NOT_APPLICABLE = "n/a"

# The languages a checklist may carry beside English (the key of their blocks in a file).
LANGUAGES = ("zh-CN",)
# How stations and locales name them ("zh_CN.UTF-8", "zh-Hans", "zh"), after language_tag's clean-up.
_ALIASES = {"zh-cn": "zh-CN", "zh": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN"}


def language_tag(language: str | None) -> str:
    """The checklist language ``language`` names ("zh_CN.UTF-8" → "zh-CN"), or "" for English / one we lack."""
    tag = (language or "").split(".")[0].split("@")[0].replace("_", "-").strip().lower()
    return _ALIASES.get(tag, "")


@dataclass(frozen=True)
class ItemText:
    """An item's words in one language: prompt, help, and the choices' labels in the order of the choices."""

    prompt: str
    help: str = ""
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """Plain data (part of the content hash)."""
        return {"prompt": self.prompt, "help": self.help, "choices": list(self.choices)}


@dataclass(frozen=True)
class Choice:
    """One answer of a choice item: its label and, when it fails, at which severity."""

    label: str
    fails_as: Severity | None = None  # None: this answer passes


@dataclass(frozen=True)
class Item:
    """One check of a checklist."""

    id: str
    kind: Kind
    prompt: str
    severity: Severity | None = None  # None only for notes and photos, which never fail
    photo_required_on_fail: bool = False
    optional: bool = False  # may be answered "n/a" (or, for notes, left empty)
    help: str = ""
    choices: tuple[Choice, ...] = ()
    unit: str = ""
    min: float | None = None
    max: float | None = None
    line: int = 0  # where it is defined, for messages
    texts: tuple[tuple[str, ItemText], ...] = ()  # (language, its words), beside the English
    tests_claim: bool = False  # this check tests what the customer says is wrong (shown first at the bench)

    def text_in(self, language: str | None) -> ItemText | None:
        """The item's words in ``language`` (see :func:`language_tag`), or None: show the English."""
        tag = language_tag(language)
        return next((text for lang, text in self.texts if lang == tag), None) if tag else None

    def prompt_in(self, language: str | None) -> str:
        """The prompt in ``language``, else in English."""
        text = self.text_in(language)
        return text.prompt if text else self.prompt

    def help_in(self, language: str | None) -> str:
        """The help text in ``language``, else in English ("" when the item has none)."""
        text = self.text_in(language)
        return text.help if text and self.help else self.help

    def choice_label_in(self, label: str, language: str | None) -> str:
        """The answer ``label`` (an English choice label, as recorded) as shown in ``language``."""
        text = self.text_in(language)
        for n, choice in enumerate(self.choices):
            if choice.label == label:
                return text.choices[n] if text and n < len(text.choices) else label
        return label

    def read_measurement(self, text: str) -> tuple[float | None, str]:
        """A typed reading as a number, or ``(None, reason)`` a person can act on."""
        cleaned = (
            text.strip().replace(",", ".").removesuffix(self.unit).strip()
            if self.unit
            else text.strip().replace(",", ".")
        )
        try:
            value = float(cleaned)
        except ValueError:
            return None, f"'{text.strip()[:20]}' is not a number — type the reading, e.g. {self.example()}"
        if not math.isfinite(value):
            return None, f"'{text.strip()[:20]}' is not a reading — type a number, e.g. {self.example()}"
        return value, ""

    def example(self) -> str:
        """A plausible reading to show in messages."""
        limits = [limit for limit in (self.min, self.max) if limit is not None]
        value = sum(limits) / len(limits) if limits else 0.0  # the middle of the range, or its one limit
        return f"{value:g}{self.unit}"

    def limits(self) -> str:
        """The limits as a person reads them: '80–100 %', '≥ 1 MΩ', '≤ 0.1 Ω'."""
        unit = f" {self.unit}" if self.unit else ""
        if self.min is not None and self.max is not None:
            return f"{self.min:g}–{self.max:g}{unit}"
        if self.min is not None:
            return f"≥ {self.min:g}{unit}"
        return f"≤ {self.max:g}{unit}"

    def as_dict(self) -> dict:
        """The item as plain data (what the content hash is computed over)."""
        data: dict = {
            "id": self.id,
            "kind": self.kind.value,
            "prompt": self.prompt,
            "severity": self.severity.value if self.severity else None,
            "photo_required_on_fail": self.photo_required_on_fail,
            "optional": self.optional,
            "help": self.help,
        }
        if self.kind == Kind.CHOICE:
            data["choices"] = [[c.label, c.fails_as.value if c.fails_as else "pass"] for c in self.choices]
        if self.kind == Kind.MEASUREMENT:
            data.update(unit=self.unit, min=self.min, max=self.max)
        if self.tests_claim:  # only then: a checklist without the flag keeps the hash it always had
            data["tests_claim"] = True
        if self.texts:  # only then: a checklist without translations keeps the hash it always had
            data["texts"] = {lang: text.as_dict() for lang, text in self.texts}
        return data


@dataclass(frozen=True)
class Rule:
    """One declarative disposition rule: when its condition holds, suggest ``then``.

    Exactly one condition: ``any_failed`` (item ids), or a count of fails at
    one severity, ``at_least`` or ``more_than`` a number.
    """

    then: Disposition
    any_failed: tuple[str, ...] = ()
    severity: Severity | None = None
    at_least: int | None = None
    more_than: int | None = None
    because: str = ""
    line: int = 0
    because_texts: tuple[tuple[str, str], ...] = ()  # (language, ``because`` in it)

    def because_in(self, language: str | None) -> str:
        """``because`` in ``language``, else in English."""
        tag = language_tag(language)
        return next((text for lang, text in self.because_texts if lang == tag), self.because) if tag else self.because

    def describe(self, language: str | None = None) -> str:
        """The condition in words: 'any critical fail', 'more than 2 minor fails' (recorded in English;
        with a ``language`` for a screen, in the language in force)."""
        severity = self.severity.value if self.severity else "?"
        if language is not None:
            shown = _(SEVERITY_WORDS.get(severity, severity))
            if self.any_failed:
                return _("failed: {items}").format(items=", ".join(self.any_failed))
            if self.at_least is not None:
                if self.at_least == 1:
                    return _("any {severity} fail").format(severity=shown)
                return _("{n} or more {severity} fails").format(n=self.at_least, severity=shown)
            more = self.more_than or 0
            return ngettext("more than {n} {severity} fail", "more than {n} {severity} fails", more).format(
                n=more, severity=shown
            )
        if self.any_failed:
            return "failed: " + ", ".join(self.any_failed)
        if self.at_least is not None:
            return f"any {severity} fail" if self.at_least == 1 else f"{self.at_least} or more {severity} fails"
        return f"more than {self.more_than} {severity} fail{'s' if self.more_than != 1 else ''}"

    def as_dict(self) -> dict:
        """The rule as plain data (part of the content hash)."""
        data: dict = {
            "then": self.then.value,
            "any_failed": list(self.any_failed),
            "severity": self.severity.value if self.severity else None,
            "at_least": self.at_least,
            "more_than": self.more_than,
            "because": self.because,
        }
        if self.because_texts:
            data["because_texts"] = dict(self.because_texts)
        return data


# Used when a checklist file has no ``rules``: the floor's standard judgement.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(Disposition.SCRAPPED, severity=Severity.CRITICAL, at_least=1),
    Rule(Disposition.DISCOUNTED, severity=Severity.MAJOR, at_least=1),
    Rule(Disposition.DISCOUNTED, severity=Severity.MINOR, more_than=2),
)


@dataclass(frozen=True)
class Checklist:
    """A validated checklist for one product category."""

    id: str
    title: str
    version: int
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    path: str = ""
    rules_are_default: bool = False
    titles: tuple[tuple[str, str], ...] = ()  # (language, the title in it)
    # the content hash of the checklist as written, for a copy whose items are only shown in another order
    written_hash: str = field(default="", compare=False, repr=False)

    def claim_first(self) -> Checklist:
        """The same checklist with the checks that test the customer's claim first (else in file order).

        Only the order shown changes: the copy keeps the content hash of the file's checklist, which is
        what an inspection records.
        """
        if not any(i.tests_claim for i in self.items):
            return self
        items = tuple(sorted(self.items, key=lambda i: not i.tests_claim))  # stable: file order within each
        return replace(self, items=items, written_hash=self.content_hash)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it carries beside English (the loader sees that every item has each)."""
        return tuple(lang for lang, _text in self.items[0].texts) if self.items else ()

    def title_in(self, language: str | None) -> str:
        """The title in ``language``, else in English."""
        tag = language_tag(language)
        return next((title for lang, title in self.titles if lang == tag), self.title) if tag else self.title

    @property
    def category(self) -> str:
        """The product category it grades (its id: one file per category)."""
        return self.id

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError if there is none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def as_dict(self) -> dict:
        """Everything that decides how an item is graded, and every word the inspector reads, as plain data."""
        data = {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "items": [i.as_dict() for i in self.items],
            "rules": [r.as_dict() for r in self.rules],
        }
        if self.titles:
            data["titles"] = dict(self.titles)
        return data

    @property
    def content_hash(self) -> str:
        """SHA-256 of the checklist's content (not of its file bytes).

        Computed over the parsed, normalised content, so re-indenting a file or
        editing a comment is not a new version, while any change to a prompt,
        a limit, a severity or a rule is.  Translations are content too: the
        inspector graded against the words on the screen, so a unit's hash must
        name them (see the README, "Checklists in two languages").
        """
        if self.written_hash:
            return self.written_hash
        canonical = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
