"""What every `rma` command shares: one-line failures, the settings in force, the station database, options,
and putting labels out (``--out`` or the printer, through the station's print queue).

Each command module imports this one, never the package: ``terminal.cli`` only assembles them.
"""

from __future__ import annotations

import sys
import unicodedata
from gettext import gettext as _
from gettext import ngettext
from pathlib import Path
from typing import NoReturn

import click

import labels
from labels import FORMATS, Label, LabelError, PrinterError, open_printer, render
from sync.store import Store, StoreError
from terminal import config as station_config
from terminal.i18n import N_


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and exit."""
    click.echo(f"rma: {message}", err=True)
    sys.exit(code)


def columns(text: str) -> int:
    """The terminal columns ``text`` takes: two for a wide (CJK) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def padded(text: str, width: int) -> str:
    """``text`` with spaces after it up to ``width`` terminal columns (``f"{text:14}"`` counts characters)."""
    return text + " " * max(0, width - columns(text))


def settings_from(ctx: click.Context, **flags) -> station_config.Settings:
    """The settings in force: defaults, config file, then these flags."""
    try:
        return station_config.load(ctx.obj.get("config"), **flags)
    except station_config.ConfigError as exc:
        fail(str(exc))


def open_store(settings: station_config.Settings) -> Store:
    """Open the station database or exit with the reason."""
    try:
        return Store(settings.db_path, create_folder=settings.db_is_default)
    except StoreError as exc:
        fail(str(exc))


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_("Station database file (default: the user's data folder)."),
)
station_option = click.option("--station", default=None, help=N_("Station id (default: config file, then host name)."))
encoding_option = click.option(
    "--encoding",
    default="",
    metavar="NAME",
    help=N_("The file's encoding, e.g. gbk, gb18030, utf-8 (default: its byte-order mark, else UTF-8, else GB18030)."),
)


def output_options(fn):
    """--format, --dpi, --out, --printer: shared by every label command."""
    fn = click.option(
        "--printer",
        "printer_url",
        default=None,
        metavar="URL",
        help=N_("tcp://HOST:9100, cups:QUEUE or file:PATH (default: the station's printer)."),
    )(fn)
    fn = click.option(
        "--out",
        type=click.Path(dir_okay=False, allow_dash=True),
        default=None,
        help=N_("Write to this file instead of printing ('-' = standard output)."),
    )(fn)
    fn = click.option(
        "--dpi",
        type=click.Choice(["203", "300"]),
        default=None,
        help=N_("Printer resolution (default: the printer's, else 203)."),
    )(fn)
    fn = click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help=N_("zpl, png, pdf or svg (default: from --out's suffix, else the printer's)."),
    )(fn)
    return fn


def station_printer(url: str, missing: str):
    """The printer at ``url``, or exit with ``missing`` (no URL) or the printer's own one line."""
    if not url:
        fail(missing)
    try:
        return open_printer(url)
    except PrinterError as exc:
        fail(str(exc))


def deliver(
    ctx: click.Context,
    made: list[Label],
    fmt: str | None,
    dpi: str | None,
    out: str | None,
    printer_url: str | None,
    db: str | None = None,
) -> None:
    """Render the labels and write or print them, or exit with one line."""
    printer = None
    if out is None:
        printer = station_printer(
            printer_url or settings_from(ctx, db=db).printer,
            _("say where the labels go: --out PATH or --printer URL (no printer in the station config)"),
        )
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out and out != "-" else ""
        fmt = suffix if suffix in FORMATS else (printer.format if printer else "zpl")
    resolution = int(dpi) if dpi else (printer.dpi if printer else 203)
    # a CJK font the ZPL printer holds (station.toml zpl_cjk_font): Chinese as text in it, not as graphics
    cjk_font = settings_from(ctx, db=db).zpl_cjk_font if fmt == "zpl" else ""
    try:
        if printer is not None:
            printer.check_format(fmt)
        documents = render(made, fmt, resolution, zpl_cjk_font=cjk_font)
    except (LabelError, PrinterError) as exc:
        fail(str(exc))
    if printer is not None:
        if len(documents) > 1:
            fail(
                _("{count} {format} labels are {count} files; print zpl or pdf, or use --out").format(
                    count=len(made), format=fmt
                )
            )
        job_id = queue_and_print(
            settings_from(ctx, db=db), printer, documents[0], fmt, ", ".join(f"{lbl.kind} {lbl.name}" for lbl in made)
        )
        click.echo(
            ngettext(
                "printed {count} label on {printer} (job {job})",
                "printed {count} labels on {printer} (job {job})",
                len(made),
            ).format(count=len(made), printer=printer.url, job=job_id)
        )
        return
    assert out is not None  # no printer: --out was given
    if out == "-":
        sys.stdout.buffer.write(b"".join(documents))
        return
    paths = [Path(out)] if len(documents) == 1 else labels.file_per_label(out, made, fmt)
    if not paths[0].parent.is_dir():
        fail(_("folder {folder} does not exist").format(folder=paths[0].parent))
    for path, document in zip(paths, documents, strict=True):
        try:
            path.write_bytes(document)
        except OSError as exc:
            fail(_("cannot write {path}: {error}").format(path=path, error=exc.strerror))
    click.echo(
        ngettext("wrote {count} label to {files}", "wrote {count} labels to {files}", len(made)).format(
            count=len(made), files=", ".join(map(str, paths))
        )
    )


def queue_and_print(settings, printer, document: bytes, fmt: str, what: str) -> int:
    """Keep the document as a job in the station's print queue and print it now; exit 1 if not confirmed."""
    from terminal.printing import PrintQueue, PrintQueueError, print_now, queue_path_for

    if settings.db_is_default:
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    with PrintQueue(queue_path_for(settings.db_path), printer) as queue:
        try:
            job_id, waits = print_now(queue, document, fmt=fmt, what=what)
        except PrintQueueError as exc:
            fail(_("{error}; nothing printed").format(error=exc))
    if waits is not None:
        fail(
            _(
                "{problem}; job {job} waits in the print queue (rma label jobs; the station retries it, "
                "or rma label reprint)"
            ).format(problem=waits, job=job_id)
        )
    return job_id
