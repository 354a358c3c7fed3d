"""`rma container close|move|ship|show` and `rma count`: containers and counts without the screen.

Each command is one store call (:mod:`sync.store.containers`): a refusal is one
line on stderr, exit 1, nothing recorded.  Closing prints the container's
manifest (through the station's print queue, or ``--out``).
"""

from __future__ import annotations

from gettext import gettext as _

import click

from sync.store import ContainerRefused, PutAwayRefused, StoreError
from terminal.cli.common import db_option, deliver, fail, open_store, output_options, settings_from, station_option
from terminal.containers import (
    closed_line,
    container_line,
    container_name,
    content_lines,
    count_detail,
    count_line,
    last_count_line,
    manifest,
    moved_line,
    shipped_line,
)
from terminal.i18n import N_
from terminal.putaway import BinsUnavailable, station_bins

operator_option = click.option(
    "--operator", default=None, help=N_("Operator id recorded on the event (default: the station id).")
)


def _bins(settings) -> dict[str, frozenset[str]]:
    try:
        return station_bins(settings)
    except BinsUnavailable as exc:
        fail(str(exc))


def _refused(exc: StoreError):
    if isinstance(exc, ContainerRefused | PutAwayRefused):
        fail(f"{_(exc.refusal.value)}: {exc}")
    fail(str(exc))


def _recorded(ctx: click.Context, db: str | None, station: str | None, operator: str | None, act):
    """Run ``act(store, station, operator, bins)`` on the station's database; a refusal is one line and exit 1."""
    settings = settings_from(ctx, db=db, station=station)
    bins = _bins(settings)
    with open_store(settings) as store:
        try:
            return act(store, settings.station, operator or settings.station, bins)
        except StoreError as exc:
            _refused(exc)


@click.group("container")
def container() -> None:
    """Bins, totes, gaylords and pallets: show what is in them, close (prints the manifest), move, ship."""


@container.command("show")
@click.argument("name", required=False)
@click.option("--manifest", "reprint", is_flag=True, help=N_("Print the manifest of a closed container again."))
@db_option
@output_options
@click.pass_context
def show(ctx: click.Context, name: str | None, reprint: bool, db: str | None, fmt, dpi, out, printer_url) -> None:
    """What is in container NAME, by license plate (without NAME: every bin and container, one line each)."""
    settings = settings_from(ctx, db=db)
    bins = _bins(settings)
    with open_store(settings) as store:
        if not name:
            if reprint:
                fail(_("which container's manifest? rma container show NAME --manifest"), 2)
            for each in store.container_names(bins=bins):
                found = store.container(each, bins=bins)
                if found is not None:
                    click.echo(container_line(found))
            return
        found = store.container(container_name(name), bins=bins)
    if found is None:
        fail(
            _("no bin or container {name} at this station; see rma container show").format(
                name=container_name(name) or "''"
            )
        )
    if reprint:
        if not found.closed:
            fail(
                _("{name} is open: its manifest is printed when it is closed (rma container close {name})").format(
                    name=found.name
                )
            )
        deliver(ctx, manifest(found), fmt, dpi, out, printer_url, db)
        return
    click.echo(container_line(found))
    for line in content_lines(found):
        click.echo("  " + line)
    if last := last_count_line(found):
        click.echo(last)


@container.command("close")
@click.argument("name")
@db_option
@station_option
@operator_option
@output_options
@click.pass_context
def close(
    ctx: click.Context, name: str, db: str | None, station: str | None, operator: str | None, fmt, dpi, out, printer_url
) -> None:
    """Close container NAME: it takes no more units; its manifest is printed (or written to --out)."""
    settings = settings_from(ctx, db=db, station=station)
    if out is None and not (printer_url or settings.printer):
        fail(
            _(
                "say where the manifest goes: --out PATH or --printer URL (no printer in the station config); "
                "nothing recorded"
            )
        )
    bins = _bins(settings)
    with open_store(settings) as store:
        try:
            done = store.close_container(
                container_name(name), settings.station, operator or settings.station, bins=bins
            )
        except StoreError as exc:
            _refused(exc)
    click.echo(closed_line(done))
    deliver(ctx, manifest(done.container), fmt, dpi, out, printer_url, db)


@container.command("move")
@click.argument("name")
@click.argument("to")
@db_option
@station_option
@operator_option
@click.pass_context
def move(ctx: click.Context, name: str, to: str, db: str | None, station: str | None, operator: str | None) -> None:
    """Move container NAME to TO (a location or dock in the building)."""
    done = _recorded(
        ctx,
        db,
        station,
        operator,
        lambda store, at, who, bins: store.move_container(container_name(name), to, at, who, bins=bins),
    )
    click.echo(moved_line(done))


@container.command("ship")
@click.argument("name")
@click.argument("to", required=False, default="")
@db_option
@station_option
@operator_option
@click.pass_context
def ship(ctx: click.Context, name: str, to: str, db: str | None, station: str | None, operator: str | None) -> None:
    """Ship closed container NAME to TO (default: where it was moved): its units leave the building."""
    done = _recorded(
        ctx,
        db,
        station,
        operator,
        lambda store, at, who, bins: store.ship_container(container_name(name), to, at, who, bins=bins),
    )
    click.echo(shipped_line(done))


@click.command("count")
@click.argument("bin")
@click.argument("lpns", nargs=-1)
@db_option
@station_option
@operator_option
@click.pass_context
def count(
    ctx: click.Context, bin: str, lpns: tuple[str, ...], db: str | None, station: str | None, operator: str | None
) -> None:
    """Record a count of BIN: the license plates LPNS found in it; lists the missing and extra units.

    The count is recorded (exit 0) whatever it found; it moves no unit.
    """
    counted = _recorded(
        ctx,
        db,
        station,
        operator,
        lambda store, at, who, bins: store.count_bin(container_name(bin), lpns, at, who, bins=bins),
    )
    click.echo(count_line(counted))
    for line in count_detail(counted):
        click.echo("  " + line)
