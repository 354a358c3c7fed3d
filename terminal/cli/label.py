"""`rma label ...` — print or save the floor's labels from the command line.

Thin wrappers over :mod:`labels`: find the data (station database, CSV file,
the station's own command list), lay the labels out, then write them to
``--out PATH`` or send them to ``--printer URL`` (default: the station's
configured printer).  Bad input — an unknown RMA, an unreachable printer — is
one line on stderr and a non-zero exit; nothing is half-printed: every label
is made before the first byte goes out.  A print goes through the station's
print queue: a job the printer did not confirm stays waiting there (``rma label
jobs``), and the command says so and exits 1.
"""

from __future__ import annotations

from gettext import gettext as _
from gettext import ngettext

import click

import labels
from labels import LabelError
from terminal.cli.common import (
    db_option,
    deliver,
    encoding_option,
    fail,
    open_store,
    output_options,
    settings_from,
    station_printer,
)
from terminal.i18n import N_

SIZES = ("4x6", "4x2")


@click.group("label")
def label() -> None:
    """Print or save labels: RMA, disposition, command sheet, operator badge."""


@label.command("rma")
@click.argument("codes", nargs=-1)
@db_option
@click.option(
    "--from-csv",
    "csv_file",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_("Take the RMAs from a CSV/JSON file (columns of `rma import rmas`) instead of the database."),
)
@encoding_option
@click.option("--size", type=click.Choice(SIZES), default="4x6", show_default=True, help=N_("Label size in inches."))
@output_options
@click.pass_context
def label_rma(
    ctx: click.Context,
    codes: tuple[str, ...],
    db: str | None,
    csv_file: str | None,
    encoding: str,
    size: str,
    fmt,
    dpi,
    out,
    printer_url,
) -> None:
    """RMA labels for the RMA CODEs in the station database, or for every RMA in --from-csv FILE."""
    if bool(codes) == bool(csv_file):
        fail(_("give RMA codes or --from-csv FILE (one of the two)"))
    rows: list[dict] = []
    if csv_file:
        from sync.imports import ImportFileError, read_rma_file

        try:
            parsed = read_rma_file(csv_file, encoding=encoding)
        except ImportFileError as exc:
            fail(str(exc))
        if parsed.errors:
            where, reason = parsed.errors[0]
            more = len(parsed.errors) - 1
            fail(
                (
                    _("{file}:{line}: {problem} (and {count} more); no labels made")
                    if more
                    else _("{file}:{line}: {problem}; no labels made")
                ).format(file=csv_file, line=where, problem=reason, count=more)
            )
        rows = [p.rma for p in parsed.rmas]
        if not rows:
            fail(_("{file} holds no RMAs").format(file=csv_file))
    else:
        with open_store(settings_from(ctx, db=db)) as store:
            for code in codes:
                rma = store.get_rma(code)
                if rma is None:
                    fail(_("RMA {code} is not in the station database; nothing printed").format(code=code))
                rows.append(
                    {
                        "rma_code": rma.code,
                        "customer_name": rma.customer_name,
                        "order_ref": rma.order_ref,
                        "reason": rma.reason,
                    }
                )
    try:
        made = [
            labels.rma_label(
                r["rma_code"],
                customer=r.get("customer_name", ""),
                order=r.get("order_ref", ""),
                reason=r.get("reason", ""),
                size=size,
            )
            for r in rows
        ]
    except LabelError as exc:
        fail(str(exc))
    deliver(ctx, made, fmt, dpi, out, printer_url, db)


