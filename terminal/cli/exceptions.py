"""`rma exception ...`: the exceptions of the floor without the screen.

Another parcel of a received RMA, a line closed as not received, an
undeclared item, and the unexpected parcels: list them, attach one to an RMA,
or create a blind RMA for it (a supervisor approves: ``--approved-by``, or a
supervisor's own ``--operator``).
"""

from __future__ import annotations

from gettext import gettext as _

import click

from sync.store import Store, StoreError
from terminal.cli.common import db_option, fail, open_store, settings_from, station_option
from terminal.i18n import N_

operator_option = click.option(
    "--operator", default=None, help=N_("Operator id recorded on the event (default: the station id).")
)
approved_option = click.option(
    "--approved-by",
    "approved_by",
    default="",
    metavar="SUPERVISOR",
    help=N_("The supervisor who approves it (default: the operator, who must then be a supervisor)."),
)


@click.group("exception")
def exception() -> None:
    """Second parcels, lines not received, undeclared items, unexpected parcels."""


def _run(ctx: click.Context, db: str | None, station: str | None, job) -> str:
    """Open the station database, run ``job(store, station)``; a refusal is one line on stderr, exit 1."""
    settings = settings_from(ctx, db=db, station=station)
    with open_store(settings) as store:
        try:
            return job(store, settings)
        except StoreError as exc:
            fail(str(exc))


@exception.command("parcel")
@click.argument("code")
@db_option
@station_option
@operator_option
@click.pass_context
def another_parcel(ctx: click.Context, code: str, db: str | None, station: str | None, operator: str | None) -> None:
    """The parcel in hand, whose label reads CODE, is another parcel of its RMA, received already (SECOND PARCEL)."""
    from terminal.exceptions import second_parcel_line

    def job(store: Store, settings) -> str:
        receipt = store.receive_another_parcel(code, settings.station, operator or settings.station)
        return _("SECOND PARCEL") + " " + second_parcel_line(receipt)

    click.echo(_run(ctx, db, station, job))


@exception.command("missing")
@click.argument("rma_code", metavar="RMA")
@click.argument("line", type=int)
@click.option("--units", type=click.IntRange(min=1), default=None, help=N_("How many units (default: all still open)."))
@db_option
@station_option
@operator_option
@click.pass_context
def not_received(
    ctx: click.Context,
    rma_code: str,
    line: int,
    units: int | None,
    db: str | None,
    station: str | None,
    operator: str | None,
) -> None:
    """Close the units of LINE of RMA that never arrived as not received (line.not_received)."""
    from terminal.exceptions import closed_line

    def job(store: Store, settings) -> str:
        return closed_line(
            store.close_not_received(rma_code, line, settings.station, operator or settings.station, units=units)
        )

    click.echo(_run(ctx, db, station, job))


@exception.command("undeclared")
@click.argument("rma_code", metavar="RMA")
@click.argument("barcode")
@click.option("--note", default="", help=N_("What the item is, its state."))
@click.option(
    "--photo", "photo_files", multiple=True, type=click.Path(dir_okay=False), help=N_("A photo of it (repeatable).")
)
@db_option
@station_option
@operator_option
@click.pass_context
def undeclared(
    ctx: click.Context,
    rma_code: str,
    barcode: str,
    note: str,
    photo_files: tuple[str, ...],
    db: str | None,
    station: str | None,
    operator: str | None,
) -> None:
    """Record an item found in RMA's parcel that no line declares, by its BARCODE: it gets a license plate and goes
    to the EXCEPTIONS bin (item.undeclared)."""
    from terminal.exceptions import undeclared_line
    from terminal.photos import PhotoError, photo_folder, photo_from_file

    def job(store: Store, settings) -> str:
        try:
            photos = [
                photo_from_file("undeclared", path, photo_folder(settings.db_path)).record() for path in photo_files
            ]
        except PhotoError as exc:
            fail(_("{problem}; nothing recorded").format(problem=exc))
        item = store.record_undeclared(
            rma_code, barcode, settings.station, operator or settings.station, note=note, photos=photos
        )
        return undeclared_line(item)

    click.echo(_run(ctx, db, station, job))


@exception.command("parcels")
@click.option("--all", "everything", is_flag=True, help=N_("Also those attached or given a blind RMA already."))
@db_option
@click.pass_context
def parcels(ctx: click.Context, everything: bool, db: str | None) -> None:
    """The unexpected parcels of this station, newest first: event id, what was scanned, when, where, by whom."""
    from terminal.exceptions import parcel_line

    def job(store: Store, settings) -> str:
        found = store.unexpected_parcels(waiting_only=not everything)
        return "\n".join(parcel_line(p) for p in found) or _("no unexpected parcel is waiting")

    click.echo(_run(ctx, db, None, job))


@exception.command("attach")
@click.argument("parcel")
@click.argument("rma_code", metavar="RMA")
@approved_option
@db_option
@station_option
@operator_option
@click.pass_context
def attach(
    ctx: click.Context,
    parcel: str,
    rma_code: str,
    approved_by: str,
    db: str | None,
    station: str | None,
    operator: str | None,
) -> None:
    """Attach the unexpected PARCEL (its event id, 8+ characters of it, or what was scanned) to RMA (parcel.attached).

    An RMA not received yet is received by it; a supervisor approves.
    """
    from terminal.exceptions import resolved_line

    def job(store: Store, settings) -> str:
        who = operator or settings.station
        return resolved_line(
            store.attach_parcel(parcel, rma_code, settings.station, who, approved_by=approved_by or who)
        )

    click.echo(_run(ctx, db, station, job))


def _line(text: str) -> dict:
    """A blind RMA's line as given: SKU, SKU:QTY or SKU:QTY:CATEGORY."""
    sku, _sep, rest = text.partition(":")
    qty, _sep, category = rest.partition(":")
    if not sku.strip() or (qty and not qty.strip().isdigit()):
        raise click.BadParameter(_("{line}: give SKU, SKU:QTY or SKU:QTY:CATEGORY").format(line=text))
    return {"sku": sku.strip(), "qty": int(qty or 1), "category": category.strip().lower() or "general"}


@exception.command("blind")
@click.argument("parcel")
@click.option(
    "--line",
    "lines",
    multiple=True,
    metavar="SKU[:QTY[:CATEGORY]]",
    help=N_("What the parcel holds, one line each (default: UNKNOWN:1)."),
)
@click.option("--customer", default="", help=N_("The customer's name, when the parcel says."))
@click.option("--note", default="", help=N_("Why, what was found (kept as the RMA's reason)."))
@approved_option
@db_option
@station_option
@operator_option
@click.pass_context
def blind(
    ctx: click.Context,
    parcel: str,
    lines: tuple[str, ...],
    customer: str,
    note: str,
    approved_by: str,
    db: str | None,
    station: str | None,
    operator: str | None,
) -> None:
    """Create a blind RMA for the unexpected PARCEL nobody authorised (rma.blind_created); it is received at once.

    A supervisor approves.
    """
    from terminal.exceptions import resolved_line

    try:
        rows = [_line(text) for text in lines]
    except click.BadParameter as exc:
        fail(str(exc.message), 2)

    def job(store: Store, settings) -> str:
        who = operator or settings.station
        done = store.create_blind_rma(
            parcel, settings.station, who, approved_by=approved_by or who, lines=rows, customer_name=customer, note=note
        )
        return resolved_line(done)

    click.echo(_run(ctx, db, station, job))
