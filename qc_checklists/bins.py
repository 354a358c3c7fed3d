"""Which bins take which channels: the routing rules' bins, and the ones a station adds.

A bin takes the channels whose bin it is: each channel's bin in the routing
file's ``bins:`` (a channel it does not name goes to a bin of its own name,
e.g. DONATE), and a rule's own ``bin:`` takes that rule's channel.  A station
may add bins (a second B-stock gaylord) in its ``station.toml``::

    [bins]
    B-GRADE-2 = ["b_stock"]
    OUTLET = ["b_stock", "donate"]

A bin named there that the rules name too takes the channels of both.
Bin names are compared in upper case, runs of spaces as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from gettext import gettext as _

from qc_checklists.routing import Channel, RoutingRules

CHANNELS = ", ".join(c.value for c in Channel)


def bin_name(name: str) -> str:
    """A bin's name as compared and printed: upper case, runs of white space as one space."""
    return " ".join(str(name).split()).upper()


def bin_table(
    rules: RoutingRules, station_bins: Mapping[str, Sequence[str]] | None = None
) -> dict[str, frozenset[str]]:
    """Bin name → the channel values it takes (ValueError, one line, for a station bin naming no channel)."""
    table: dict[str, set[str]] = {}
    for channel in Channel:
        table.setdefault(bin_name(rules.bin_for(channel)), set()).add(channel.value)
    for rule in rules.rules:
        if rule.bin:
            table.setdefault(bin_name(rule.bin), set()).add(rule.then.value)
    for name, channels in (station_bins or {}).items():
        if not bin_name(name):
            raise ValueError(_("a bin needs a name"))
        for value in channels:
            if value not in {c.value for c in Channel}:
                raise ValueError(
                    _("bin {bin}: unknown channel {channel!r}; use {channels}").format(
                        bin=bin_name(name), channel=value, channels=CHANNELS
                    )
                )
        table.setdefault(bin_name(name), set()).update(channels)
    return {name: frozenset(channels) for name, channels in table.items()}
