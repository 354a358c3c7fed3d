"""`rma server ...` and `rma sync`: the central server and headless sync, as thin click wrappers."""

from __future__ import annotations

import signal
import sys
import threading
import time

import click

from terminal.cli import db_option, fail, open_store, settings_from

DEFAULT_SERVER_DB = "rma-server.db"
server_db_option = click.option("--db", "db_url", default=DEFAULT_SERVER_DB, show_default=True, envvar="RMA_SERVER_DB",
                                help="SQLite file, or postgresql://user@host/dbname.")


POSTGRES_WAIT = 30.0   # seconds `rma server` waits for a PostgreSQL that is not accepting connections yet


def open_server_db(url: str, wait: float = POSTGRES_WAIT):
    """Open (and create) the server database or exit with the reason.

    A PostgreSQL that refuses connections or is still starting up is waited for, up to ``wait``
    seconds, with one line on stderr (the server and its database often start together); a wrong
    database name, user or password fails at once.
    """
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from sync.server.db import ServerDb, engine_url

    deadline, said = time.monotonic() + wait, False
    while True:
        try:
            return ServerDb(url)
        except OperationalError as exc:
            starting = not engine_url(url).startswith("sqlite") and _postgres_not_up(exc)
            if not starting or time.monotonic() > deadline:
                fail(f"cannot open server database {_shown(url)}: {_first_line(exc)}")
            if not said:
                click.echo(f"rma server: PostgreSQL at {_shown(url)} is not accepting connections yet "
                           f"({_first_line(exc)}); waiting up to {wait:.0f} s", err=True)
                said = True
            time.sleep(1.0)
        except SQLAlchemyError as exc:
            fail(f"cannot open server database {_shown(url)}: {_first_line(exc)}")
        except ImportError as exc:
            fail(f"cannot open server database {url}: {exc}")


