"""Put-away at the station: the bins in force, and the lines a clerk reads — shared by the screen and `rma putaway`."""

from __future__ import annotations

from gettext import gettext as _
from pathlib import Path

from qc_checklists import Channel, RoutingInvalid, load_routing
from qc_checklists.bins import bin_table
from sync.store import EXCEPTIONS_BIN, EXCEPTIONS_CHANNEL, Place, PutAway, Unit
from terminal.config import Settings


class BinsUnavailable(Exception):
    """The bins cannot be known (routing rules invalid, a station bin naming no channel); one line for a person."""


def station_bins(settings: Settings, routing_file: str | Path | None = None) -> dict[str, frozenset[str]]:
    """The bins of this station, each with the channels it takes: the routing rules' and station.toml's ``[bins]``."""
    try:
        rules = load_routing(routing_file)
    except RoutingInvalid as exc:
        raise BinsUnavailable(
            _("the routing rules are invalid, so no bin is known (rma checklist routing): {problem}").format(
                problem=exc.problems[0] if exc.problems else "?"
            )
        ) from None
    try:
        table = bin_table(rules, settings.bins)
    except ValueError as exc:
        where = settings.config_path or "station.toml"
        raise BinsUnavailable(_("{file}: bins: {problem}").format(file=where, problem=exc)) from None
    # undeclared items (sync/store/exceptions.py) wait for the supervisor in the exceptions bin
    return {**table, EXCEPTIONS_BIN: table.get(EXCEPTIONS_BIN, frozenset()) | {EXCEPTIONS_CHANNEL}}


def channel_shown(channel: str) -> str:
    """A channel as printed: 'B-STOCK', 'RETURN TO VENDOR' ('-' for none)."""
    return EXCEPTIONS_BIN if channel == EXCEPTIONS_CHANNEL else Channel(channel).shown if channel else "-"


def goes_to(unit: Unit, bin: str) -> str:
    """The sort line for a scanned plate: which bin the unit goes to."""
    return _("{lpn} ({sku}, {channel}) goes to {bin}. Scan the label of bin {bin}.").format(
        lpn=unit.lpn, sku=unit.description or unit.sku, channel=channel_shown(unit.channel), bin=bin or "?"
    )


def put_away_line(done: PutAway) -> str:
    """One line for a put-away that was recorded."""
    unit = done.unit
    if done.from_bin:
        return _("{lpn} moved from {old} to {bin} ({channel}, {rma} line {line} unit {unit}).").format(
            lpn=unit.lpn,
            old=done.from_bin,
            bin=done.bin,
            channel=channel_shown(unit.channel),
            rma=unit.rma_code,
            line=unit.line_no,
            unit=unit.unit_no,
        )
    return _("{lpn} put away in {bin} ({channel}, {rma} line {line} unit {unit}).").format(
        lpn=unit.lpn,
        bin=done.bin,
        channel=channel_shown(unit.channel),
        rma=unit.rma_code,
        line=unit.line_no,
        unit=unit.unit_no,
    )


def where_line(unit: Unit, place: Place | None, right_bin: str) -> str:
    """Where a unit is now (``rma putaway --where``)."""
    if place is None:
        return _("{lpn} ({sku}, {channel}) is not put away yet; it goes to {bin}").format(
            lpn=unit.lpn, sku=unit.description or unit.sku, channel=channel_shown(unit.channel), bin=right_bin or "?"
        )
    return _("{lpn} ({sku}, {channel}) is in {bin} since {when} UTC (put by {operator} at {station})").format(
        lpn=unit.lpn,
        sku=unit.description or unit.sku,
        channel=channel_shown(unit.channel),
        bin=place.bin,
        when=place.at[:16].replace("T", " "),
        operator=place.operator,
        station=place.station,
    )
