"""`rma station`, `rma demo`, `rma config`: start the station screens, try them on a demo, see the settings."""

from __future__ import annotations

from gettext import gettext as _
from gettext import ngettext

import click

from sync.store import StoreError
from terminal import config as station_config
from terminal.cli.common import db_option, fail, open_store, settings_from, station_option
from terminal.i18n import N_, number


@click.command()
@db_option
@station_option
@click.option("--operator", default=None, help=N_("Sign this operator in at start."))
@click.option("--camera", default=None, help=N_('Camera: device index (0), video file or stream URL; "" = none.'))
@click.pass_context
def station(ctx: click.Context, db: str | None, station: str | None, operator: str | None, camera: str | None) -> None:
    """Start the station screens: receiving (F6) and QC inspection (F7)."""
    settings = settings_from(ctx, db=db, station=station, camera=camera)
    with open_store(settings) as store:  # fail here, with one line, rather than inside the screen
        if operator and store.operator(operator) is None:
            fail(
                _("{operator} is not a registered operator; nobody signed in (rma operator add {operator})").format(
                    operator=operator
                )
            )
    from terminal.app import make_app

    make_app(settings, operator=operator).run()


@click.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_(
        "Demo database file, kept (default: a new rma-demo-* folder in the temporary directory, "
        "removed when the station quits)."
    ),
)
@click.option("--rmas", "count", default=200, show_default=True, help=N_("How many demo RMAs to create."))
@click.option("--no-station", is_flag=True, help=N_("Only create the database (kept), do not start the station."))
@click.pass_context
def demo(ctx: click.Context, db: str | None, count: int, no_station: bool) -> None:
    """Create a throw-away demo database, with a file printer and a sample camera, and start the station on it."""
    from terminal.demo import NotADemoDatabase, create_demo_database, demo_session, film_demo_camera, queue_demo_badge

    with demo_session(db, keep=no_station) as session:
        if not session.folder.is_dir():
            fail(_("folder {folder} does not exist").format(folder=session.folder))
        try:
            create_demo_database(session.db, count)
        except (StoreError, NotADemoDatabase) as exc:
            fail(str(exc))
        fate = _(" (removed when the station quits; --db PATH keeps one)") if session.temporary else ""
        click.echo(
            ngettext(
                "demo database with {count} RMA: {db}{fate}", "demo database with {count} RMAs: {db}{fate}", count
            ).format(count=number(count), db=session.db, fate=fate)
        )
        if no_station:
            return
        try:
            film_demo_camera(session.camera)
            queue_demo_badge(session)
        except OSError as exc:
            fail(
                _("cannot prepare the demo's camera and printer in {folder}: {error}").format(
                    folder=session.folder, error=exc
                )
            )
        click.echo(
            _("demo printer {printer} (F9: print jobs); demo camera {camera} (F8)").format(
                printer=session.printer, camera=session.camera
            )
        )
        from terminal.app import make_app

        make_app(
            settings_from(
                ctx, db=str(session.db), station="demo-bench", printer=session.printer, camera=session.camera
            ),
            notice=session.notice,
        ).run()
    click.echo(
        _("removed the demo folder {folder}").format(folder=session.folder)
        if session.temporary
        else _("demo database kept: {db}").format(db=session.db)
    )


@click.command("config")
@db_option
@station_option
@click.pass_context
def show_config(ctx: click.Context, db: str | None, station: str | None) -> None:
    """Show the settings in force and where each came from."""
    settings = settings_from(ctx, db=db, station=station)
    click.echo(
        _("config file: {path}").format(path=settings.config_path)
        if settings.config_path
        else _("config file: {path} (not present)").format(path=station_config.default_config_path())
    )
    for key in station_config.KEYS:
        value = getattr(settings, key)
        if key == "server_token" and value:
            value = value[:4] + "…"  # never print a secret in full
        if isinstance(value, tuple):
            value = ", ".join(value) or _("(none)")
        click.echo(f"{key:13} = {value!s:40}  ({_source(settings.sources[key])})")


# Where a setting came from, as terminal.config writes it: "default", "flag", "file PATH", "env VAR PATH".
SOURCE_WORDS = {"default": N_("default"), "flag": N_("flag"), "file": N_("file"), "env": N_("env")}


def _source(source: str) -> str:
    """A setting's source in the language in force; the path and variable name stay as they are."""
    word, space, rest = source.partition(" ")
    return (_(SOURCE_WORDS[word]) if word in SOURCE_WORDS else word) + space + rest