def _postgres_not_up(exc) -> bool:
    """Whether a failed connection means PostgreSQL is not up yet (wait), not that it refused us (fail).

    psycopg gives no SQLSTATE for a failed connection: a server that answered says FATAL, and only
    "starting up" / "not yet accepting connections" (57P03) is worth waiting for; no answer at all
    (refused, no route, timeout) is a server still starting.
    """
    text = str(getattr(exc, "orig", None) or exc)
    if "FATAL" not in text:
        return True
    return any(s in text for s in ("starting up", "not yet accepting connections", "shutting down"))


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    from sync.server.db import engine_url

    if "://" not in url:
        return url
    try:
        return make_url(engine_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as given
        return url


def _first_line(exc) -> str:
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.group(invoke_without_command=True)
@server_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--rate", default=50.0, show_default=True, help="Requests per second allowed per token (0: no limit).")
@click.option("--burst", default=100, show_default=True, help="Requests a token may send at once above the rate.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (PostgreSQL only). Both rate limits are then per process: "
                   "a token may send --rate x N requests/s, an address fail --auth-failures x N times a minute.")
@click.option("--auth-failures", default=30.0, show_default=True,
              help="Failed authentications a minute allowed per client address, then 429 (0: no limit); "
                   "per process: with --workers N, set it to the total you want divided by N.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM); needs --tls-key.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None, help="The certificate's key.")
@click.pass_context
def server(ctx: click.Context, db_url: str, host: str, port: int, rate: float, burst: int, workers: int,
           auth_failures: float, tls_cert: str | None, tls_key: str | None) -> None:
    """Run the central server (SQLite file by default, or PostgreSQL)."""
    ctx.obj = dict(ctx.obj or {}, server_db=db_url)
    if ctx.invoked_subcommand:
        return
    from sync.server.run import make_server

    if bool(tls_cert) != bool(tls_key):
        fail("--tls-cert and --tls-key go together")
    sock = _listen_or_fail(host, port)  # before the banner: a busy port is one line, not uvicorn's
    port = sock.getsockname()[1]
    db = open_server_db(db_url)
    scheme = "https" if tls_cert else "http"
    click.echo(f"rma server: {db.database} database {db_url}, epoch {db.epoch()}, on {scheme}://{host}:{port}/api/v1",
               err=True)
    if workers > 1:
        if db.is_sqlite:
            fail("--workers needs PostgreSQL: a SQLite database is served by one process")
        import os

        import uvicorn

        db.close()
        sock.close()  # uvicorn's workers bind it themselves; it was free a moment ago
        os.environ.update(RMA_SERVER_DB=db_url, RMA_SERVER_RATE=str(rate), RMA_SERVER_BURST=str(burst),
                          RMA_SERVER_AUTH_FAILURES=str(auth_failures))
        uvicorn.run("sync.server.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, ssl_certfile=tls_cert, ssl_keyfile=tls_key,
                    http="sync.server.run:HeaderDeadline", timeout_keep_alive=5)
        return
    try:
        make_server(db, host=host, port=port, rate=rate, burst=burst, log_level="info", tls_cert=tls_cert,
                    tls_key=tls_key, auth_failures=auth_failures).run(sockets=[sock])
    finally:
        sock.close()
        db.close()


def _listen_or_fail(host: str, port: int):
    """A socket listening on host:port, or exit with one line saying why it cannot be had."""
    import errno
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind((host, port))
        sock.listen(2048)
        return sock
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"cannot listen on {host}:{port}: the port is in use (another rma server?); "
                 "stop it or choose another --port")
        if exc.errno == errno.EACCES:
            fail(f"cannot listen on {host}:{port}: not allowed (ports below 1024 need privileges); choose --port")
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _db_of(ctx: click.Context, db_url: str | None) -> str:
    return db_url or ctx.obj.get("server_db") or DEFAULT_SERVER_DB


@server.command("add-station")
@click.argument("name")
@click.option("--db", "db_url", default=None, help="Server database (as for `rma server`).")
@click.option("--integration", is_flag=True,
              help="A token for the ERP / returns portal: may create RMAs and checklists.")
@click.pass_context
def add_station(ctx: click.Context, name: str, db_url: str | None, integration: bool) -> None:
    """Register station NAME and print its token (shown this once; only its hash is kept)."""
    from sync.server.db import ServerError

    db = open_server_db(_db_of(ctx, db_url))
    try:
        token = db.add_station(name, "integration" if integration else "station")
    except ServerError as exc:
        fail(str(exc))
    finally:
        db.close()
    click.echo(token)
    click.echo(f"token for {name}: keep it now, it is not shown again (server_token in station.toml)", err=True)


@server.command("revoke-station")
@click.argument("name")
@click.option("--db", "db_url", default=None, help="Server database (as for `rma server`).")
@click.pass_context
def revoke_station(ctx: click.Context, name: str, db_url: str | None) -> None:
    """Revoke station NAME's token at once (its events stay)."""
    from sync.server.db import ServerError

    db = open_server_db(_db_of(ctx, db_url))
    try:
        db.revoke_station(name)
    except ServerError as exc:
        fail(str(exc))
    finally:
        db.close()
    click.echo(f"revoked the token of {name}")


@server.command("stations")
@click.option("--db", "db_url", default=None, help="Server database (as for `rma server`).")
@click.pass_context
def list_stations(ctx: click.Context, db_url: str | None) -> None:
    """List stations, their role, and through which seq their events are held."""
    db = open_server_db(_db_of(ctx, db_url))
    for s in db.list_stations():
        state = f"revoked {s['revoked_at']}" if s["revoked_at"] else "active"
        click.echo(f"{s['name']:24} {s['role']:12} {state:34} acked through {s['acked_seq']}")
    db.close()


@server.command("new-epoch")
@click.option("--db", "db_url", default=None, help="Server database (as for `rma server`).")
@click.pass_context
def new_epoch(ctx: click.Context, db_url: str | None) -> None:
    """Run after restoring the database from a backup: stations re-push what it lacks and re-pull.

    Takes effect at once, also while the server runs (every answer reads the epoch).
    """
    db = open_server_db(_db_of(ctx, db_url))
    click.echo(f"new epoch {db.new_epoch()}")
    db.close()


@click.command("sync")
@click.option("--once", "mode", flag_value="once", help="One round: push, pull, exit.")
@click.option("--watch", "mode", flag_value="watch",
              help="Keep syncing until interrupted: a failed round is one line on stderr and is tried again, "
                   "backing off; only a token the server refuses ends it (exit 1).")
@db_option
@click.option("--server", "server_url", default=None, help="Server URL (default: server_url from the config file).")
@click.option("--token", default=None, envvar="RMA_SERVER_TOKEN", help="Station token (default: config file).")
@click.option("--ca", "ca_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA bundle for a server with a private certificate authority.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds with --watch.")
@click.option("--retries", default=5, show_default=True, type=click.IntRange(0, 50),
              help="Retries of a failed call (exponential backoff with jitter) before giving up the round.")
@click.pass_context
def sync_command(ctx: click.Context, mode: str, db: str | None, server_url: str | None, token: str | None,
                 ca_path: str | None, interval: float, retries: int) -> None:
    """Push the outbox to the central server and pull RMA, checklist and conflict changes."""
    from sync.client import SyncClient, SyncError

    if mode is None:
        raise click.UsageError("choose --once (one round, then exit) or --watch (keep syncing until stopped)", ctx)
    settings = settings_from(ctx, db=db, server_url=server_url, server_token=token)
    if not settings.server_url:
        fail("no server: pass --server URL or set server_url in the config file")
    stop = threading.Event()
    try:
        client = SyncClient(settings.server_url, settings.server_token, ca_path=ca_path, stop=stop,
                            attempts=retries + 1)
    except SyncError as exc:
        fail(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_store(settings) as store:
        if mode == "once":
            try:
                _show(client.sync(store))
            except SyncError as exc:
                fail(sync_failure(exc, settings.server_url, store.unsent_count()))
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
            except KeyboardInterrupt:
                break
            try:
                stop.wait(min(300.0, interval * 2 ** min(failures, 6)))
            except KeyboardInterrupt:
                break


def _show(report) -> None:
    """One round's summary on stdout; what a person must know (a restored database) on stderr, once."""
    if report.restored:
        click.echo(f"rma sync: {report.restored}", err=True)
    click.echo(report.describe())


def sync_failure(exc: Exception, server_url: str, waiting: int) -> str:
    """One whole line for a failed sync: what happened, that nothing was lost."""
    from sync.client import Garbled, Unreachable

    kept = f"{waiting} event(s) waiting, nothing lost"
    if isinstance(exc, Unreachable) and not isinstance(exc, Garbled):
        return f"server {server_url} unreachable: {_why_unreachable(exc)}; {kept}"
    return f"{exc}; {kept}"


def _why_unreachable(exc: BaseException) -> str:
    """The root cause of a failed connection in a few words (refused, unknown host, timed out, ...)."""
    import socket

    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        cause = todo.pop(0)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, (TimeoutError, socket.timeout)) or type(cause).__name__ in (
                "ConnectTimeoutError", "ReadTimeoutError", "ConnectTimeout", "ReadTimeout"):
            return "no answer in time"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        # requests and urllib3 wrap the socket's error: in args, in .reason, and as the cause
        todo.extend([cause.__cause__, cause.__context__, getattr(cause, "reason", None), *cause.args])
    return "the connection failed"


COMMANDS = (server, sync_command)
