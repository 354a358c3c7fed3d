"""Containers — bins, totes, gaylords, pallets — closed, moved and shipped; and counts of what is in a bin.

A container is a bin under another word: one of the caller's ``bins`` (the
routing rules' and station.toml's, see :mod:`sync.store.putaway`) or one this
station labelled with :meth:`Containers.register_container` (its kind, the
channels it takes).  ``containers`` holds a row only for what was labelled,
closed or moved; a bin without a row is an open bin.  Every change is one
event: ``container.registered``, ``container.closed``, ``container.moved``,
``container.shipped`` (the units leave the building: a stock movement; the
container is empty and open again, for its next load) and ``bin.counted``.

A closed container takes no unit and gives none up until it ships; a shipped
unit is never put away again (``unit_shipments``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from gettext import gettext as _

from sync.clock import utc_now
from sync.lpn import is_lpn
from sync.store.errors import StoreError
from sync.store.putaway import PutAwayRefused, PutAways, Refusal, bin_key
from sync.store.records import CHANNELS, Unit, lookup_key

KINDS = ("bin", "tote", "gaylord", "pallet")


class ContainerRefusal(str, Enum):
    """Why a container command was refused (nothing was recorded); the value is the big word."""

    UNKNOWN = "UNKNOWN BIN"
    CLOSED = "CONTAINER CLOSED"
    OPEN = "CONTAINER OPEN"
    EMPTY = "CONTAINER EMPTY"
    NO_DESTINATION = "NO DESTINATION"
    NOT_A_PLATE = "NOT A PLATE"
    BAD_KIND = "BAD KIND"
    BAD_CHANNEL = "BAD CHANNEL"


class ContainerRefused(StoreError):
    """A container command the store refuses on purpose; ``refusal`` says which, the message is one line."""

    def __init__(self, refusal: ContainerRefusal, message: str):
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Content:
    """One unit in a container: its plate, what it is, its grade and channel, since when it is there."""

    lpn: str
    sku: str
    description: str
    grade: str
    channel: str
    rma_code: str
    line_no: int
    unit_no: int
    at: str


@dataclass(frozen=True)
class BinCount:
    """One count of a bin: the plates expected there, the ones found, and the difference."""

    bin: str
    expected: tuple[str, ...]
    found: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    event_id: str
    at: str
    station: str
    operator: str
    seq: int = 0


@dataclass(frozen=True)
class Container:
    """A container as the station knows it now: kind, channels it takes, state, where it stands, contents."""

    name: str
    kind: str
    takes: tuple[str, ...]
    state: str  # open / closed
    location: str
    closed_at: str | None
    contents: tuple[Content, ...]
    last_count: BinCount | None = None
    closed_by: str = ""  # the operator who closed it, and at which station ('' while open)
    closed_station: str = ""

    @property
    def closed(self) -> bool:
        """True once closed, until it ships."""
        return self.state == "closed"

    @property
    def channel_counts(self) -> dict[str, int]:
        """Units per channel, channels in order of their count (most first), then by name."""
        return dict(sorted(Counter(c.channel for c in self.contents).items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def grade_counts(self) -> dict[str, int]:
        """Units per grade (final disposition), most first."""
        return dict(sorted(Counter(c.grade or "-" for c in self.contents).items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class ContainerEvent:
    """What one close, move or ship did: the container as it was then, the event, where it went."""

    container: Container
    type: str
    to: str
    seq: int
    event_id: str
    at: str


class Containers(PutAways):
    """Labelling, closing, moving and shipping containers; counting bins."""

    # -- what put-away asks (hooks of PutAways.put_away, inside its transaction) --

    def _bins_in_force(self, table: dict[str, set[str]]) -> dict[str, set[str]]:
        merged = {name: set(channels) for name, channels in table.items()}
        for name, takes in self.conn.execute("SELECT name, takes FROM containers"):
            merged.setdefault(name, set()).update(json.loads(takes))
        return merged

    def _container_refusal(self, unit: Unit, target: str) -> PutAwayRefused | None:
        shipped = self.conn.execute(
            "SELECT container, destination, at FROM unit_shipments WHERE lpn = ?", (unit.lpn,)
        ).fetchone()
        if shipped is not None:
            return PutAwayRefused(
                Refusal.SHIPPED,
                _("{lpn} left the building in {container} to {to} on {at}; nothing recorded").format(
                    lpn=unit.lpn, container=shipped[0], to=shipped[1], at=shipped[2][:16].replace("T", " ")
                ),
                unit,
            )
        closed = self._closed_at(target)
        if closed is not None:
            return PutAwayRefused(
                Refusal.CLOSED,
                _(
                    "{bin} is closed (since {at}): it takes no more units; nothing recorded — put {lpn} elsewhere"
                ).format(bin=target, at=closed[:16].replace("T", " "), lpn=unit.lpn),
                unit,
            )
        place = self.place_of(unit.lpn)
        if place is not None and place.bin != target and self._closed_at(place.bin) is not None:
            return PutAwayRefused(
                Refusal.CLOSED,
                _("{lpn} is in {bin}, which is closed and on its manifest; nothing recorded — it ships with it").format(
                    lpn=unit.lpn, bin=place.bin
                ),
                unit,
            )
        return None

    def _closed_at(self, name: str) -> str | None:
        row = self.conn.execute("SELECT closed_at FROM containers WHERE name = ? AND state = 'closed'", (name,))
        found = row.fetchone()
        return found[0] if found else None

    # -- reading --

    def container(self, name: str, *, bins: Mapping[str, Collection[str]]) -> Container | None:
        """The container (or bin) of this name with its contents by plate; None when the station has none."""
        key = bin_key(name)
        row = self.conn.execute(
            "SELECT c.kind, c.takes, c.state, c.location, c.closed_at, COALESCE(o.operator, ''), "
            "COALESCE(o.station, '') FROM containers c LEFT JOIN outbox o ON o.id = c.closed_event WHERE c.name = ?",
            (key,),
        ).fetchone()
        known = {bin_key(n): set(c) for n, c in bins.items()}
        if row is None and key not in known:
            return None
        kind, takes, state, location, closed_at, closed_by, closed_station = row or (
            "bin",
            "[]",
            "open",
            "",
            None,
            "",
            "",
        )
        channels = known.get(key, set()) | set(json.loads(takes))
        return Container(
            key,
            kind,
            tuple(c for c in CHANNELS if c in channels),
            state,
            location,
            closed_at,
            tuple(self.contents_of(key)),
            self.last_count(key),
            closed_by,
            closed_station,
        )

    def shipment_of(self, lpn: str) -> tuple[str, str, str] | None:
        """The container a unit left the building in, where to and when (None: it has not)."""
        row = self.conn.execute(
            "SELECT container, destination, at FROM unit_shipments WHERE lpn = ?", (lookup_key(lpn),)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def container_names(self, *, bins: Mapping[str, Collection[str]]) -> list[str]:
        """Every container and bin the station knows, by name."""
        names = {bin_key(n) for n in bins} | {r[0] for r in self.conn.execute("SELECT name FROM containers")}
        return sorted(names)

    def contents_of(self, name: str) -> list[Content]:
        """The units in a container now, by plate, with SKU and grade."""
        rows = self.conn.execute(
            "SELECT p.lpn, COALESCE(l.sku, ''), COALESCE(l.description, ''), COALESCE(i.final, ''), p.channel, "
            "p.rma_code, p.line_no, p.unit_no, p.at FROM unit_places p "
            "LEFT JOIN inspections i ON i.lpn = p.lpn "
            "LEFT JOIN rma_lines l ON l.rma_code = p.rma_code AND l.line_no = p.line_no "
            "WHERE p.bin = ? ORDER BY p.lpn",
            (bin_key(name),),
        )
        return [Content(*r) for r in rows]

    def last_count(self, name: str) -> BinCount | None:
        """The newest count of this bin, or None."""
        row = self.conn.execute(
            "SELECT bin, expected, found, missing, extra, event_id, at, station, operator FROM bin_counts "
            "WHERE bin = ? ORDER BY at DESC, rowid DESC LIMIT 1",
            (bin_key(name),),
        ).fetchone()
        if row is None:
            return None
        missing, extra = tuple(json.loads(row[3])), tuple(json.loads(row[4]))
        return BinCount(row[0], (), (), missing, extra, row[5], row[6], row[7], row[8], 0)

    def sort_bin(self, unit: Unit, *, bins: Mapping[str, Collection[str]]) -> tuple[str, bool]:
        """The open bin this unit goes to, and whether it is there already (sort mode); '' when none takes it."""
        every = self._bins_in_force({bin_key(n): set(c) for n, c in bins.items()})
        place = self.place_of(unit.lpn)
        if place is not None and unit.channel in every.get(place.bin, ()):
            return place.bin, True  # where it belongs (a closed container's units ship with it)
        table = {name: channels for name, channels in every.items() if self._closed_at(name) is None}
        return self.bin_of(unit, table), False

    # -- writing --

    def register_container(
        self,
        name: str,
        kind: str | None,
        takes: Iterable[str],
        station: str,
        operator: str,
        *,
        bins: Mapping[str, Collection[str]],
    ) -> Container:
        """Label a container: its kind and the channels it takes (besides a bin's own); one event if it changed.

        ``kind`` None keeps the kind recorded (a bin's, for one never labelled).

        Refused (:class:`ContainerRefused`, nothing recorded): an unknown kind
        or channel, no name, a new container given no channel.
        """
        key, channels = bin_key(name), list(dict.fromkeys(takes))
        if not key:
            raise ContainerRefused(ContainerRefusal.UNKNOWN, _("a container needs a name"))
        if kind is not None and kind not in KINDS:
            raise ContainerRefused(
                ContainerRefusal.BAD_KIND,
                _("{kind!r} is not a kind of container; use {kinds}").format(kind=kind, kinds=", ".join(KINDS)),
            )
        for channel in channels:
            if channel not in CHANNELS:
                raise ContainerRefused(
                    ContainerRefusal.BAD_CHANNEL,
                    _("{channel!r} is not a channel; use {channels}").format(
                        channel=channel, channels=", ".join(CHANNELS)
                    ),
                )
        with self.write() as conn:
            before = self.container(key, bins=bins)
            if before is None and not channels:
                raise ContainerRefused(
                    ContainerRefusal.UNKNOWN,
                    _(
                        "no container {name} at this station yet; nothing recorded — say which channels it takes "
                        "(--takes b_stock)"
                    ).format(name=key),
                )
            kind = kind or (before.kind if before is not None else "bin")
            row = conn.execute("SELECT takes FROM containers WHERE name = ?", (key,)).fetchone()
            stored = json.loads(row[0]) if row else []
            merged = [c for c in CHANNELS if c in set(stored) | set(channels)]
            if before is not None and row is not None and before.kind == kind and merged == stored:
                return before
            if before is not None and row is None and kind == "bin" and set(channels) <= set(before.takes):
                return before  # a bin as it is: a label, nothing to record
            at = utc_now()
            _seq, event_id = self._append(
                conn,
                "container.registered",
                station,
                operator,
                {"container": key, "kind": kind, "takes": merged},
                at=at,
            )
            conn.execute(
                "INSERT INTO containers (name, kind, takes, event_id, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, takes = excluded.takes, "
                "event_id = excluded.event_id, updated_at = excluded.updated_at",
                (key, kind, json.dumps(merged), event_id, at),
            )
            now = self.container(key, bins=bins)
        assert now is not None
        return now

    def _known(self, name: str, bins: Mapping[str, Collection[str]]) -> Container:
        found = self.container(name, bins=bins)
        if found is None:
            raise ContainerRefused(
                ContainerRefusal.UNKNOWN,
                _("no bin or container {name} at this station; nothing recorded — see rma container show").format(
                    name=bin_key(name) or "''"
                ),
            )
        return found

    def _upsert_state(self, conn, container: Container, event_id: str, at: str, **columns) -> None:
        """The container's row with these columns changed (a row made for a bin that had none)."""
        conn.execute(
            "INSERT OR IGNORE INTO containers (name, kind, event_id, updated_at) VALUES (?, ?, ?, ?)",
            (container.name, container.kind, event_id, at),
        )
        sets = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(
            f"UPDATE containers SET {sets}, event_id = ?, updated_at = ? WHERE name = ?",
            (*columns.values(), event_id, at, container.name),
        )

    def close_container(
        self, name: str, station: str, operator: str, *, bins: Mapping[str, Collection[str]]
    ) -> ContainerEvent:
        """Close a container: it takes no more units; one ``container.closed`` event with its contents.

        Refused (nothing recorded): unknown, closed already, empty.
        """
        with self.write() as conn:
            container = self._known(name, bins)
            if container.closed:
                raise ContainerRefused(
                    ContainerRefusal.CLOSED,
                    _(
                        "{name} is closed already (since {at}); nothing recorded — reprint its manifest with "
                        "rma container show {name} --manifest"
                    ).format(name=container.name, at=(container.closed_at or "")[:16].replace("T", " ")),
                )
            if not container.contents:
                raise ContainerRefused(
                    ContainerRefusal.EMPTY,
                    _("{name} is empty; nothing recorded — put units in it before closing it").format(
                        name=container.name
                    ),
                )
            at = utc_now()
            payload = {
                "container": container.name,
                "kind": container.kind,
                "units": [c.lpn for c in container.contents],
                "counts": container.channel_counts,
            }
            seq, event_id = self._append(conn, "container.closed", station, operator, payload, at=at)
            self._upsert_state(conn, container, event_id, at, state="closed", closed_at=at, closed_event=event_id)
            closed = self._known(container.name, bins)
        return ContainerEvent(closed, "container.closed", closed.location, seq, event_id, at)

    def move_container(
        self, name: str, to: str, station: str, operator: str, *, bins: Mapping[str, Collection[str]]
    ) -> ContainerEvent:
        """Move a container to a location or dock: one ``container.moved`` event.  Refused: unknown, no place."""
        where = " ".join(to.split()).upper()
        with self.write() as conn:
            container = self._known(name, bins)
            if not where:
                raise ContainerRefused(
                    ContainerRefusal.NO_DESTINATION,
                    _("move {name} where? nothing recorded — give the location or dock").format(name=container.name),
                )
            at = utc_now()
            seq, event_id = self._append(
                conn, "container.moved", station, operator, {"container": container.name, "to": where}, at=at
            )
            self._upsert_state(conn, container, event_id, at, location=where)
            moved = self._known(container.name, bins)
        return ContainerEvent(moved, "container.moved", where, seq, event_id, at)

    def ship_container(
        self, name: str, to: str, station: str, operator: str, *, bins: Mapping[str, Collection[str]]
    ) -> ContainerEvent:
        """Ship a closed container: its units leave the building (``container.shipped``, a stock movement).

        ``to`` is where it goes ('' : where it was moved to).  The container
        is empty and open afterwards, for its next load.  Refused (nothing
        recorded): unknown, not closed, no destination.
        """
        with self.write() as conn:
            container = self._known(name, bins)
            if not container.closed:
                raise ContainerRefused(
                    ContainerRefusal.OPEN,
                    _(
                        "{name} is open; nothing recorded — close it first (rma container close {name}), "
                        "which prints its manifest"
                    ).format(name=container.name),
                )
            where = " ".join(to.split()).upper() or container.location
            if not where:
                raise ContainerRefused(
                    ContainerRefusal.NO_DESTINATION,
                    _(
                        "ship {name} where? nothing recorded — give the destination (rma container ship {name} TO)"
                    ).format(name=container.name),
                )
            at = utc_now()
            closed_event = conn.execute(
                "SELECT closed_event FROM containers WHERE name = ?", (container.name,)
            ).fetchone()[0]
            units = [c.lpn for c in container.contents]
            seq, event_id = self._append(
                conn,
                "container.shipped",
                station,
                operator,
                {"container": container.name, "to": where, "units": units},
                refers_to=closed_event,
                at=at,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO unit_shipments (lpn, container, destination, event_id, at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(lpn, container.name, where, event_id, at) for lpn in units],
            )
            conn.execute("DELETE FROM unit_places WHERE bin = ?", (container.name,))
            self._upsert_state(
                conn, container, event_id, at, state="open", location="", closed_at=None, closed_event=None
            )
        return ContainerEvent(container, "container.shipped", where, seq, event_id, at)

    def count_bin(
        self,
        name: str,
        found: Iterable[str],
        station: str,
        operator: str,
        *,
        bins: Mapping[str, Collection[str]],
    ) -> BinCount:
        """Record a count of a bin: the plates found in it against those the station has there (``bin.counted``).

        Refused (nothing recorded): an unknown bin, a scan that is not a license
        plate.  The projection is not changed: a count reports, the supervisor acts.
        """
        plates = list(dict.fromkeys(lookup_key(scan) for scan in found if scan.strip()))
        for plate in plates:
            if not is_lpn(plate):
                raise ContainerRefused(
                    ContainerRefusal.NOT_A_PLATE,
                    _("{scan} is not a license plate; nothing recorded — count only the plates on the units").format(
                        scan=plate[:40]
                    ),
                )
        with self.write() as conn:
            container = self._known(name, bins)
            expected = [c.lpn for c in container.contents]
            missing = [lpn for lpn in expected if lpn not in set(plates)]
            extra = [lpn for lpn in plates if lpn not in set(expected)]
            at = utc_now()
            payload = {
                "bin": container.name,
                "expected": expected,
                "found": plates,
                "missing": missing,
                "extra": extra,
            }
            seq, event_id = self._append(conn, "bin.counted", station, operator, payload, at=at)
            conn.execute(
                "INSERT INTO bin_counts (event_id, bin, at, station, operator, expected, found, missing, extra) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    container.name,
                    at,
                    station,
                    operator,
                    len(expected),
                    len(plates),
                    json.dumps(missing),
                    json.dumps(extra),
                ),
            )
        return BinCount(
            container.name,
            tuple(expected),
            tuple(plates),
            tuple(missing),
            tuple(extra),
            event_id,
            at,
            station,
            operator,
            seq,
        )
