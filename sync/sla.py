"""SLA clocks: the time limit of each step of a return, and the arithmetic of due times (pure; no database).

Three steps have a clock, each started by the event that ends the step before:

* ``receive``: authorised → received (a limit in days: the parcel travels);
* ``inspect``: received → every unit inspected (hours);
* ``put_away``: a unit inspected → that unit put away, its ``unit.put_away`` event (hours).

A :class:`Policy` holds the limits: a default per step, overridden per product
category and per RMA priority (``express``: the import's ``priority`` column) —
of every override that applies to an RMA (each of its categories, its priority)
the strictest wins, the default only when none does — and
which steps count only working hours (a :class:`WorkingHours` calendar: days
of the week, a daily window, holidays, in one time zone).  In working hours a
day limit is that many working days' worth of the daily window.  A clock is
*due soon* in the last ``due_soon`` share of its limit, *overdue* after it.

Both the central server (its reports and escalations) and the station (its
backlog screen and the header's overdue count) import this module, so they
count alike; :data:`DEFAULT_POLICY` is what either uses without a file.  The
server's ``sla.yaml`` is read by :func:`load_policy`, which reports every
problem as ``file:line: reason`` (PyYAML's node marks, as the checklists do).
:func:`policy_to_wire` and :func:`policy_from_wire` carry a policy to the stations
(``GET /api/v1/sla``) so that it reads back equal, calendar and all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from sync.protocol import DEFAULT_PRIORITY, PRIORITY_PATTERN, SlaCalendar, SlaLimit, SlaPolicy

STEPS = ("receive", "inspect", "put_away")
# the unit each step's limit is written in by default (a file may write either)
STEP_UNITS = {"receive": "days", "inspect": "hours", "put_away": "hours"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OVERDUE, DUE_SOON, ON_TIME = "overdue", "due_soon", "on_time"
MAX_SEARCH_DAYS = 3700  # a working-hours due time further out than ten years is a calendar with no working time


@dataclass(frozen=True)
class Limit:
    """One step's limit: ``amount`` of ``unit`` ("days" or "hours")."""

    amount: float
    unit: str = "hours"

    def hours(self, working_day_hours: float = 24.0) -> float:
        """The limit in hours of the clock it runs on (a day is ``working_day_hours`` of it)."""
        return self.amount * (working_day_hours if self.unit == "days" else 1.0)

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


