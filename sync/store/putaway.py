"""Put-away: an inspected unit, by its license plate, into a bin that takes its channel — one event each time.

Which bins take which channels is the caller's to say (``bins``: bin name →
the channels it takes; the station builds it from the routing rules and its
own ``[bins]``, see :mod:`qc_checklists.bins`): this package imports neither.
``unit_places`` is the projection (where each unit is now); every put-away,
and every move to another bin, is one ``unit.put_away`` event in the outbox.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from gettext import gettext as _

from sync.clock import utc_now
from sync.lpn import is_lpn
from sync.store.errors import StoreError
from sync.store.inspections import Inspections
from sync.store.records import Unit, lookup_key


def bin_key(name: str) -> str:
    """A bin's name as compared: upper case, runs of white space as one space (``b-grade`` is ``B-GRADE``)."""
    return " ".join(str(name).split()).upper()


class Refusal(str, Enum):
    """Why a put-away was refused (nothing was recorded); the value is the screen's big word."""

    NOT_A_PLATE = "NOT A PLATE"
    NOT_INSPECTED = "NOT INSPECTED"
    NO_CHANNEL = "NO CHANNEL"
    UNKNOWN_BIN = "UNKNOWN BIN"
    WRONG_BIN = "WRONG BIN"
    ALREADY_THERE = "ALREADY IN BIN"
    CLOSED = "CONTAINER CLOSED"  # sync/store/containers.py: no put-away into (or out of) a closed container
    SHIPPED = "SHIPPED"  # the unit left the building in a shipped container


class PutAwayRefused(StoreError):
    """A put-away the store refuses on purpose; ``refusal`` says which, the message is one line for a person."""

    def __init__(self, refusal: Refusal, message: str, unit: Unit | None = None):
        super().__init__(message)
        self.refusal, self.unit = refusal, unit


@dataclass(frozen=True)
class Place:
    """Where a unit is now: its bin, and the put-away event that put it there."""

    lpn: str
    bin: str
    channel: str
    rma_code: str
    line_no: int
    unit_no: int
    event_id: str
    at: str
    station: str
    operator: str


@dataclass(frozen=True)
class PutAway:
    """What one put-away did: the unit, its bin now, the bin it came from ('' for the first), its event."""

    unit: Unit
    bin: str
    from_bin: str
    seq: int
    event_id: str
    at: str


