"""`rma sync` and `rma conflicts`: headless sync with the central server, and what it reported back."""

from __future__ import annotations

import signal
import sys
import threading
import time
from gettext import gettext as _
from gettext import ngettext

import click

from sync.store import StoreError
from terminal.cli.common import db_option, fail, open_store, settings_from
from terminal.i18n import N_, number


@click.command("sync")
@click.option("--once", "mode", flag_value="once", help=N_("One round: push, pull, exit."))
@click.option(
    "--watch",
    "mode",
    flag_value="watch",
    help=N_(
        "Keep syncing until interrupted: a failed round is one line on stderr and is tried again, "
        "backing off; only a token the server refuses ends it (exit 1)."
    ),
)
@db_option
@click.option("--server", "server_url", default=None, help=N_("Server URL (default: server_url from the config file)."))
@click.option("--token", default=None, envvar="RMA_SERVER_TOKEN", help=N_("Station token (default: config file)."))
@click.option(
    "--ca",
    "ca_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help=N_("CA bundle for a server with a private certificate authority."),
)
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    help=N_("Seconds between rounds with --watch (at least 1 after a push the server answered slowly)."),
)
@click.option(
    "--retries",
    default=5,
    show_default=True,
    type=click.IntRange(0, 50),
    help=N_("Retries of a failed call (exponential backoff with jitter) before giving up the round."),
)
@click.pass_context
def sync_command(
    ctx: click.Context,
    mode: str,
    db: str | None,
    server_url: str | None,
    token: str | None,
    ca_path: str | None,
    interval: float,
    retries: int,
) -> None:
    """Push the outbox to the central server and pull RMA, checklist and conflict changes."""
    from sync.client import SyncClient, SyncError

    if mode is None:
        raise click.UsageError(_("choose --once (one round, then exit) or --watch (keep syncing until stopped)"), ctx)
    settings = settings_from(ctx, db=db, server_url=server_url, server_token=token)
    if not settings.server_url:
        fail(_("no server: pass --server URL or set server_url in the config file"))
    stop = threading.Event()
    try:
        client = SyncClient(
            settings.server_url, settings.server_token, ca_path=ca_path, stop=stop, attempts=retries + 1
        )
    except SyncError as exc:
        fail(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_store(settings) as store:
        if mode == "once":
            try:
                _show(client.sync(store))
            except SyncError as exc:
                fail(sync_failure(exc, settings.server_url, store.unsent_count()))
            except StoreError as exc:  # the station's own database: busy, locked, full
                fail(str(exc))
            return
        failures = 0
        while not stop.is_set():
            try:
                _show(client.sync(store))
                failures = 0
            except SyncError as exc:
                # every passing failure (Retryable: unreachable, 5xx, an answer cut short) and a refusal (4xx,
                # which may be fixed on the server) are tried again, ever more slowly; a refused token is not
                click.echo(f"rma sync: {sync_failure(exc, settings.server_url, store.unsent_count())}", err=True)
                from sync.client import NotAuthorized

                if isinstance(exc, NotAuthorized):
                    sys.exit(1)
                failures += 1
            except StoreError as exc:  # the station's own database (busy, locked, full): the next round tries
                click.echo(f"rma sync: {exc}", err=True)
                failures += 1
            except KeyboardInterrupt:
                break
            try:
                # after a slow answer the server is busy: the next round waits (up to a second) to push more at once
                now = time.monotonic()
                stop.wait(max(min(300.0, interval * 2 ** min(failures, 6)), client.pacing.delay(now, now)))
            except KeyboardInterrupt:
                break


def _show(report) -> None:
    """One round's summary on stdout; what a person must know (a restored database) on stderr, once."""
    if report.restored:
        click.echo(f"rma sync: {report.restored}", err=True)
    click.echo(report.describe())


def sync_failure(exc: Exception, server_url: str, waiting: int) -> str:
    """One whole line for a failed sync: what happened, that nothing was lost."""
    from sync.client import Garbled, Unreachable, why_unreachable

    kept = ngettext("{count} event waiting, nothing lost", "{count} events waiting, nothing lost", waiting).format(
        count=number(waiting)
    )
    if isinstance(exc, Unreachable) and not isinstance(exc, Garbled):
        return _("server {url} unreachable: {why}; {kept}").format(url=server_url, why=why_unreachable(exc), kept=kept)
    return _("{error}; {kept}").format(error=exc, kept=kept)


@click.command()
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
        click.echo(_("RESTORED at {at} — {detail}").format(at=r["found_at"][:16], detail=r["detail"]))
    for c in found:
        click.echo(
            _("CONFLICT {kind} {rma} stations {stations} at {at} — {detail}").format(
                kind=c["kind"],
                rma=c["rma_code"],
                stations=", ".join(c["stations"]),
                at=c["at"][:16],
                detail=c["detail"],
            )
        )
    for r in refused:
        click.echo(
            _("REFUSED event {seq} ({id}) — {reason}").format(seq=r["seq"], id=r["event_id"] or "?", reason=r["reason"])
        )
    if not found and not refused and not restored:
        click.echo(_("no conflicts, no refused events (as of the last sync)"))