@label.command("disposition")
@click.argument("rma_code")
@click.argument("line", type=int)
@click.argument("disposition", type=click.Choice(labels.DISPOSITIONS, case_sensitive=False))
@click.option("--grade", default="", help=N_("Grade given at inspection (e.g. A, B)."))
@click.option("--defect", default="", help=N_("The main defect found."))
@click.option("--inspector", default="", help=N_("Who inspected."))
@click.option("--sku", default=None, help=N_("SKU to print (default: the RMA line's, from the database)."))
@db_option
@output_options
@click.pass_context
def label_disposition(
    ctx: click.Context,
    rma_code: str,
    line: int,
    disposition: str,
    grade: str,
    defect: str,
    inspector: str,
    sku: str | None,
    db: str | None,
    fmt,
    dpi,
    out,
    printer_url,
) -> None:
    """A disposition label for LINE of RMA_CODE: RESELLABLE, DISCOUNTED or SCRAPPED."""
    if sku is None:
        with open_store(settings_from(ctx, db=db)) as store:
            rma = store.get_rma(rma_code)
        if rma is None:
            fail(_("RMA {code} is not in the station database; give --sku to print anyway").format(code=rma_code))
        found = next((ln for ln in rma.lines if ln.line_no == line), None)
        if found is None:
            fail(
                _("RMA {code} has no line {line} (lines: {lines})").format(
                    code=rma.code, line=line, lines=", ".join(str(ln.line_no) for ln in rma.lines)
                )
            )
        sku, rma_code = found.sku, rma.code
    try:
        made = [
            labels.disposition_label(
                disposition, sku=sku, rma=rma_code, line=line, grade=grade, defect=defect, inspector=inspector
            )
        ]
    except LabelError as exc:
        fail(str(exc))
    deliver(ctx, made, fmt, dpi, out, printer_url, db)


@label.command("commands")
@output_options
@click.pass_context
def label_commands(ctx: click.Context, fmt, dpi, out, printer_url) -> None:
    """The command sheets: a barcode for every command the station's scan router knows."""
    from terminal.scanning.scan import COMMANDS

    deliver(ctx, labels.command_sheets(COMMANDS), fmt, dpi, out, printer_url)


@label.command("badge")
@click.argument("operator_id")
@click.option("--name", default="", help=N_("The name printed on the badge (default: the operator id)."))
@output_options
@click.pass_context
def label_badge(ctx: click.Context, operator_id: str, name: str, fmt, dpi, out, printer_url) -> None:
    """An operator badge: OPERATOR_ID as the barcode OP:<id>, and the name."""
    try:
        made = [labels.badge_label(operator_id, name)]
    except LabelError as exc:
        fail(str(exc))
    deliver(ctx, made, fmt, dpi, out, printer_url)


@label.command("bin")
@click.argument("name")
@output_options
@click.pass_context
def label_bin(ctx: click.Context, name: str, fmt, dpi, out, printer_url) -> None:
    """A bin's label: NAME as the barcode BIN:<name>, and the channels the bin takes (put-away scans it)."""
    from terminal.putaway import BinsUnavailable, station_bins

    settings = settings_from(ctx)
    try:
        bins = station_bins(settings)
    except BinsUnavailable as exc:
        fail(str(exc))
    key = " ".join(name.split()).upper()
    if key not in bins:
        fail(
            _("no bin {bin} at this station; bins: {bins} (add one under [bins] in station.toml)").format(
                bin=key or "''", bins=", ".join(sorted(bins))
            )
        )
    try:
        made = [labels.bin_label(key, sorted(bins[key]))]
    except LabelError as exc:
        fail(str(exc))
    deliver(ctx, made, fmt, dpi, out, printer_url)


