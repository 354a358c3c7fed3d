"""What waits at this station, with its SLA clock: received RMAs not inspected, inspected units not put away.

The clocks are :mod:`sync.sla`'s with the limits the central server sent last (its ``sla.yaml``,
kept in the station database by sync: :meth:`sync.store.Store.sla_policy`), else the built-in
ones the server also uses without a file — so the header's overdue count and the server's report agree.
:func:`station_backlog` runs on the database thread; the screen and the header show what it returns.

The backlog is in the order a clerk should work it: by due time, then by how long each thing has waited — an
express RMA (a ``priority`` whose limit is stricter) due sooner comes before an older standard one.  Each
:class:`Waiting` carries its RMA's priority, so the screen can say why.  The header's count
(:func:`overdue_count`, :func:`header_line`) does not depend on the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from gettext import gettext as _
from gettext import ngettext

from sync.protocol import DEFAULT_PRIORITY
from sync.sla import OVERDUE, Policy, parse_time
from sync.store import Store
from terminal.i18n import N_

# the step a thing waits for, and its clock's state, as the screen says them
STEPS = {"inspect": N_("inspection"), "put_away": N_("put-away")}
STATES = {"overdue": N_("overdue"), "due_soon": N_("due soon"), "on_time": N_("on time")}


@dataclass(frozen=True)
class Waiting:
    """One thing waiting at the station: for which step, since when, due when, how it stands now."""

    step: str  # inspect / put_away
    code: str  # the RMA
    lpn: str  # the unit's plate ("" for an RMA waiting for inspection)
    sku: str
    started_at: datetime
    due_at: datetime
    state: str  # overdue / due_soon / on_time
    age_hours: float
    priority: str = DEFAULT_PRIORITY  # the RMA's priority (the import's word, e.g. express): data, never translated


def station_backlog(
    store: Store, now: datetime | None = None, policy: Policy | None = None, limit: int = 200
) -> list[Waiting]:
    """What waits here — of each step the ``limit`` longest waiting — the soonest due first, then the longest
    waiting (blocking: the database thread); by the server's limits unless ``policy``."""
    now = now or datetime.now(UTC)
    policy = policy or store.sla_policy()
    found: list[Waiting] = []
    for rma in store.waiting_for_inspection(limit):
        if not rma.received_at:
            continue
        clock = policy.clock("inspect", parse_time(rma.received_at), [ln.category for ln in rma.lines], rma.priority)
        sku = rma.lines[0].sku if rma.lines else ""
        found.append(
            Waiting(
                "inspect",
                rma.code,
                "",
                sku,
                clock.started_at,
                clock.due_at,
                clock.state(now),
                clock.age_hours(now),
                clock.priority,
            )
        )
    for unit, category, priority in store.waiting_for_put_away(limit):
        clock = policy.clock("put_away", parse_time(unit.inspected_at), [category], priority)
        found.append(
            Waiting(
                "put_away",
                unit.rma_code,
                unit.lpn,
                unit.sku,
                clock.started_at,
                clock.due_at,
                clock.state(now),
                clock.age_hours(now),
                clock.priority,
            )
        )
    # what is due first comes first: an express RMA due sooner before an older standard one; equal due times,
    # the longest waiting first
    found.sort(key=lambda w: (w.due_at, w.started_at))
    return found


def overdue_count(backlog: list[Waiting]) -> int:
    """How many of the backlog are overdue."""
    return sum(w.state == OVERDUE for w in backlog)


def header_line(backlog: list[Waiting]) -> str:
    """The header's part: "3 overdue" ("" when nothing is, so the header says nothing)."""
    n = overdue_count(backlog)
    return ngettext("{n} overdue", "{n} overdue", n).format(n=n) if n else ""


def age_text(hours: float) -> str:
    """An age as a clerk reads it: minutes, hours, then days."""
    if hours < 1:
        return _("{n} min").format(n=int(hours * 60))
    if hours < 48:
        return _("{n} h").format(n=int(hours))
    return _("{n} d").format(n=int(hours // 24))