@dataclass(frozen=True)
class WorkingHours:
    """When the warehouse works: weekdays (0 = Monday), a daily window [start, end), holidays, in ``zone``."""

    zone: tzinfo = UTC
    days: frozenset[int] = frozenset(range(5))
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: frozenset[date] = frozenset()

    @property
    def day_hours(self) -> float:
        """Hours in one working day."""
        return (datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)).total_seconds() / 3600

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        return datetime.combine(day, self.start, self.zone), datetime.combine(day, self.end, self.zone)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time after ``start`` have passed."""
        left = timedelta(hours=hours)
        cursor = start.astimezone(self.zone)
        day = cursor.date()
        for _ in range(MAX_SEARCH_DAYS):
            window = self._window(day)
            if window is not None:
                begin, finish = max(window[0], cursor), window[1]
                if begin < finish:
                    if finish - begin >= left:
                        return (begin + left).astimezone(UTC)
                    left -= finish - begin
            day += timedelta(days=1)
        raise ValueError("the working-hours calendar has no working time in ten years")

    def between(self, start: datetime, end: datetime) -> float:
        """Hours of working time from ``start`` to ``end`` (0 when ``end`` is not later)."""
        if end <= start:
            return 0.0
        total = timedelta()
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        day = a.date()
        while day <= b.date():
            window = self._window(day)
            if window is not None:
                lo, hi = max(window[0], a), min(window[1], b)
                if lo < hi:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600


@dataclass(frozen=True)
class Clock:
    """One running clock: when its step started, when it is due, how old it is, and how it stands."""

    step: str
    started_at: datetime
    due_at: datetime
    soon_at: datetime  # from here on it is due soon
    limit: Limit
    category: str
    priority: str = DEFAULT_PRIORITY  # the return's priority (its limit may have come from it)

    def age_hours(self, now: datetime) -> float:
        """Hours since the step started (wall-clock time, whatever the limit counts)."""
        return max(0.0, (now - self.started_at).total_seconds() / 3600)

    def state(self, now: datetime) -> str:
        """``overdue``, ``due_soon`` or ``on_time`` at ``now``."""
        if now >= self.due_at:
            return OVERDUE
        return DUE_SOON if now >= self.soon_at else ON_TIME


@dataclass(frozen=True)
class Policy:
    """The limits in force (see the module docstring); :data:`DEFAULT_POLICY` without a file."""

    limits: dict[str, Limit]
    categories: dict[str, dict[str, Limit]] = field(default_factory=dict)
    working: frozenset[str] = frozenset()  # the steps counted in working hours
    calendar: WorkingHours | None = None
    due_soon: float = 0.25  # the last quarter of a limit is "due soon"
    source: str = "built-in defaults"
    priorities: dict[str, dict[str, Limit]] = field(default_factory=dict)

    def limit(self, step: str, categories: Iterable[str] = (), priority: str = "") -> tuple[Limit, str]:
        """The step's limit for these categories and this priority (the strictest override that applies) and
        the category it came from ("" = the default or the priority's)."""
        default = self.limits[step]
        day = self._day_hours(step)
        found = [(self.categories[c][step], c) for c in dict.fromkeys(categories) if step in self.categories.get(c, {})]
        if step in self.priorities.get(priority, {}):
            found.append((self.priorities[priority][step], ""))  # on a tie a category's name is kept
        if not found:
            return default, ""
        return min(found, key=lambda f: (f[0].hours(day), f[1] == "", f[1]))

    def _day_hours(self, step: str) -> float:
        return self.calendar.day_hours if self.calendar is not None and step in self.working else 24.0

    def clock(
        self, step: str, started_at: datetime, categories: Iterable[str] = (), priority: str = DEFAULT_PRIORITY
    ) -> Clock:
        """The clock of ``step`` started at ``started_at`` for a return of these categories and this priority."""
        categories = [c for c in categories if c] or ["general"]
        priority = priority or DEFAULT_PRIORITY
        limit, which = self.limit(step, categories, priority)
        hours = limit.hours(self._day_hours(step))
        if self.calendar is not None and step in self.working:
            due = self.calendar.add(started_at, hours)
            soon = self.calendar.add(started_at, hours * (1 - self.due_soon))
        else:
            due = started_at + timedelta(hours=hours)
            soon = started_at + timedelta(hours=hours * (1 - self.due_soon))
        return Clock(step, started_at, due, soon, limit, which or min(categories), priority)


DEFAULT_LIMITS = {"receive": Limit(14, "days"), "inspect": Limit(24, "hours"), "put_away": Limit(8, "hours")}
DEFAULT_POLICY = Policy(dict(DEFAULT_LIMITS))


def parse_time(text: str) -> datetime:
    """A stored timestamp (ISO 8601 with its offset; no offset: UTC) as an aware datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def stamp(value: datetime) -> str:
    """A datetime as the project's timestamps read: ISO 8601 UTC with milliseconds."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


# --- the file -------------------------------------------------------------------------------

TOP_KEYS = {"version", "due_soon", "limits", "categories", "priorities", "working_hours"}
CALENDAR_KEYS = {"timezone", "days", "from", "to", "holidays", "steps"}


class PolicyError(Exception):
    """An SLA file that cannot be used; ``problems`` are ``file:line: reason`` lines, every one found."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.found: list[str] = []

    def add(self, node: yaml.Node, reason: str) -> None:
        self.found.append(f"{self.path}:{node.start_mark.line + 1}: {reason}")


def _mapping(node: yaml.Node, where: str, problems: _Problems) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, f"{where} must be 'key: value' lines")
        return {}
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
        if not name:
            problems.add(key, f"a key in {where} must be a plain word")
        elif name in out:
            problems.add(key, f"duplicate key '{name}' in {where} (first on line {out[name][0].start_mark.line + 1})")
        else:
            out[name] = (key, value)
    return out


def _scalar(node: yaml.Node) -> str | None:
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) else None


def _limit(node: yaml.Node, step: str, problems: _Problems) -> Limit | None:
    """``14 days``, ``36 hours``, ``8h``, ``2d``, or a bare number in the step's own unit."""
    text = _scalar(node)
    if text is None:
        problems.add(node, f"the limit of {step} must be a number and a unit, like '24 hours' or '14 days'")
        return None
    number, _, unit = text.lower().partition(" ")
    if not unit and number[-1:] in ("d", "h") and number[:-1]:
        number, unit = number[:-1], number[-1]
    unit = {"d": "days", "day": "days", "days": "days", "h": "hours", "hour": "hours", "hours": "hours"}.get(
        unit.strip() or STEP_UNITS[step], ""
    )
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if not unit or not 0 < amount <= 3650 * 24:
        problems.add(node, f"'{text}' is not a limit for {step}: write a positive number of hours or days")
        return None
    return Limit(amount, unit)


def _limits(node: yaml.Node, where: str, problems: _Problems) -> dict[str, Limit]:
    out = {}
    for name, (key, value) in _mapping(node, where, problems).items():
        if name not in STEPS:
            problems.add(key, f"'{name}' is not a step; the steps are {', '.join(STEPS)}")
            continue
        found = _limit(value, name, problems)
        if found is not None:
            out[name] = found
    return out


def _zone(text: str) -> tzinfo:
    if text.upper() in ("UTC", "Z"):
        return UTC
    if text[:1] in "+-" and len(text) == 6 and text[3] == ":":
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))
    return ZoneInfo(text)