class PutAways(Inspections):
    """Putting inspected units into bins, and where each unit is."""

    def put_away(
        self, lpn: str, bin: str, station: str, operator: str, *, bins: Mapping[str, Collection[str]]
    ) -> PutAway:
        """Put the unit with plate ``lpn`` into ``bin``: one transaction, projection and ``unit.put_away`` event.

        ``bins`` maps each bin's name to the channels it takes.  Refused with
        :class:`PutAwayRefused` (nothing recorded): not a plate, a plate on no
        inspected unit here, a unit with no channel, a bin not in ``bins``, a
        bin that does not take the unit's channel, a unit already in that bin.
        """
        table = {bin_key(name): set(channels) for name, channels in bins.items()}
        target = bin_key(bin)
        plate = lookup_key(lpn)
        with self.write() as conn:
            table = self._bins_in_force(table)
            unit = self.unit_by_lpn(plate)
            if unit is None:
                if not is_lpn(plate):
                    raise PutAwayRefused(
                        Refusal.NOT_A_PLATE,
                        _(
                            "{scan} is not a license plate; nothing recorded — scan the plate on the unit's label"
                        ).format(scan=lpn.strip()[:40]),
                    )
                raise PutAwayRefused(
                    Refusal.NOT_INSPECTED,
                    _(
                        "{lpn} is on no unit inspected at this station; nothing recorded — inspect the unit first"
                    ).format(lpn=plate),
                )
            if not unit.channel:
                raise PutAwayRefused(
                    Refusal.NO_CHANNEL,
                    _("{lpn} was inspected before channels existed; nothing recorded — ask the supervisor").format(
                        lpn=unit.lpn
                    ),
                    unit,
                )
            refused = self._container_refusal(unit, target)
            if refused is not None:
                raise refused
            if target not in table:
                raise PutAwayRefused(
                    Refusal.UNKNOWN_BIN,
                    _("No bin {bin} at this station; nothing recorded — put {lpn} in {right}").format(
                        bin=target or "''", lpn=unit.lpn, right=self.bin_of(unit, bins) or "?"
                    ),
                    unit,
                )
            if unit.channel not in table[target]:
                raise PutAwayRefused(
                    Refusal.WRONG_BIN,
                    _("Bin {bin} takes {takes}, not {channel}: put {lpn} in {right}").format(
                        bin=target,
                        takes=", ".join(sorted(table[target])) or "-",
                        channel=unit.channel,
                        lpn=unit.lpn,
                        right=self.bin_of(unit, bins) or "?",
                    ),
                    unit,
                )
            place = self.place_of(unit.lpn)
            if place is not None and place.bin == target:
                raise PutAwayRefused(
                    Refusal.ALREADY_THERE,
                    _("{lpn} is in {bin} already (since {at}); nothing recorded").format(
                        lpn=unit.lpn, bin=target, at=place.at[:16].replace("T", " ")
                    ),
                    unit,
                )
            at = utc_now()
            payload = {
                "lpn": unit.lpn,
                "bin": target,
                "channel": unit.channel,
                "rma": unit.rma_code,
                "line": unit.line_no,
                "unit": unit.unit_no,
                "from": place.bin if place else None,
            }
            seq, event_id = self._append(
                conn,
                "unit.put_away",
                station,
                operator,
                payload,
                unit.rma_code,
                refers_to=place.event_id if place else None,
                at=at,
            )
            conn.execute(
                "INSERT INTO unit_places (lpn, bin, channel, rma_code, line_no, unit_no, event_id, at, station, "
                "operator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(lpn) DO UPDATE SET bin = excluded.bin, "
                "channel = excluded.channel, event_id = excluded.event_id, at = excluded.at, "
                "station = excluded.station, operator = excluded.operator",
                (
                    unit.lpn,
                    target,
                    unit.channel,
                    unit.rma_code,
                    unit.line_no,
                    unit.unit_no,
                    event_id,
                    at,
                    station,
                    operator,
                ),
            )
        return PutAway(unit, target, place.bin if place else "", seq, event_id, at)

    def _bins_in_force(self, table: dict[str, set[str]]) -> dict[str, set[str]]:
        """The caller's bins with what the containers this station labelled take (sync/store/containers.py)."""
        return table

    def _container_refusal(self, unit: Unit, target: str) -> PutAwayRefused | None:
        """Why a container refuses this put-away (closed, shipped; sync/store/containers.py), or None."""
        return None

    @staticmethod
    def bin_of(unit: Unit, bins: Mapping[str, Collection[str]]) -> str:
        """The bin a unit goes to: its inspection's, if that takes its channel; else the first that does."""
        table = {bin_key(name): set(channels) for name, channels in bins.items()}
        if unit.bin and unit.channel in table.get(bin_key(unit.bin), ()):
            return bin_key(unit.bin)
        return next((name for name, channels in table.items() if unit.channel in channels), "")

    def place_of(self, lpn: str) -> Place | None:
        """Where the unit with this plate is now (None: never put away)."""
        row = self.conn.execute(
            "SELECT lpn, bin, channel, rma_code, line_no, unit_no, event_id, at, station, operator "
            "FROM unit_places WHERE lpn = ?",
            (lookup_key(lpn),),
        ).fetchone()
        return Place(*row) if row else None

    def units_in(self, bin: str) -> list[Place]:
        """The units in one bin now, by plate."""
        rows = self.conn.execute(
            "SELECT lpn, bin, channel, rma_code, line_no, unit_no, event_id, at, station, operator "
            "FROM unit_places WHERE bin = ? ORDER BY lpn",
            (bin_key(bin),),
        )
        return [Place(*r) for r in rows]

    def waiting_for_put_away(self, limit: int = 200) -> list[tuple[Unit, str, str]]:
        """Units inspected here with a channel and never put away, longest waiting first, each with its category
        and its RMA's priority."""
        rows = self.conn.execute(
            "SELECT i.lpn, i.rma_code, i.line_no, i.unit_no, l.sku, l.description, i.final, i.channel, i.bin, "
            "i.station, i.ended_at, l.category, r.priority FROM inspections i "
            "LEFT JOIN rma_lines l ON l.rma_code = i.rma_code AND l.line_no = i.line_no "
            "LEFT JOIN rmas r ON r.code = i.rma_code "
            "LEFT JOIN unit_places p ON p.lpn = i.lpn "
            "WHERE i.lpn IS NOT NULL AND i.channel != '' AND p.lpn IS NULL ORDER BY i.ended_at LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            (Unit(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", *r[6:11]), r[11] or "general", r[12] or "standard")
            for r in rows
        ]