@label.command("container")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["bin", "tote", "gaylord", "pallet"]),
    default=None,
    help=N_("What the container is, printed on its label (default: as recorded, else bin)."),
)
@click.option(
    "--takes",
    multiple=True,
    metavar="CHANNEL",
    help=N_("A channel the container takes (repeat for more); needed for a container the station does not have yet."),
)
@db_option
@click.option("--operator", default=None, help=N_("Operator id recorded on the event (default: the station id)."))
@output_options
@click.pass_context
def label_container(
    ctx: click.Context, name: str, kind: str, takes: tuple[str, ...], db, operator, fmt, dpi, out, printer_url
) -> None:
    """A container's label (bin, tote, gaylord, pallet): NAME as the barcode BIN:<name>, its kind and channels.

    A new container (a tote, a pallet) is recorded at the station with the
    channels it takes (--takes); put-away then takes it like a bin.
    """
    from sync.store import ContainerRefused, StoreError
    from terminal.containers import container_name, label_of
    from terminal.putaway import BinsUnavailable, station_bins

    settings = settings_from(ctx, db=db)
    try:
        bins = station_bins(settings)
    except BinsUnavailable as exc:
        fail(str(exc))
    with open_store(settings) as store:
        try:
            found = store.register_container(
                container_name(name), kind, takes, settings.station, operator or settings.station, bins=bins
            )
        except ContainerRefused as exc:
            fail(f"{_(exc.refusal.value)}: {exc}")
        except StoreError as exc:
            fail(str(exc))
    try:
        made = [label_of(found)]
    except LabelError as exc:
        fail(str(exc))
    deliver(ctx, made, fmt, dpi, out, printer_url, db)


@label.command("jobs")
@db_option
@click.option("--limit", default=20, show_default=True, help=N_("How many of the latest jobs."))
@click.pass_context
def label_jobs(ctx: click.Context, db: str | None, limit: int) -> None:
    """The station's print queue: latest jobs first, waiting ones with their last error."""
    from terminal.printing import PrintQueue, PrintQueueError, queue_path_for

    settings = settings_from(ctx, db=db)
    path = queue_path_for(settings.db_path)
    if not path.is_file():
        click.echo(_("no print jobs yet"))
        return
    with PrintQueue(path, None) as queue:
        try:
            jobs = queue.jobs(limit)
        except PrintQueueError as exc:
            fail(str(exc))
    for job in jobs:
        when = (job.printed_at or job.created_at)[:19].replace("T", " ")
        note = (
            ngettext("  ({count} try: {error})", "  ({count} tries: {error})", job.attempts).format(
                count=job.attempts, error=job.last_error
            )
            if job.state == "waiting" and job.attempts
            else ""
        )
        click.echo(f"{job.id:>5}  {job.state:8} {when}  {job.format:3}  {job.what}{note}")


@label.command("reprint")
@click.argument("job_id", type=int)
@db_option
@click.option("--printer", "printer_url", default=None, metavar="URL", help=N_("Printer (default: the station's)."))
@click.pass_context
def label_reprint(ctx: click.Context, job_id: int, db: str | None, printer_url: str | None) -> None:
    """Queue print job JOB_ID again and print what waits; a job the printer refuses stays queued."""
    from terminal.printing import PrintQueue, PrintQueueError, queue_path_for, reprint_now

    settings = settings_from(ctx, db=db)
    path = queue_path_for(settings.db_path)
    if not path.is_file():
        fail(_("no print job {job}").format(job=job_id))  # the job comes first: without it no printer can help
    with PrintQueue(path, None) as queue:
        try:
            queue.data(job_id)
        except PrintQueueError as exc:
            missing = "no print job" in str(exc) or str(exc) == _("there is no print job {job_id}").format(
                job_id=job_id
            )
            fail(_("no print job {job} (rma label jobs lists them)").format(job=job_id) if missing else str(exc))
    printer = station_printer(
        printer_url or settings.printer, _("no printer: give --printer URL or set printer in the station config")
    )
    with PrintQueue(path, printer) as queue:
        try:
            new_id, printed = reprint_now(queue, job_id)
        except PrintQueueError as exc:
            fail(str(exc))
        if printed is False:
            fail(
                _(
                    "printer {printer} not ready ({status}); job {job} kept in the queue, "
                    "the station prints it when the printer is back"
                ).format(printer=printer.url, status=queue.status, job=new_id)
            )
    click.echo(_("reprinted job {old} as job {new} on {printer}").format(old=job_id, new=new_id, printer=printer.url))