def _calendar(node: yaml.Node, problems: _Problems) -> tuple[WorkingHours | None, frozenset[str]]:
    fields = _mapping(node, "working_hours", problems)
    made: dict = {}
    for name, (key, value) in fields.items():
        text = _scalar(value)
        if name not in CALENDAR_KEYS:
            problems.add(key, f"'{name}' is not a working_hours setting; use {', '.join(sorted(CALENDAR_KEYS))}")
        elif name == "timezone":
            try:
                made["zone"] = _zone(text or "")
            except (ValueError, ZoneInfoNotFoundError):
                problems.add(value, f"'{text}' is not a time zone (like Asia/Shanghai, UTC or +08:00)")
        elif name in ("from", "to"):
            try:
                made["start" if name == "from" else "end"] = time.fromisoformat(text or "")
            except ValueError:
                problems.add(value, f"{name}: '{text}' is not a time of day like 08:30")
        elif name in ("days", "holidays", "steps"):
            items = value.value if isinstance(value, yaml.SequenceNode) else None
            if items is None or not all(isinstance(v, yaml.ScalarNode) for v in items):
                problems.add(value, f"{name} must be a list, like [{'mon, tue' if name == 'days' else '...'}]")
                continue
            chosen: list = []
            for item in items:
                word = str(item.value).strip().lower()
                if name == "days" and word[:3] in DAYS:
                    chosen.append(DAYS.index(word[:3]))
                elif name == "steps" and word in STEPS:
                    chosen.append(word)
                elif name == "holidays":
                    try:
                        chosen.append(date.fromisoformat(word))
                    except ValueError:
                        problems.add(item, f"holiday '{word}' is not a date like 2026-10-01")
                else:
                    what = "day of the week (mon … sun)" if name == "days" else f"step ({', '.join(STEPS)})"
                    problems.add(item, f"'{word}' is not a {what}")
            made[name] = chosen
    steps = frozenset(made.pop("steps", ("inspect", "put_away")))
    if "days" in made:
        made["days"] = frozenset(made["days"])
        if not made["days"]:
            problems.add(node, "working_hours has no working day; list at least one in days")
    if "holidays" in made:
        made["holidays"] = frozenset(made["holidays"])
    calendar = WorkingHours(**made)
    if calendar.end <= calendar.start:
        problems.add(node, "working_hours: 'to' must be later than 'from' on the same day")
    return calendar, steps


