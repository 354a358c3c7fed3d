"""`rma receive` and `rma import rmas`: receive parcels and load expected returns, without the screen."""

from __future__ import annotations

import sys
from gettext import gettext as _
from gettext import ngettext

import click

from sync.store import StoreError
from terminal.cli.common import db_option, encoding_option, fail, open_store, settings_from, station_option
from terminal.i18n import N_, number
from terminal.scanning import read_scan


@click.command("rmas")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@station_option
@click.option("--operator", default="import", show_default=True, help=N_("Operator recorded on the import event."))
@encoding_option
@click.pass_context
def import_rmas(
    ctx: click.Context, file: str, db: str | None, station: str | None, operator: str, encoding: str
) -> None:
    """Upsert expected returns from a CSV or JSON FILE (columns: see README; UTF-8, GBK/GB18030 or UTF-16)."""
    from qc_checklists.reasons import reason_code
    from sync.imports import ImportFileError, RmaFile

    settings = settings_from(ctx, db=db, station=station)
    problems = 0

    def report(where: int, reason: str) -> None:
        nonlocal problems
        problems += 1
        click.echo(f"{file}:{where}: {reason}", err=True)

    try:
        source = RmaFile(file, encoding=encoding)
        source.check(report)  # every row read and checked before anything is stored
        with open_store(settings) as store:
            count = store.import_rmas(
                # the customer's reason text is kept; its code (qc_checklists.reasons) is what reports group by
                (({**p.rma, "reason_code": reason_code(p.rma["reason"])}, p.lines, p.tracking) for p in source.rmas()),
                station=settings.station,
                operator=operator,
                source=str(file),
            )
    except (ImportFileError, StoreError) as exc:
        fail(str(exc))
    cleaned = (
        ngettext(
            "; control/invisible characters removed from {count} field",
            "; control/invisible characters removed from {count} fields",
            source.cleaned,
        ).format(count=number(source.cleaned))
        if source.cleaned
        else ""
    )
    read_as = "" if source.encoding.is_utf8 else _(" (read as {encoding})").format(encoding=source.encoding.name)
    click.echo(
        ngettext(
            "imported {count} RMA ({lines} lines) from {file}{read_as}; {problems} problem(s){cleaned}",
            "imported {count} RMAs ({lines} lines) from {file}{read_as}; {problems} problem(s){cleaned}",
            count,
        ).format(
            count=number(count),
            lines=number(source.lines_loaded),
            file=file,
            read_as=read_as,
            problems=number(problems),
            cleaned=cleaned,
        )
    )
    if problems:
        sys.exit(1)


@click.command()
@click.argument("codes", nargs=-1, required=True)
@db_option
@station_option
@click.option("--operator", default=None, help=N_("Operator id recorded on each receipt (default: the station id)."))
@click.pass_context
def receive(
    ctx: click.Context, codes: tuple[str, ...], db: str | None, station: str | None, operator: str | None
) -> None:
    """Receive parcels by RMA code, tracking number or order reference, without the screen.

    Prints one line per code starting with its outcome; exits 1 if any was not received.
    """
    from terminal.receiving import CHECKPOINT_EVERY, checkpoint, receive_typed

    settings = settings_from(ctx, db=db, station=station)
    all_received = True
    with open_store(settings) as store:
        for n, raw in enumerate(codes):
            if n and n % CHECKPOINT_EVERY == 0:
                checkpoint(store, truncate=False)
            scan = read_scan(raw, source="cli")
            try:
                received, line = receive_typed(store, scan, settings.station, operator or settings.station)
            except StoreError as exc:
                left = len(codes) - n
                if left > 1:
                    line = ngettext(
                        "{error}; {code} and the {count} code after it not received — run again for them",
                        "{error}; {code} and the {count} codes after it not received — run again for them",
                        left - 1,
                    ).format(error=exc, code=scan.shown, count=left - 1)
                else:
                    line = _("{error}; {code} not received — run again for it").format(error=exc, code=scan.shown)
                fail(line)
            click.echo(line)
            all_received &= received
        checkpoint(store, truncate=True)
    sys.exit(0 if all_received else 1)
