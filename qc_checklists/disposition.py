"""The rule engine: a checklist's answers in, the suggested disposition and why out.

A pure function of its inputs — no clock, no database, no screen — so the
same findings give the same suggestion at every bench.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from gettext import gettext as _

from qc_checklists.checklist import N_, NOT_APPLICABLE, Checklist, Disposition, Item, Kind, Rule, Severity, for_people

PASS, FAIL = "pass", "fail"


@dataclass(frozen=True)
class Finding:
    """One answered judged item: did it fail, and how badly."""

    item: Item
    value: object
    failed: bool
    severity: Severity | None = None  # the severity of the fail

    def describe(self, name: Callable[[Item], str] | None = None, language: str | None = None) -> str:
        """'battery_health 71 % (limits 80–100 %)', 'stains', 'accessories: cable missing'.

        ``name`` says what an item is called (default: its id, as recorded;
        a screen passes the number and prompt the inspector reads); ``language``
        shows a choice's answer in that language (default: as recorded).
        """
        called = name(self.item) if name else self.item.id
        if self.item.kind == Kind.MEASUREMENT:
            unit = (" " + self.item.unit) if self.item.unit else ""
            limits = for_people(N_("limits {limits}"), language).format(limits=self.item.limits())
            return f"{called} {self.value:g}{unit} ({limits})"
        if self.item.kind == Kind.CHOICE:
            return f"{called}: {self.item.choice_label_in(str(self.value), language)}"
        return called


@dataclass(frozen=True)
class Suggestion:
    """What the rules suggest, with the reasons a person reads."""

    disposition: Disposition
    why: tuple[str, ...]
    fails: tuple[Finding, ...] = ()
    unanswered: tuple[str, ...] = ()  # ids of required items without an answer; empty: complete


class AnswerError(ValueError):
    """An answer does not fit its item (unknown choice, 'maybe' for pass/fail)."""


def judge(item: Item, value: object) -> Finding | None:
    """The finding for one answer; None for notes, photos and "n/a" answers, which never fail."""
    if not item.kind.judged or value == NOT_APPLICABLE:
        if value == NOT_APPLICABLE and not item.optional:
            raise AnswerError(_("'{id}' is not optional; it cannot be answered n/a").format(id=item.id))
        return None
    if item.kind == Kind.PASS_FAIL:
        if value not in (PASS, FAIL):
            raise AnswerError(_("'{id}' is answered pass or fail, not {value!r}").format(id=item.id, value=value))
        failed = value == FAIL
        return Finding(item, value, failed, item.severity if failed else None)
    if item.kind == Kind.CHOICE:
        for choice in item.choices:
            if choice.label == value:
                return Finding(item, value, choice.fails_as is not None, choice.fails_as)
        raise AnswerError(_("'{id}' has no answer {value!r}").format(id=item.id, value=value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError(_("'{id}' takes a number, not {value!r}").format(id=item.id, value=value))
    low = item.min is not None and value < item.min
    high = item.max is not None and value > item.max
    return Finding(item, value, low or high, item.severity if (low or high) else None)


def _matches(rule: Rule, fails: list[Finding]) -> bool:
    if rule.any_failed:
        return any(f.item.id in rule.any_failed for f in fails)
    count = sum(1 for f in fails if f.severity == rule.severity)
    if rule.at_least is not None:
        return count >= rule.at_least
    return rule.more_than is not None and count > rule.more_than


def _explain(rule: Rule, fails: list[Finding], name: Callable[[Item], str] | None, language: str | None) -> str:
    involved = [f for f in fails if (f.item.id in rule.any_failed if rule.any_failed else f.severity == rule.severity)]
    failed = for_people(N_("failed"), language)
    reason = rule.because_in(language) or (failed if rule.any_failed and name else rule.describe(language))
    return for_people(N_("{reason}: {findings}"), language).format(
        reason=reason, findings=", ".join(f.describe(name, language) for f in involved)
    )


def suggest(
    checklist: Checklist,
    answers: Mapping[str, object],
    *,
    name: Callable[[Item], str] | None = None,
    language: str | None = None,
) -> Suggestion:
    """The suggested disposition for the answers given so far.

    Every rule whose condition holds proposes its disposition; the worst one
    wins (so the order of rules in a file does not matter).  When no rule
    holds the item is resellable.  Unanswered items count as not failed; the
    suggestion says which required ones are still open.  ``why`` names items
    by id (what is recorded), or by ``name(item)`` for a screen, which may also
    give the ``language`` its answers and rules' ``because`` are shown in.
    """
    unknown = set(answers) - {i.id for i in checklist.items}
    if unknown:
        raise AnswerError(
            _("answers for items not on checklist '{id}': {items}").format(
                id=checklist.id, items=", ".join(sorted(unknown))
            )
        )
    fails: list[Finding] = []
    unanswered: list[str] = []
    for item in checklist.items:
        if item.id not in answers or answers[item.id] is None:
            if not item.optional and item.kind != Kind.NOTE:
                unanswered.append(item.id)
            continue
        finding = judge(item, answers[item.id])
        if finding is not None and finding.failed:
            fails.append(finding)
    matched = [r for r in checklist.rules if _matches(r, fails)]
    if not matched:
        below = for_people(N_("{n} fail(s) below every rule's threshold: {findings}"), language)
        why = (
            (for_people(N_("every check passed"), language),)
            if not fails
            else (below.format(n=len(fails), findings=", ".join(f.describe(name, language) for f in fails)),)
        )
        return Suggestion(Disposition.RESELLABLE, why, tuple(fails), tuple(unanswered))
    worst = max(r.then.rank for r in matched)
    deciding = [r for r in matched if r.then.rank == worst]
    return Suggestion(
        deciding[0].then, tuple(_explain(r, fails, name, language) for r in deciding), tuple(fails), tuple(unanswered)
    )