def read_policy(text: str, path: str = "sla.yaml") -> Policy:
    """The policy a file's text describes; :class:`PolicyError` with every problem otherwise."""
    problems = _Problems(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise PolicyError([f"{path}:{line}: not YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    if root is None:
        return Policy(dict(DEFAULT_LIMITS), source=path)
    limits, categories, priorities = dict(DEFAULT_LIMITS), {}, {}
    calendar, working, due_soon = None, frozenset[str](), 0.25
    for name, (key, value) in _mapping(root, "the file", problems).items():
        if name not in TOP_KEYS:
            problems.add(key, f"'{name}' is not an SLA setting; use {', '.join(sorted(TOP_KEYS))}")
        elif name == "version":
            if _scalar(value) != "1":
                problems.add(value, "version must be 1")
        elif name == "due_soon":
            text = (_scalar(value) or "").rstrip("%").strip()
            try:
                share = float(text) / (100 if (_scalar(value) or "").endswith("%") else 1)
            except ValueError:
                share = -1.0
            if not 0 <= share < 1:
                problems.add(value, "due_soon must be a share of the limit, like 25% or 0.25")
            else:
                due_soon = share
        elif name == "limits":
            limits.update(_limits(value, "limits", problems))
        elif name == "categories":
            for category, (_key, cvalue) in _mapping(value, "categories", problems).items():
                categories[category] = _limits(cvalue, f"category {category}", problems)
        elif name == "priorities":
            for priority, (pkey, pvalue) in _mapping(value, "priorities", problems).items():
                if not re.fullmatch(PRIORITY_PATTERN, priority):
                    problems.add(pkey, f"'{priority}' is not a priority: a lower-case word like express or vip")
                    continue
                priorities[priority] = _limits(pvalue, f"priority {priority}", problems)
        elif name == "working_hours":
            calendar, working = _calendar(value, problems)
    if problems.found:
        raise PolicyError(problems.found)
    return Policy(limits, categories, working, calendar, due_soon, path, priorities)


def load_policy(path: str | Path) -> Policy:
    """Read an SLA file (see :func:`read_policy`); an unreadable file is a :class:`PolicyError` too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{path}:1: cannot read it: {getattr(exc, 'strerror', None) or exc}"]) from None
    return read_policy(text, str(path))


# --- on the wire (GET /api/v1/sla) ------------------------------------------------------------


def _zone_name(zone: tzinfo) -> str:
    """A calendar's zone as :func:`_zone` reads it back: an IANA name, ``UTC`` or ``+08:00``."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None) or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _wire_limits(limits: dict[str, Limit]) -> dict:
    return {step: SlaLimit(amount=limit.amount, unit=limit.unit) for step, limit in limits.items()}


def policy_to_wire(policy: Policy) -> SlaPolicy:
    """The policy as the server hands it to stations (:func:`policy_from_wire` reads it back equal)."""
    calendar = policy.calendar
    return SlaPolicy(
        source=policy.source[:200],
        due_soon=policy.due_soon,
        limits=_wire_limits(policy.limits),
        categories={c: _wire_limits(limits) for c, limits in policy.categories.items()},
        priorities={p: _wire_limits(limits) for p, limits in policy.priorities.items()},
        working_steps=sorted(policy.working),
        working_hours=None
        if calendar is None
        else SlaCalendar(
            timezone=_zone_name(calendar.zone),
            days=sorted(calendar.days),
            start=calendar.start.isoformat(),
            end=calendar.end.isoformat(),
            holidays=[d.isoformat() for d in sorted(calendar.holidays)],
        ),
    )


def policy_from_wire(wire: SlaPolicy) -> Policy:
    """The :class:`Policy` a server sent; ValueError when its calendar cannot be used here (an unknown zone)."""

    def limits(found: dict) -> dict[str, Limit]:
        return {step: Limit(limit.amount, limit.unit) for step, limit in found.items()}

    calendar = None
    if wire.working_hours is not None:
        hours = wire.working_hours
        try:
            zone = _zone(hours.timezone)
        except ZoneInfoNotFoundError as exc:
            raise ValueError(f"time zone {hours.timezone!r} is not known here") from exc
        calendar = WorkingHours(
            zone,
            frozenset(hours.days),
            time.fromisoformat(hours.start),
            time.fromisoformat(hours.end),
            frozenset(date.fromisoformat(d) for d in hours.holidays),
        )
        if calendar.end <= calendar.start or not calendar.days:
            raise ValueError("the working hours have no working time")
    return Policy(
        {**DEFAULT_LIMITS, **limits(wire.limits)},
        {c: limits(found) for c, found in wire.categories.items()},
        frozenset(wire.working_steps),
        calendar,
        wire.due_soon,
        wire.source,
        {p: limits(found) for p, found in wire.priorities.items()},
    )
