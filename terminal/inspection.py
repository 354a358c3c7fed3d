"""One item being inspected at the bench: answers, photos, cursor, suggestion.

No Textual here: the inspect screen drives a :class:`Draft` and shows it; the
tests can drive it too.  The judgement itself is ``qc_checklists.suggest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from gettext import gettext as _
from gettext import ngettext

from qc_checklists import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    AnswerError,
    Channel,
    Checklist,
    Disposition,
    Facts,
    Item,
    Kind,
    Routed,
    RoutingRules,
    Suggestion,
    judge,
    route,
    suggest,
)
from qc_checklists.checklist import language_tag
from sync.clock import utc_now
from sync.store import EXCEPTIONS_BIN, EXCEPTIONS_CHANNEL, NOT_RECEIVED, Inspection, Line, Rma, Unit
from terminal import i18n
from terminal.i18n import N_
from terminal.i18n.cells import cut as cut_to
from terminal.i18n.cells import width as cells
from terminal.photos import Photo
from terminal.scanning.item import ItemCode

# What the inspector does with each disposition (shown after saving; N_: translated where shown).
NEXT_STEP = {
    Disposition.RESELLABLE: N_("Put it in the RESTOCK bin."),
    Disposition.DISCOUNTED: N_("Put it in the B-GRADE (markdown) bin."),
    Disposition.SCRAPPED: N_("Put it in the SCRAP / CLAIMS bin."),
}
# The override reasons are recorded in English (the reports group by them) and shown translated.
OTHER = N_("Other (describe)")
# Why an inspector grades worse than the rules suggest ...
STRICTER_REASONS = (
    N_("Defect worse than the checklist captures"),
    N_("Defect not covered by the checklist"),
    N_("Not safe or hygienic to resell"),
    N_("Supervisor decision"),
    OTHER,
)
# ... and why better: the checklist judged something that does not hold for this unit.
MILDER_REASONS = (
    N_("Checklist too strict for this product"),
    N_("Defect fixed at the bench (cleaned, re-packed)"),
    N_("Missing part found or replaced"),
    N_("Supervisor decision"),
    OTHER,
)
# The dispositions as a person reads them, upper case on the banner (marked here, translated when shown).
DISPOSITIONS = {
    Disposition.RESELLABLE: (N_("resellable"), N_("RESELLABLE")),
    Disposition.DISCOUNTED: (N_("discounted"), N_("DISCOUNTED")),
    Disposition.SCRAPPED: (N_("scrapped"), N_("SCRAPPED")),
}

# Whether the customer's stated reason held, in the order the Y key steps through them: as recorded
# (the server's reports group by these; "" is not recorded) and as shown (translated where drawn).
CLAIM_STATES = ("", "yes", "no", "unclear")
CLAIM_WORDS = {"": N_("not recorded"), "yes": N_("confirmed"), "no": N_("not confirmed"), "unclear": N_("can't tell")}


def shown(disposition: Disposition | str, *, upper: bool = False) -> str:
    """A disposition in the language in force ("RESELLABLE" / "可再售")."""
    if disposition == NOT_RECEIVED:  # a unit closed as never received (sync/store/exceptions.py)
        return _("NOT RECEIVED") if upper else _("not received")
    names = DISPOSITIONS.get(Disposition(disposition))
    if names is None:
        return str(disposition).upper() if upper else str(disposition)
    return _(names[1] if upper else names[0])


def channel_shown(channel: str) -> str:
    """A unit's channel as printed: 'B-STOCK', 'EXCEPTIONS' (an undeclared item's), '-' for none."""
    if channel == EXCEPTIONS_CHANNEL:
        return EXCEPTIONS_BIN
    return Channel(channel).shown if channel else "-"


def describe_unit(unit: Unit) -> str:
    """An inspected unit found by its license plate, as the inspect and receive screens show it (two lines)."""
    return (
        _("{lpn}: {rma} line {line} unit {unit} · {sku} · grade {grade} · channel {channel} · bin {bin}").format(
            lpn=unit.lpn,
            rma=unit.rma_code,
            line=unit.line_no,
            unit=unit.unit_no,
            sku=unit.description or unit.sku,
            grade=unit.grade.upper(),
            channel=channel_shown(unit.channel),
            bin=unit.bin or "-",
        )
        + "\n"
        + _("Inspected at {station}, {when} UTC. Nothing recorded.").format(
            station=unit.station, when=unit.inspected_at[:16].replace("T", " ")
        )
    )


def override_reasons(suggested: Disposition, final: Disposition) -> tuple[str, ...]:
    """The reasons that fit an override from ``suggested`` to ``final`` (worse or better)."""
    return STRICTER_REASONS if final.rank > suggested.rank else MILDER_REASONS


@dataclass
class Draft:
    """The inspection of one unit, until it is saved."""

    rma: Rma
    line: Line
    checklist: Checklist
    code: ItemCode
    started_at: str = field(default_factory=utc_now)
    answers: dict[str, object] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)
    cursor: int | None = 0
    matched_by: str = "gtin"  # "gtin", "sku" (its SKU barcode was scanned) or "hand" (the line picked by hand)
    routing: RoutingRules | None = None  # the rules that decide the unit's channel (None: no channel)
    channel_choice: tuple[Channel, str] | None = None  # the inspector's own channel, and why
    language: str = ""  # the checklist's texts are shown in it (English when "" or a language it lacks)
    reason_confirmed: str = ""  # the inspector's finding on the customer's reason: one of CLAIM_STATES

    def __post_init__(self) -> None:
        self.checklist = self.checklist.claim_first()  # the checks that test the customer's claim come first
        self.cursor = self._next_open(-1)

    # -- the customer's claim -------------------------------------------------

    def next_claim(self) -> str:
        """Y: step the finding on the customer's reason on (not recorded → confirmed → not → can't tell → ...)."""
        self.reason_confirmed = CLAIM_STATES[(CLAIM_STATES.index(self.reason_confirmed) + 1) % len(CLAIM_STATES)]
        return self.reason_confirmed

    def claim_line(self) -> str:
        """What the screen says about the customer's reason: "Y reason: confirmed"."""
        return _("Y reason: {state}").format(state=_(CLAIM_WORDS[self.reason_confirmed]))

    @property
    def current(self) -> Item | None:
        """The item the cursor is on (None when everything required is answered)."""
        return self.checklist.items[self.cursor] if self.cursor is not None else None

    # -- answering ------------------------------------------------------------

    def answer(self, value: object) -> str:
        """Answer the current item; "" or why the answer does not fit.  Moves to the next open item."""
        item = self.current
        if item is None:
            return _("every item is answered — Enter confirms, or ↑ to change an answer")
        try:
            finding = judge(item, value)
        except AnswerError as exc:
            return str(exc)
        before = self.answers.get(item.id)
        was_failed = before is not None and item.kind.judged and bool(getattr(judge(item, before), "failed", False))
        self.answers[item.id] = value
        if was_failed and (finding is None or not finding.failed) and item.kind != Kind.PHOTO:
            # a defect photo belongs to a fail that is no more; a photo added to a passing check (C) stays
            self.photos.pop(item.id, None)
        self.cursor = self._next_open(self.cursor)
        return ""

    def pass_current(self) -> str:
        """P / CMD:PASS: pass a pass/fail item, or pick the first passing answer of a choice."""
        item = self.current
        if item is not None and item.kind == Kind.CHOICE:
            return self.answer(next(c.label for c in item.choices if c.fails_as is None))
        if item is not None and item.kind != Kind.PASS_FAIL:
            return _("{check} is not a pass/fail check: {how}").format(
                check=self.label(item), how=self.how_to_answer(item)
            )
        return self.answer(PASS)

    def fail_current(self) -> str:
        """F / CMD:FAIL: fail a pass/fail item."""
        item = self.current
        if item is not None and item.kind != Kind.PASS_FAIL:
            return _("{check} is not a pass/fail check: {how}").format(
                check=self.label(item), how=self.how_to_answer(item)
            )
        return self.answer(FAIL)

    def choose(self, number: int) -> str:
        """1-9: pick a choice by its number."""
        item = self.current
        if item is None or item.kind != Kind.CHOICE:
            return (
                _("number keys pick an answer of a choice item")
                if item is None
                else _("{check} is not a choice: {how}").format(check=self.label(item), how=self.how_to_answer(item))
            )
        if not 1 <= number <= len(item.choices):
            return _("{check} has answers 1 to {n}").format(check=self.label(item), n=len(item.choices))
        return self.answer(item.choices[number - 1].label)

    def enter_text(self, text: str) -> str:
        """A typed (or scanned) reading for a measurement, or the text of a note."""
        item = self.current
        if item is None or item.kind not in (Kind.MEASUREMENT, Kind.NOTE):
            return _("nothing to type here")
        if text.strip().lower() in ("n/a", "na") and item.optional:
            return self.answer(NOT_APPLICABLE)
        if item.kind == Kind.NOTE:
            if text.strip():
                self.answers[item.id] = " ".join(text.split())[:500]
            else:
                self.answers.pop(item.id, None)
            self.cursor = self._next_open(self.cursor)
            return ""
        value, problem = item.read_measurement(text)
        return problem or self.answer(value)

    def not_applicable(self) -> str:
        """N: an optional item does not apply to this product."""
        item = self.current
        if item is None or not item.optional:
            return _("only optional items can be answered n/a") if item else _("nothing selected")
        return self.answer(NOT_APPLICABLE)

    def attach(self, photo: Photo) -> None:
        """Keep a photo for its item (a photo item counts as answered)."""
        self.photos[photo.item] = photo
        item = self.checklist.item(photo.item)
        if item.kind == Kind.PHOTO:
            self.answers[item.id] = photo.record()
            if self.current is item:
                self.cursor = self._next_open(self.cursor)

    def move(self, delta: int) -> None:
        """↑/↓: move the cursor to change an answer or reach a note."""
        n = len(self.checklist.items)
        start = self.cursor if self.cursor is not None else (0 if delta < 0 else -1)
        self.cursor = (start + delta) % n  # wraps: ↑ on the first item reaches the remarks at the end

    def skip(self) -> None:
        """CMD:NEXT-ITEM: leave the current item open and go to the next one."""
        self.move(1)

    # -- judging --------------------------------------------------------------

    def suggestion(self, *, for_people: bool = False) -> Suggestion:
        """The rule engine's suggestion for the answers so far (``why`` by item id, or by number and prompt)."""
        judged = {k: v for k, v in self.answers.items() if self.checklist.item(k).kind.judged}
        if not for_people:
            return suggest(self.checklist, judged)
        return suggest(self.checklist, judged, name=self.label, language=self.language)

    def suggestion_line(self) -> tuple[str, str]:
        """What the screen says about the suggestion so far: (headline, why) — never "passed" before answers."""
        open_items = self.unanswered()
        judged = [i for i in self.checklist.items if i.kind.judged]
        if not any(i.id in self.answers for i in judged):
            n = len(open_items)
            return (
                ngettext(
                    "NOTHING ANSWERED YET — {n} check to answer", "NOTHING ANSWERED YET — {n} checks to answer", n
                ).format(n=n),
                _("the suggestion appears with the first answer"),
            )
        s = self.suggestion(for_people=True)
        why = _("; ").join(s.why)
        if open_items and not s.fails:
            why = _("no check failed so far")
        if open_items:
            return _("SO FAR {disposition}   ({n} to answer)").format(
                disposition=shown(s.disposition, upper=True), n=len(open_items)
            ), why
        return _("SUGGESTED {disposition}   Enter confirms").format(disposition=shown(s.disposition, upper=True)), why

    # -- routing --------------------------------------------------------------

    def facts(self, grade: Disposition | None = None) -> Facts:
        """What the routing rules look at: the grade (default: the suggested one), category, reason, findings."""
        judged = {i.id for i in self.checklist.items if i.kind.judged and i.id in self.answers}
        failed = frozenset(f.item.id for f in self.suggestion().fails)
        return Facts(
            grade or self.suggestion().disposition,
            self.line.category,
            self.rma.reason,
            failed,
            frozenset(judged - failed - {k for k, v in self.answers.items() if v == NOT_APPLICABLE}),
            self.line.value,
        )

    def routed(self, grade: Disposition | None = None) -> Routed | None:
        """Where the rules send the unit at ``grade`` (default: the suggested one); None without rules."""
        return route(self.routing, self.facts(grade), i18n.current()) if self.routing is not None else None

    def channel(self, grade: Disposition | None = None) -> tuple[Channel, str] | None:
        """The channel the unit goes to and its bin: the inspector's choice, else the rules'."""
        if self.channel_choice is not None and self.routing is not None:
            return self.channel_choice[0], self.routing.bin_for(self.channel_choice[0])
        routed = self.routed(grade)
        return (routed.channel, routed.bin) if routed else None

    def channel_line(self) -> str:
        """What the screen says about the channel: where the unit goes, and why."""
        routed = self.routed()
        if routed is None:
            return ""
        if self.channel_choice is not None:
            channel, reason = self.channel_choice
            return _("→ {channel}, bin {bin} (changed from {suggested}: {reason})").format(
                channel=channel.shown,
                bin=self.routing.bin_for(channel) if self.routing else "",
                suggested=routed.channel.shown,
                reason=reason,
            )
        return _("→ {channel}, bin {bin} ({because})").format(
            channel=routed.channel.shown, bin=routed.bin, because=routed.because
        )

    def label(self, item: Item) -> str:
        """An item as the inspector sees it: its number on the form and its prompt ("#3 Packaging")."""
        return f"#{self.checklist.items.index(item) + 1} {item.prompt_in(self.language)}"

    def labels(self, items: list[Item], width: int = 76) -> str:
        """Every item of ``items`` by number and prompt, prompts shortened (or left out) to fit ``width``."""
        for cut in (None, 24, 16, 10):
            parts = [
                f"#{self.checklist.items.index(i) + 1} " + (p if cut is None or cells(p) <= cut else cut_to(p, cut))
                for i, p in ((i, i.prompt_in(self.language)) for i in items)
            ]
            text = _(", ").join(parts)
            if cells(text) <= width:
                return text
        return _(", ").join(f"#{self.checklist.items.index(i) + 1}" for i in items)

    def photos_missing(self) -> list[Item]:
        """Items that need a photo before saving: failed ones requiring it, and photo items."""
        failed = {f.item.id for f in self.suggestion().fails}
        return [
            i
            for i in self.checklist.items
            if i.id not in self.photos
            and ((i.photo_required_on_fail and i.id in failed) or (i.kind == Kind.PHOTO and not i.optional))
        ]

    def photo_required(self, item: Item) -> bool:
        """True when ``item`` cannot be saved without a photo (a failed photo-on-fail item, a required photo item)."""
        if item.kind == Kind.PHOTO:
            return not item.optional
        return item.photo_required_on_fail and item.id in {f.item.id for f in self.suggestion().fails}

    def unanswered(self) -> list[Item]:
        """Required items without an answer (photo items are counted by photos_missing)."""
        return [
            i
            for i in self.checklist.items
            if i.id not in self.answers and not i.optional and i.kind not in (Kind.NOTE, Kind.PHOTO)
        ]

    def to_inspection(self, final: Disposition, reason: str = "", note: str = "") -> Inspection:
        """What the store records when this draft is confirmed (routed at the ``final`` grade)."""
        suggestion = self.suggestion()
        routed = self.routed(final)
        chosen = self.channel(final)
        answers = []
        for item in self.checklist.items:
            if item.id not in self.answers:
                continue
            value = self.answers[item.id]
            finding = judge(item, value) if item.kind.judged else None
            answers.append(
                {
                    "item": item.id,
                    "kind": item.kind.value,
                    "answer": value,
                    "failed": bool(finding and finding.failed),
                    "severity": finding.severity.value if finding and finding.severity else None,
                }
            )
        return Inspection(
            rma_code=self.rma.code,
            line_no=self.line.line_no,
            checklist_id=self.checklist.id,
            checklist_hash=self.checklist.content_hash,
            answers=tuple(answers),
            suggested=suggestion.disposition.value,
            final=final.value,
            started_at=self.started_at,
            why=suggestion.why,
            override_reason=reason,
            override_note=note,
            photos=tuple(p.record() for p in self.photos.values()),
            scanned=self.code.scanned,
            gtin=self.code.gtin,
            serial=self.code.serial,
            lot=self.code.lot,
            expiry=self.code.expiry,
            matched_by=self.matched_by,
            channel=chosen[0].value if chosen else "",
            suggested_channel=routed.channel.value if routed else "",
            channel_reason=self.channel_choice[1] if self.channel_choice else "",
            bin=chosen[1] if chosen else "",
            routing_id=routed.routing_id if routed else "",
            routing_hash=routed.routing_hash if routed else "",
            checklist_language=self.shown_language,
            reason_confirmed=self.reason_confirmed,
        )

    @property
    def shown_language(self) -> str:
        """The language the checklist's texts are shown in: the station's, if the checklist has it ("": English)."""
        tag = language_tag(self.language)
        return tag if tag in self.checklist.languages else ""

    # -- helpers --------------------------------------------------------------

    @staticmethod
    def how_to_answer(item: Item) -> str:
        """The keys that answer an item."""
        if item.kind == Kind.PASS_FAIL:
            return _("P pass, F fail")
        if item.kind == Kind.CHOICE:
            return _("1-{n} pick an answer (P: the first passing one)").format(n=len(item.choices))
        if item.kind == Kind.MEASUREMENT:
            if item.optional:
                return _("type the reading and Enter (limits {limits}), or n/a").format(limits=item.limits())
            return _("type the reading and Enter (limits {limits})").format(limits=item.limits())
        if item.kind == Kind.NOTE:
            return _("type a remark and Enter (optional)")
        return _("C add the photo")

    def _next_open(self, after: int | None) -> int | None:
        """The next unanswered item after ``after`` (wrapping), notes and optional photos skipped."""
        items = self.checklist.items
        start = -1 if after is None else after
        order = list(range(start + 1, len(items))) + list(range(0, start + 1))
        for i in order:
            item = items[i]
            if item.id in self.answers or item.kind == Kind.NOTE or (item.kind == Kind.PHOTO and item.optional):
                continue
            return i
        return None
