"""Containers and counts at the station: the lines a clerk reads and the manifest — shared by the screen and the CLI.

The store (:mod:`sync.store.containers`) closes, moves, ships and counts;
this module says what happened in words and lays the manifest out
(:func:`labels.manifest_labels`) from a closed container.
"""

from __future__ import annotations

from gettext import gettext as _
from gettext import ngettext

from labels import Label, container_label, manifest_labels
from sync.store import BinCount, Container, ContainerEvent
from terminal.putaway import channel_shown
from terminal.scanning import Kind, read_scan


def container_name(text: str) -> str:
    """A container's name as typed or scanned (``BIN:TOTE-7`` or ``tote-7``), in capitals."""
    scan = read_scan(text or "", source="cli")
    return scan.value if scan.kind == Kind.BIN else " ".join((text or "").split()).upper()


def kind_shown(kind: str) -> str:
    """A container's kind in the station's language."""
    return {"bin": _("bin"), "tote": _("tote"), "gaylord": _("gaylord"), "pallet": _("pallet")}.get(kind, kind)


def _when(at: str | None) -> str:
    return (at or "")[:16].replace("T", " ")


def container_line(container: Container) -> str:
    """One line for a container: kind, channels it takes, how many units, open or closed, where it stands."""
    takes = ", ".join(channel_shown(c) for c in container.takes) or "-"
    units = ngettext("{count} unit", "{count} units", len(container.contents)).format(count=len(container.contents))
    state = _("closed {when} UTC").format(when=_when(container.closed_at)) if container.closed else _("open")
    line = _("{name} ({kind}, takes {takes}): {units}, {state}").format(
        name=container.name, kind=kind_shown(container.kind), takes=takes, units=units, state=state
    )
    if container.location:
        line += ", " + _("at {location}").format(location=container.location)
    return line


def content_lines(container: Container) -> list[str]:
    """The units in a container by plate: plate, SKU, grade, channel, RMA line and unit."""
    return [
        _("{lpn}  {sku}  {grade}  {channel}  {rma} line {line} unit {unit}").format(
            lpn=c.lpn,
            sku=c.sku or "-",
            grade=c.grade or "-",
            channel=channel_shown(c.channel),
            rma=c.rma_code,
            line=c.line_no,
            unit=c.unit_no,
        )
        for c in container.contents
    ]


def last_count_line(container: Container) -> str:
    """When the container was last counted and what the count found wrong ('' if never)."""
    count = container.last_count
    if count is None:
        return ""
    if not count.missing and not count.extra:
        return _("Last counted {when} UTC by {operator}: as expected.").format(
            when=_when(count.at), operator=count.operator
        )
    return _("Last counted {when} UTC by {operator}: {missing} missing, {extra} extra.").format(
        when=_when(count.at), operator=count.operator, missing=len(count.missing), extra=len(count.extra)
    )


def closed_line(done: ContainerEvent) -> str:
    """One line for a container that was closed."""
    container = done.container
    counts = ", ".join(f"{channel_shown(ch)} {n}" for ch, n in container.channel_counts.items())
    return ngettext(
        "{name} closed with {count} unit ({counts}); it takes no more. Its manifest follows.",
        "{name} closed with {count} units ({counts}); it takes no more. Its manifest follows.",
        len(container.contents),
    ).format(name=container.name, count=len(container.contents), counts=counts)


def moved_line(done: ContainerEvent) -> str:
    """One line for a container that was moved."""
    return _("{name} moved to {to}.").format(name=done.container.name, to=done.to)


def shipped_line(done: ContainerEvent) -> str:
    """One line for a container that was shipped: its units left the building."""
    return ngettext(
        "{name} shipped to {to}: {count} unit left the building; {name} is empty and open again.",
        "{name} shipped to {to}: {count} units left the building; {name} is empty and open again.",
        len(done.container.contents),
    ).format(name=done.container.name, to=done.to, count=len(done.container.contents))


def shipped_line_of(lpn: str, container: str, to: str, at: str) -> str:
    """Where a shipped unit went (``rma putaway --where``)."""
    return _("{lpn} left the building in {container} to {to} on {when} UTC").format(
        lpn=lpn, container=container, to=to, when=_when(at)
    )


def count_line(count: BinCount) -> str:
    """One line for a count: expected, found, missing, extra."""
    if not count.missing and not count.extra:
        return _("{bin} counted: {found} of {expected} units found, as expected.").format(
            bin=count.bin, found=len(count.found), expected=len(count.expected)
        )
    return _("{bin} counted: {found} found, {expected} expected — {missing} missing, {extra} extra.").format(
        bin=count.bin,
        found=len(count.found),
        expected=len(count.expected),
        missing=len(count.missing),
        extra=len(count.extra),
    )


def count_detail(count: BinCount) -> list[str]:
    """One line per unit that is missing or extra."""
    return [_("missing: {lpn}").format(lpn=lpn) for lpn in count.missing] + [
        _("extra: {lpn}").format(lpn=lpn) for lpn in count.extra
    ]


def manifest(container: Container) -> list[Label]:
    """The manifest label(s) of a closed container."""
    closed = _("Closed {when} UTC by {operator} at {station}").format(
        when=_when(container.closed_at), operator=container.closed_by or "-", station=container.closed_station or "-"
    )
    return manifest_labels(
        container.name,
        kind=container.kind,
        units=[(c.lpn, c.sku, c.grade, channel_shown(c.channel)) for c in container.contents],
        channel_counts=[(channel_shown(ch), n) for ch, n in container.channel_counts.items()],
        grade_counts=list(container.grade_counts.items()),
        closed=closed,
        location=container.location,
    )


def label_of(container: Container) -> Label:
    """A container's own label (BIN:<name>, its kind, the channels it takes)."""
    return container_label(container.name, container.kind, list(container.takes))
