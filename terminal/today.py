"""What the header counts: events not yet sent, and today's receipts and dispositions at this station.

"Today" starts at local midnight (the shift's day, as the clerk reads the
clock on the wall); the events' times are UTC, so the boundary is turned
into UTC once here.  :func:`header_totals` runs on the database thread, in
the same job as the write it follows, so a scan costs one trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TypeVar

from sync.store import Store

T = TypeVar("T")

# event type -> the name today's count has in the header
TODAY_NAMES = {
    "rma.received": "received",
    "parcel.unexpected": "unexpected",
    "parcel.refused": "refused",
    "rma.receive_undone": "undone",
    "item.mismatch": "mismatch",
}


@dataclass(frozen=True)
class Totals:
    """The header's numbers: events waiting to be sent, and today's counts by name (only those above 0)."""

    unsent: int = 0
    today: dict[str, int] = field(default_factory=dict)


def start_of_day(day: date | None = None) -> str:
    """Local midnight at the start of ``day`` (default: today), as the UTC timestamp events are compared with."""
    midnight = datetime.combine(day or date.today(), time()).astimezone()  # local offset at midnight itself (DST)
    return midnight.astimezone(UTC).isoformat(timespec="milliseconds")


def header_totals(store: Store, station: str, day: date | None = None) -> Totals:
    """Read the unsent count and ``station``'s counts since the start of ``day`` (blocking: database thread)."""
    since = start_of_day(day)
    counts = store.counts_since(since, station)
    today = {name: counts[kind] for kind, name in TODAY_NAMES.items() if counts.get(kind)}
    today.update(store.dispositions_since(since, station))  # the shift's inspected units per disposition
    return Totals(store.unsent_count(), today)


def with_totals(job: Callable[[Store], T], station: str) -> Callable[[Store], tuple[T, Totals]]:
    """``job`` followed, in the same database job, by the header's totals: one trip for a write and its header."""
    return lambda store: (job(store), header_totals(store, station))
