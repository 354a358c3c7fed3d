"""`rma putaway`: put an inspected unit into a bin, or say where it is, without the screen."""

from __future__ import annotations

from gettext import gettext as _

import click

from sync.store import PutAwayRefused, StoreError
from terminal.cli.common import db_option, fail, open_store, settings_from, station_option
from terminal.containers import shipped_line_of
from terminal.i18n import N_
from terminal.putaway import BinsUnavailable, put_away_line, station_bins, where_line
from terminal.scanning import Kind, read_scan


@click.command("putaway")
@click.argument("lpn")
@click.argument("bin", required=False)
@click.option("--where", is_flag=True, help=N_("Only say where the unit is now; record nothing."))
@db_option
@station_option
@click.option("--operator", default=None, help=N_("Operator id recorded on the put-away (default: the station id)."))
@click.pass_context
def putaway(
    ctx: click.Context,
    lpn: str,
    bin: str | None,
    where: bool,
    db: str | None,
    station: str | None,
    operator: str | None,
) -> None:
    """Put the unit with license plate LPN into BIN (as on its label, or scanned: BIN:B-GRADE).

    The bin must take the unit's channel; a refusal is one line on stderr, exit 1, nothing recorded.
    With --where, print where the unit is now.
    """
    settings = settings_from(ctx, db=db, station=station)
    if where and bin:
        fail(_("--where takes only the LPN, not a bin (see rma putaway --help)"), 2)
    if not where and not bin:
        fail(_("which bin? rma putaway LPN BIN, or rma putaway --where LPN (see rma putaway --help)"), 2)
    try:
        bins = station_bins(settings)
    except BinsUnavailable as exc:
        fail(str(exc))
    with open_store(settings) as store:
        try:
            if where:
                unit = store.unit_by_lpn(lpn)
                if unit is None:
                    fail(_("{lpn} is on no unit inspected at this station").format(lpn=lpn.strip()[:40]))
                if shipped := store.shipment_of(unit.lpn):
                    click.echo(shipped_line_of(unit.lpn, *shipped))
                    return
                click.echo(where_line(unit, store.place_of(unit.lpn), store.bin_of(unit, bins)))
                return
            scan = read_scan(bin or "", source="cli")
            name = scan.value if scan.kind == Kind.BIN else scan.text
            done = store.put_away(lpn, name, settings.station, operator or settings.station, bins=bins)
        except PutAwayRefused as exc:
            fail(f"{_(exc.refusal.value)}: {exc}")
        except StoreError as exc:
            fail(str(exc))
    click.echo(put_away_line(done))
