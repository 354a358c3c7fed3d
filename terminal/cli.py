"""`rma` — the station's command line: thin wrappers over the library.

Every command exits non-zero with one clear line on stderr when it cannot do
its job; none prints a traceback for bad input.
"""

from __future__ import annotations

import sys

import click

from sync.store import Outcome, Store, StoreError
from terminal import config as station_config
from terminal.scanning import Kind, read_scan


def fail(message: str, code: int = 1) -> None:
    """Print one line on stderr and exit."""
    click.echo(f"rma: {message}", err=True)
    sys.exit(code)


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


db_option = click.option("--db", type=click.Path(dir_okay=False), default=None,
                         help="Station database file (default: the user's data folder).")
station_option = click.option("--station", default=None, help="Station id (default: config file, then host name).")


class OneLineGroup(click.Group):
    """The `rma` group: a usage error is one line on stderr naming the help, not Click's three.

    It also offers the commands other installed distributions add (entry point group
    ``rma.commands``): the central server, where it is installed, is ``rma server``. The
    station itself never imports the server.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(ep.name for ep in _plug_ins())})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None:
            found = next((ep.load() for ep in _plug_ins() if ep.name == name), None)
        if found is None and name == "server":
            return _server_missing
        return found

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else (prog_name or "rma")
            message = " ".join(exc.format_message().split()).rstrip(".")
            fail(f"{message} (see {where} --help)", exc.exit_code)
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code)
        except click.Abort:
            fail("stopped; nothing more was done")
        sys.exit(code if isinstance(code, int) else 0)


def _plug_ins():
    from importlib.metadata import entry_points

    return entry_points(group="rma.commands")


@click.command("server", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def _server_missing() -> None:
    """The central server (not installed here: pip install ./server)."""
    fail("the central server is not installed on this machine; install it with `pip install ./server` "
         "(the rma-server distribution), then run `rma server` or `rma-server`")


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help=f"Station config file (default: ${station_config.CONFIG_ENV}, "
                   f"then {station_config.default_config_path()}).")
@click.pass_context
def rma(ctx: click.Context, config: str | None) -> None:
    """RMA Station: receive, inspect and sort customer returns, offline first."""
    ctx.obj = {"config": config}


@rma.command()
@db_option
@station_option
@click.option("--operator", default=None, help="Sign this operator in at start.")
@click.option("--camera", default=None, help="Camera: device index (0), video file or stream URL; \"\" = none.")
@click.pass_context
def station(ctx: click.Context, db: str | None, station: str | None, operator: str | None,
            camera: str | None) -> None:
    """Start the station screens: receiving (F6) and QC inspection (F7)."""
    settings = settings_from(ctx, db=db, station=station, camera=camera)
    with open_store(settings) as store:  # fail here, with one line, rather than inside the screen
        if operator and store.operator(operator) is None:
            fail(f"{operator} is not a registered operator; nobody signed in (rma operator add {operator})")
    from terminal.app import make_app

    make_app(settings, operator=operator).run()


@rma.command()
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Demo database file, kept (default: a new rma-demo-* folder in the temporary directory, "
                   "removed when the station quits).")
@click.option("--rmas", "count", default=200, show_default=True, help="How many demo RMAs to create.")
@click.option("--no-station", is_flag=True, help="Only create the database (kept), do not start the station.")
@click.pass_context
def demo(ctx: click.Context, db: str | None, count: int, no_station: bool) -> None:
    """Create a throw-away demo database, with a file printer and a sample camera, and start the station on it."""
    from terminal.demo import NotADemoDatabase, create_demo_database, demo_session, film_demo_camera, queue_demo_badge

    with demo_session(db, keep=no_station) as session:
        if not session.folder.is_dir():
            fail(f"folder {session.folder} does not exist")
        try:
            create_demo_database(session.db, count)
        except (StoreError, NotADemoDatabase) as exc:
            fail(str(exc))
        fate = " (removed when the station quits; --db PATH keeps one)" if session.temporary else ""
        click.echo(f"demo database with {count} RMAs: {session.db}{fate}")
        if no_station:
            return
        try:
            film_demo_camera(session.camera)
            queue_demo_badge(session)
        except OSError as exc:
            fail(f"cannot prepare the demo's camera and printer in {session.folder}: {exc}")
        click.echo(f"demo printer {session.printer} (F9: print jobs); demo camera {session.camera} (F8)")
        from terminal.app import make_app

        make_app(settings_from(ctx, db=str(session.db), station="demo-bench", printer=session.printer,
                               camera=session.camera), notice=session.notice).run()
    click.echo(f"removed the demo folder {session.folder}" if session.temporary else
               f"demo database kept: {session.db}")


@rma.group("import")
def import_() -> None:
    """Load data into the station database."""


@import_.command("rmas")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@station_option
@click.option("--operator", default="import", show_default=True, help="Operator recorded on the import event.")
@click.pass_context
def import_rmas(ctx: click.Context, file: str, db: str | None, station: str | None, operator: str) -> None:
    """Upsert expected returns from a CSV or JSON FILE (columns: see README)."""
    from sync.imports import ImportFileError, RmaFile

    settings = settings_from(ctx, db=db, station=station)
    problems = 0

    def report(where: int, reason: str) -> None:
        nonlocal problems
        problems += 1
        click.echo(f"{file}:{where}: {reason}", err=True)

    try:
        source = RmaFile(file)
        source.check(report)  # every row read and checked before anything is stored
        with open_store(settings) as store:
            count = store.import_rmas(((p.rma, p.lines, p.tracking) for p in source.rmas()),
                                      station=settings.station, operator=operator, source=str(file))
    except (ImportFileError, StoreError) as exc:
        fail(str(exc))
    cleaned = f"; control/invisible characters removed from {source.cleaned} field(s)" if source.cleaned else ""
    click.echo(f"imported {count} RMAs ({source.lines_loaded} lines) from {file}; {problems} problem(s){cleaned}")
    if problems:
        sys.exit(1)


@rma.command()
@click.argument("codes", nargs=-1, required=True)
@db_option
@station_option
@click.option("--operator", default=None, help="Operator id recorded on each receipt (default: the station id).")
@click.pass_context
def receive(ctx: click.Context, codes: tuple[str, ...], db: str | None, station: str | None,
            operator: str | None) -> None:
    """Receive parcels by RMA code, tracking number or order reference, without the screen.

    Prints one line per code starting with its outcome; exits 1 if any was not received.
    """
    from terminal.receiving import describe

    settings = settings_from(ctx, db=db, station=station)
    all_received = True
    with open_store(settings) as store:
        for n, raw in enumerate(codes):
            if n and n % CHECKPOINT_EVERY == 0:
                checkpoint(store, truncate=False)
            scan = read_scan(raw, source="cli")
            if scan.kind in (Kind.EMPTY, Kind.GARBAGE):
                click.echo(f"NOT READ {scan.problem}")
                all_received = False
                continue
            if scan.kind != Kind.PARCEL and scan.kind != Kind.ITEM:
                click.echo(f"{Outcome.NOT_AN_RMA.value} {scan.shown} is a {scan.kind.value} barcode")
                all_received = False
                continue
            try:
                receipt = store.receive(scan.text, settings.station, operator or settings.station,
                                        item_barcode=scan.kind == Kind.ITEM)
            except StoreError as exc:
                left = len(codes) - n
                fail(f"{exc}; {scan.shown}" + (f" and the {left - 1} code(s) after it" if left > 1 else "")
                     + " not received — run again for them")
            click.echo(f"{receipt.outcome.value} {describe(receipt)}")
            all_received &= receipt.outcome == Outcome.RECEIVED
        checkpoint(store, truncate=True)
    sys.exit(0 if all_received else 1)


CHECKPOINT_EVERY = 100  # receipts of one `rma receive` between WAL checkpoints


def checkpoint(store: Store, *, truncate: bool) -> None:
    """Keep the WAL small over a long batch (a running station keeps it from being removed at exit)."""
    try:
        store.checkpoint(truncate=truncate)
    except StoreError:
        pass  # busy: the station's own checkpointer copies it later; every receipt is committed already


@rma.command()
@db_option
@click.pass_context
def conflicts(ctx: click.Context, db: str | None) -> None:
    """What the central server reported as conflicts, the events it refused, and each time this database
    was found older than the server's copy of the station (restored from an old copy).

    Both records of a conflict are kept on the server; a supervisor decides.
    """
    with open_store(settings_from(ctx, db=db)) as store:
        found, refused, restored = store.sync_conflicts(), store.sync_rejections(), store.restored_streams()
    for r in restored:
        click.echo(f"RESTORED at {r['found_at'][:16]} — {r['detail']}")
    for c in found:
        click.echo(f"CONFLICT {c['kind']} {c['rma_code']} stations {', '.join(c['stations'])} "
                   f"at {c['at'][:16]} — {c['detail']}")
    for r in refused:
        click.echo(f"REFUSED event {r['seq']} ({r['event_id'] or '?'}) — {r['reason']}")
    if not found and not refused and not restored:
        click.echo("no conflicts, no refused events (as of the last sync)")


@rma.command("config")
@db_option
@station_option
@click.pass_context
def show_config(ctx: click.Context, db: str | None, station: str | None) -> None:
    """Show the settings in force and where each came from."""
    settings = settings_from(ctx, db=db, station=station)
    click.echo(f"config file: {settings.config_path or station_config.default_config_path()}"
               f"{'' if settings.config_path else ' (not present)'}")
    for key in station_config.KEYS:
        value = getattr(settings, key)
        if key == "server_token" and value:
            value = value[:4] + "…"  # never print a secret in full
        if isinstance(value, tuple):
            value = ", ".join(value) or "(none)"
        click.echo(f"{key:13} = {value!s:40}  ({settings.sources[key]})")


from terminal.label_cli import label  # noqa: E402 - registered here, defined in its own module

rma.add_command(label)
from terminal.decode_cli import decode  # noqa: E402 (camera work lives in its own module)

rma.add_command(decode)
from terminal.checklist_cli import checklist  # noqa: E402  (its own module; one line here)

rma.add_command(checklist)
from terminal.operator_cli import import_operators, operator  # noqa: E402  (its own module)

rma.add_command(operator)
import_.add_command(import_operators)
from terminal import sync_commands  # noqa: E402  (the sync command registers here; the server is a plug-in)
for _command in sync_commands.COMMANDS: rma.add_command(_command)  # noqa: E701


def config_first(args: list[str]) -> list[str]:
    """Let ``--config PATH`` stand anywhere (``rma station --config x.toml``), as people type it.

    Click only takes a group's options before the subcommand, so it is moved there.
    """
    for n, arg in enumerate(args):
        if arg == "--":
            break
        if arg.startswith("--config="):
            return [arg, *args[:n], *args[n + 1:]]
        if arg == "--config" and n + 1 < len(args):
            return [arg, args[n + 1], *args[:n], *args[n + 2:]]
    return args


def main() -> None:
    """Console-script entry point."""
    rma(args=config_first(sys.argv[1:]), prog_name="rma")
