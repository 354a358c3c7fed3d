"""`rma station`, `rma demo`, `rma config`: start the station screens, try them on a demo, see the settings."""

from __future__ import annotations

import click

from sync.store import StoreError
from terminal import config as station_config
from terminal.cli.common import db_option, fail, open_store, settings_from, station_option


@click.command()
@db_option
@station_option
@click.option("--operator", default=None, help="Sign this operator in at start.")
@click.option("--camera", default=None, help='Camera: device index (0), video file or stream URL; "" = none.')
@click.pass_context
def station(ctx: click.Context, db: str | None, station: str | None, operator: str | None, camera: str | None) -> None:
    """Start the station screens: receiving (F6) and QC inspection (F7)."""
    settings = settings_from(ctx, db=db, station=station, camera=camera)
    with open_store(settings) as store:  # fail here, with one line, rather than inside the screen
        if operator and store.operator(operator) is None:
            fail(f"{operator} is not a registered operator; nobody signed in (rma operator add {operator})")
    from terminal.app import make_app

    make_app(settings, operator=operator).run()


@click.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Demo database file, kept (default: a new rma-demo-* folder in the temporary directory, "
    "removed when the station quits).",
)
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

        make_app(
            settings_from(
                ctx, db=str(session.db), station="demo-bench", printer=session.printer, camera=session.camera
            ),
            notice=session.notice,
        ).run()
    click.echo(
        f"removed the demo folder {session.folder}" if session.temporary else f"demo database kept: {session.db}"
    )


@click.command("config")
@db_option
@station_option
@click.pass_context
def show_config(ctx: click.Context, db: str | None, station: str | None) -> None:
    """Show the settings in force and where each came from."""
    settings = settings_from(ctx, db=db, station=station)
    click.echo(
        f"config file: {settings.config_path or station_config.default_config_path()}"
        f"{'' if settings.config_path else ' (not present)'}"
    )
    for key in station_config.KEYS:
        value = getattr(settings, key)
        if key == "server_token" and value:
            value = value[:4] + "…"  # never print a secret in full
        if isinstance(value, tuple):
            value = ", ".join(value) or "(none)"
        click.echo(f"{key:13} = {value!s:40}  ({settings.sources[key]})")
