"""`rma server ...` (also installed as `rma-server`): the central server's command line, thin click wrappers.

Plugs into the station's `rma` where both are installed (entry point group
``rma.commands``, see ``server/pyproject.toml``); the station never imports it.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from gettext import gettext as _

import click


def fail(message: str, code: int = 1) -> None:
    """Print one line on stderr and exit."""
    click.echo(f"rma: {message}", err=True)
    sys.exit(code)


DEFAULT_SERVER_DB = "rma-server.db"
server_db_option = click.option(
    "--db",
    "db_url",
    default=DEFAULT_SERVER_DB,
    show_default=True,
    envvar="RMA_SERVER_DB",
    help="SQLite file, or postgresql://user@host/dbname.",
)


def use_sla_file(path: str | None) -> None:
    """Check the SLA limits file (``--sla-file``, else ``RMA_SLA_FILE``) and put it in force for this process
    and its workers; every problem is one ``file:line: reason`` line on stderr, then exit 1."""
    import os

    from sync.sla import PolicyError, load_policy

    path = path or os.environ.get("RMA_SLA_FILE", "")
    if not path:
        return
    try:
        load_policy(path)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        fail(f"the SLA file {path} has {len(exc.problems)} problem(s); nothing was started")
    os.environ["RMA_SLA_FILE"] = os.path.abspath(path)


sla_file_option = click.option(
    "--sla-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="SLA limits (YAML, see README); default: RMA_SLA_FILE, else the built-in limits.",
)


POSTGRES_WAIT = 30.0  # seconds `rma server` waits for a PostgreSQL that is not accepting connections yet


def open_server_db(url: str, wait: float = POSTGRES_WAIT):
    """Open (and create) the server database or exit with the reason.

    A PostgreSQL that refuses connections or is still starting up is waited for, up to ``wait``
    seconds, with one line on stderr (the server and its database often start together); a wrong
    database name, user or password fails at once.
    """
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from server.db import ServerDb, engine_url

    deadline, said = time.monotonic() + wait, False
    while True:
        try:
            return ServerDb(url)
        except OperationalError as exc:
            starting = not engine_url(url).startswith("sqlite") and _postgres_not_up(exc)
            if not starting or time.monotonic() > deadline:
                fail(f"cannot open server database {_shown(url)}: {_first_line(exc)}")
            if not said:
                click.echo(
                    f"rma server: PostgreSQL at {_shown(url)} is not accepting connections yet "
                    f"({_first_line(exc)}); waiting up to {wait:.0f} s",
                    err=True,
                )
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

    from server.db import engine_url

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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (PostgreSQL only). Both rate limits are then per process: "
    "a token may send --rate x N requests/s, an address fail --auth-failures x N times a minute.",
)
@click.option(
    "--auth-failures",
    default=30.0,
    show_default=True,
    help="Failed authentications a minute allowed per client address, then 429 (0: no limit); "
    "per process: with --workers N, set it to the total you want divided by N.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Serve HTTPS with this certificate (PEM); needs --tls-key.",
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None, help="The certificate's key.")
@sla_file_option
@click.pass_context
def server(
    ctx: click.Context,
    db_url: str,
    host: str,
    port: int,
    rate: float,
    burst: int,
    workers: int,
    auth_failures: float,
    tls_cert: str | None,
    tls_key: str | None,
    sla_file: str | None,
) -> None:
    """Run the central server (SQLite file by default, or PostgreSQL)."""
    ctx.obj = dict(ctx.obj or {}, server_db=db_url)
    if ctx.invoked_subcommand:
        if sla_file:
            use_sla_file(sla_file)
        return
    use_sla_file(sla_file)  # checked before anything else: a wrong file is its problems, not a running server
    from server.run import make_server

    if bool(tls_cert) != bool(tls_key):
        fail("--tls-cert and --tls-key go together")
    sock = _listen_or_fail(host, port)  # before the banner: a busy port is one line, not uvicorn's
    port = sock.getsockname()[1]
    db = open_server_db(db_url)
    scheme = "https" if tls_cert else "http"
    click.echo(
        f"rma server: {db.database} database {db_url}, epoch {db.epoch()}, on {scheme}://{host}:{port}/api/v1", err=True
    )
    if workers > 1:
        if db.is_sqlite:
            fail("--workers needs PostgreSQL: a SQLite database is served by one process")
        import os

        import uvicorn

        from server.run import EVENT_LOOP, HTTP_PROTOCOL

        db.close()
        sock.close()  # uvicorn's workers bind it themselves; it was free a moment ago
        os.environ.update(
            RMA_SERVER_DB=db_url,
            RMA_SERVER_RATE=str(rate),
            RMA_SERVER_BURST=str(burst),
            RMA_SERVER_AUTH_FAILURES=str(auth_failures),
            RMA_SERVER_WORKERS=str(workers),
        )
        uvicorn.run(
            "server.api:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            http=HTTP_PROTOCOL,
            loop=EVENT_LOOP,
            timeout_keep_alive=5,
        )
        return
    try:
        make_server(
            db,
            host=host,
            port=port,
            rate=rate,
            burst=burst,
            log_level="info",
            tls_cert=tls_cert,
            tls_key=tls_key,
            auth_failures=auth_failures,
        ).run(sockets=[sock])
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
            fail(
                f"cannot listen on {host}:{port}: the port is in use (another rma server?); "
                "stop it or choose another --port"
            )
        if exc.errno == errno.EACCES:
            fail(f"cannot listen on {host}:{port}: not allowed (ports below 1024 need privileges); choose --port")
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _db_of(ctx: click.Context, db_url: str | None) -> str:
    return db_url or ctx.obj.get("server_db") or DEFAULT_SERVER_DB


@contextmanager
def server_db(ctx: click.Context, db_url: str | None):
    """The server database the command names (``--db``, else ``rma server --db``), closed after;
    a refusal of the database's (ServerError) is one line and exit 1."""
    from server.db import ServerError

    db = open_server_db(_db_of(ctx, db_url))
    try:
        yield db
    except ServerError as exc:
        fail(str(exc))
    finally:
        db.close()


db_option = click.option("--db", "db_url", default=None, help="Server database (as for `rma server`).")


@server.command("add-station")
@click.argument("name")
@db_option
@click.option(
    "--integration", is_flag=True, help="A token for the ERP / returns portal: may create RMAs and checklists."
)
@click.pass_context
def add_station(ctx: click.Context, name: str, db_url: str | None, integration: bool) -> None:
    """Register station NAME and print its token (shown this once; only its hash is kept)."""

    with server_db(ctx, db_url) as db:
        token = db.add_station(name, "integration" if integration else "station")
    click.echo(token)
    click.echo(f"token for {name}: keep it now, it is not shown again (server_token in station.toml)", err=True)


@server.command("revoke-station")
@click.argument("name")
@db_option
@click.pass_context
def revoke_station(ctx: click.Context, name: str, db_url: str | None) -> None:
    """Revoke station NAME's token at once (its events stay)."""

    with server_db(ctx, db_url) as db:
        db.revoke_station(name)
    click.echo(f"revoked the token of {name}")


@server.command("stations")
@db_option
@click.pass_context
def list_stations(ctx: click.Context, db_url: str | None) -> None:
    """List stations, their role, and through which seq their events are held."""
    with server_db(ctx, db_url) as db:
        for s in db.list_stations():
            state = f"revoked {s['revoked_at']}" if s["revoked_at"] else "active"
            click.echo(f"{s['name']:24} {s['role']:12} {state:34} acked through {s['acked_seq']}")


@server.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["supervisor", "manager"]), required=True, help="What the user may see.")
@click.option("--reset", is_flag=True, help="Give an existing user a new password and this role (signs them out).")
@db_option
@click.pass_context
def add_user(ctx: click.Context, name: str, role: str, reset: bool, db_url: str | None) -> None:
    """Add NAME as a user of the web UI (/ui/) and print a one-time password.

    Managers see every page; supervisors every page but the users. A password piped on
    standard input (its first line) is set instead, and none is printed.
    """
    from server.ui.store import UserError
    from server.ui.store import add_user as add_ui_user

    given = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    with server_db(ctx, db_url) as db:
        try:
            password = add_ui_user(db, name, role, given or None, reset=reset)
        except UserError as exc:
            fail(str(exc))
    if given:
        click.echo(f"{'new password for' if reset else 'added'} {role} {name}")
        return
    click.echo(password)
    click.echo(f"password for {role} {name}: shown this once; sign in at /ui/login", err=True)


@server.command("users")
@db_option
@click.pass_context
def list_users(ctx: click.Context, db_url: str | None) -> None:
    """List the web UI's users and their roles."""
    from server.ui.store import list_users as list_ui_users

    with server_db(ctx, db_url) as db:
        for u in list_ui_users(db):
            click.echo(f"{u['name']:32} {u['role']:12} since {u['created_at']}")


@server.command("new-epoch")
@db_option
@click.pass_context
def new_epoch(ctx: click.Context, db_url: str | None) -> None:
    """Run after restoring the database from a backup: stations re-push what it lacks and re-pull.

    Takes effect at once, also while the server runs (every answer reads the epoch).
    """
    with server_db(ctx, db_url) as db:
        click.echo(f"new epoch {db.new_epoch()}")


@server.command("risk")
@db_option
@click.pass_context
def risk_list(ctx: click.Context, db_url: str | None) -> None:
    """List the customers worth a full inspection (frequent returners, earlier mismatches, serials seen before).

    Customers are shown only by a short reference; who they are is never stored.
    """
    with server_db(ctx, db_url) as db:
        flagged = db.risk_report()
    if not flagged:
        click.echo("no customer is flagged")
    for c in flagged:
        serials = f"  serials seen before: {', '.join(c.serials_seen_before)}" if c.serials_seen_before else ""
        click.echo(
            f"{c.customer_ref}  {c.returns_30d} returns in 30 days ({c.returns} in all), "
            f"{c.mismatches} with a mismatch  RMAs: {', '.join(c.rmas)}{serials}"
        )


# --- webhooks (server/hooks) -------------------------------------------------------------


@server.command("refresh-analytics")
@db_option
@click.pass_context
def refresh_analytics(ctx: click.Context, db_url: str | None) -> None:
    """Fold every event not folded yet into the return analytics (reports fold the rest as they answer).

    Run once after loading or restoring millions of events, so the first report need not catch up.
    """
    from server import analytics
    from server.db import events, rmas

    with server_db(ctx, db_url) as db:
        read = analytics.refresh(db.write, events, rmas)
    click.echo(f"analytics: {read} events read")


@server.group("webhooks")
def webhooks() -> None:
    """Outbound webhooks: endpoints per event kind, signed deliveries, retries, the dead-letter list."""


@webhooks.command("add")
@click.argument("url")
@click.option("--events", "kinds", required=True, help="Event kinds, comma-separated: receipt,inspection,sla.overdue.")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False),
    required=True,
    help="File holding the signing secret, whsec_ and base64 (e.g. printf 'whsec_%s' \"$(openssl rand -base64 32)\").",
)
@db_option
@click.pass_context
def webhooks_add(ctx: click.Context, url: str, kinds: str, secret_file: str, db_url: str | None) -> None:
    """Deliver events of the given kinds, stored from now on, to URL, signed with the secret."""
    from server.db import ServerError
    from server.hooks.admin import add_endpoint

    try:
        with open(secret_file, encoding="utf-8") as handle:
            secret = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read the secret file {file}: {reason}").format(file=secret_file, reason=_reason(exc)))
    with server_db(ctx, db_url) as db:
        try:
            endpoint = add_endpoint(db, url, kinds, secret)
        except ServerError as exc:
            fail(_("webhook not added: {reason}").format(reason=exc))
    click.echo(
        _("webhook {id}: {url} gets {kinds}").format(id=endpoint.id, url=endpoint.url, kinds=", ".join(endpoint.events))
    )


@webhooks.command("list")
@db_option
@click.pass_context
def webhooks_list(ctx: click.Context, db_url: str | None) -> None:
    """List the endpoints, their event kinds, and their deliveries pending, delivered and dead."""
    from server.hooks.admin import list_endpoints

    with server_db(ctx, db_url) as db:
        found = list_endpoints(db)
    if not found:
        click.echo(_("no webhook endpoints (add one with rma server webhooks add URL --events … --secret-file F)"))
    for e in found:
        click.echo(
            _("{id:>4} {url}  {kinds}  pending {pending}, delivered {delivered}, dead {dead}").format(
                id=e.id, url=e.url, kinds=",".join(e.events), pending=e.pending, delivered=e.delivered, dead=e.dead
            )
        )


@webhooks.command("remove")
@click.argument("endpoint_id", type=int)
@db_option
@click.pass_context
def webhooks_remove(ctx: click.Context, endpoint_id: int, db_url: str | None) -> None:
    """Stop delivering to endpoint ENDPOINT_ID (its deliveries are kept, the pending ones not sent)."""
    from server.hooks.admin import remove_endpoint

    with server_db(ctx, db_url) as db:
        pending = remove_endpoint(db, endpoint_id)
    click.echo(
        _("removed webhook {id}; {pending} pending delivery(ies) kept, not sent").format(
            id=endpoint_id, pending=pending
        )
    )


@webhooks.command("dead")
@db_option
@click.pass_context
def webhooks_dead(ctx: click.Context, db_url: str | None) -> None:
    """The dead-letter list: deliveries that failed every try (replay them with `replay`)."""
    from server.hooks.admin import dead_deliveries

    with server_db(ctx, db_url) as db:
        found = dead_deliveries(db)
    if not found:
        click.echo(_("no dead deliveries"))
    for d in found:
        click.echo(
            _("{id}  webhook {endpoint} {url}  {kind} {event}  {attempts} tries, last: {error}").format(
                id=d.id,
                endpoint=d.endpoint_id,
                url=d.url,
                kind=d.kind,
                event=d.event_id,
                attempts=d.attempts,
                error=d.last_error,
            )
        )


@webhooks.command("replay")
@click.argument("delivery_ids", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Replay every delivery on the dead-letter list.")
@db_option
@click.pass_context
def webhooks_replay(ctx: click.Context, delivery_ids: tuple[str, ...], all_dead: bool, db_url: str | None) -> None:
    """Send deliveries again (DELIVERY_ID…, or --all-dead), with the same ids and a fresh count of tries."""
    from server.hooks.admin import replay

    if bool(delivery_ids) == all_dead:
        fail(_("give delivery ids or --all-dead (one of the two); nothing was replayed"))
    with server_db(ctx, db_url) as db:
        count = replay(db, list(delivery_ids), all_dead=all_dead)
    click.echo(_("{count} delivery(ies) queued again; the running server sends them").format(count=count))


# --- SLA clocks (server/sla.py) -------------------------------------------------------------


@server.group("sla")
def sla_group() -> None:
    """SLA clocks: the limits in force, what is overdue."""


@sla_group.command("check")
@sla_file_option
def sla_check(sla_file: str | None) -> None:
    """Check an SLA limits file and print the limits it sets (exit 1 with file:line problems)."""
    from server.sla import current_policy

    use_sla_file(sla_file)
    policy = current_policy()
    click.echo(f"SLA limits from {policy.source}; due soon in the last {policy.due_soon:.0%} of a limit")
    for step, limit in policy.limits.items():
        counted = "working hours" if step in policy.working and policy.calendar else "around the clock"
        click.echo(f"  {step:9} {limit!s:>12}  ({counted})")
    for category, limits in sorted(policy.categories.items()):
        click.echo(f"  {category}: " + ", ".join(f"{step} {limit}" for step, limit in limits.items()))
    for priority, limits in sorted(policy.priorities.items()):
        click.echo(f"  priority {priority}: " + ", ".join(f"{step} {limit}" for step, limit in limits.items()))


@sla_group.command("overdue")
@click.option("--state", type=click.Choice(["overdue", "due_soon"]), default=None, help="Only these.")
@sla_file_option
@db_option
@click.pass_context
def sla_overdue(ctx: click.Context, state: str | None, sla_file: str | None, db_url: str | None) -> None:
    """List what is overdue and due soon, overdue first (as GET /api/v1/reports/overdue)."""
    from server.sla import overdue_report

    use_sla_file(sla_file)
    with server_db(ctx, db_url) as db:
        items = [i for i in overdue_report(db) if state is None or i["state"] == state]
    for i in items:
        click.echo(
            f"{i['state']:9} {i['step']:9} {i['kind']:4} {i['code']:20} {i['lpn']:14} "
            f"due {i['due_at'][:16]}  {i['age_hours']:>7.1f} h  {i['category']}  {i['priority']}"
        )
    if not items:
        click.echo("nothing is overdue or due soon")


@server.command("digest")
@click.option("--send", is_flag=True, help="Mail it to RMA_SLA_MAIL_TO through RMA_SMTP_HOST (else: print it).")
@sla_file_option
@db_option
@click.pass_context
def digest(ctx: click.Context, send: bool, sla_file: str | None, db_url: str | None) -> None:
    """The SLA digest: everything overdue and due soon (the running server mails it daily, RMA_SLA_DIGEST_AT)."""
    from server import mail
    from server.sla import digest_text, send_digest

    use_sla_file(sla_file)
    with server_db(ctx, db_url) as db:
        if not send:
            subject, body, _count = digest_text(db)
            click.echo(subject)
            click.echo(body)
            return
        try:
            settings = mail.MailSettings.from_env()
        except ValueError as exc:
            fail(f"digest not sent: {exc}")
        if not settings.enabled:
            fail("digest not sent: set RMA_SMTP_HOST and RMA_SLA_MAIL_TO (see README)")
        try:
            count = send_digest(db, settings)
        except mail.MailError as exc:
            fail(f"digest not sent: {exc}")
    click.echo(f"digest of {count} item(s) sent to {', '.join(settings.to)}")


# --- ops: import and export --------------------------------------------------------------


@server.group("import")
def import_group() -> None:
    """Load data files into the server database."""


@import_group.command("rmas")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@click.pass_context
def import_rmas(ctx: click.Context, file: str, db_url: str | None) -> None:
    """Create or update RMAs from a CSV or JSON FILE in the station's format (see README); as POST /api/v1/rmas."""
    from server.ops import import_rma_file
    from sync.imports import ImportFileError, RmaFile

    problems = 0

    def report(where: int, reason: str) -> None:
        nonlocal problems
        problems += 1
        click.echo(f"{file}:{where}: {reason}", err=True)

    with server_db(ctx, db_url) as db:
        try:
            source = RmaFile(file)
            source.check(report)  # every row read and checked before anything is stored
            done = import_rma_file(db, source, report)
        except ImportFileError as exc:
            fail(str(exc))
    cleaned = (
        _("; control/invisible characters removed from {count} field(s)").format(count=source.cleaned)
        if source.cleaned
        else ""
    )
    click.echo(
        _(
            "imported {count} RMAs ({lines} lines) from {file}: {created} new, {updated} changed, "
            "{unchanged} unchanged; {problems} problem(s){cleaned}"
        ).format(
            count=done.created + done.updated + done.unchanged,
            lines=done.lines,
            file=file,
            created=done.created,
            updated=done.updated,
            unchanged=done.unchanged,
            problems=problems,
            cleaned=cleaned,
        )
    )
    if problems:
        sys.exit(1)


@server.command("export")
@click.argument("what", type=click.Choice(["inspections", "movements"]))
@click.option(
    "--since", default="", help="Only events the server stored at or after this date or time (UTC unless given)."
)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-", help="File (default: stdout)."
)
@db_option
@click.pass_context
def export(ctx: click.Context, what: str, since: str, fmt: str, output: str, db_url: str | None) -> None:
    """Write the inspections, or the movements (receipts and inspections), as CSV or JSON, oldest first."""
    import contextlib
    import csv
    import json

    from server.ops import columns_of, export_rows, since_stamp

    try:
        stamp = since_stamp(since) if since else ""
    except ValueError as exc:
        fail(_("--since: {reason}").format(reason=exc))
    count = 0
    with server_db(ctx, db_url) as db:
        try:
            with (
                contextlib.nullcontext(sys.stdout) if output == "-" else open(output, "w", encoding="utf-8", newline="")
            ) as out:
                if fmt == "csv":
                    writer = csv.DictWriter(out, fieldnames=columns_of(what))
                    writer.writeheader()
                    for row in export_rows(db, what, stamp):
                        writer.writerow(row)
                        count += 1
                else:
                    out.write("[")
                    for row in export_rows(db, what, stamp):
                        out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
                        count += 1
                    out.write("\n]\n" if count else "]\n")
        except OSError as exc:
            fail(_("cannot write {file}: {reason}").format(file=output, reason=_reason(exc)))
    if output != "-":
        click.echo(_("{count} {what} written to {file}").format(count=count, what=what, file=output), err=True)


# --- the handoff: bins and containers (server/handoff) -------------------------------------------


@server.command("bins")
@click.argument("name", required=False)
@db_option
@click.pass_context
def bins(ctx: click.Context, name: str | None, db_url: str | None) -> None:
    """Each bin and container the stations reported (or NAME): state, units by plate, the last count."""
    from server.handoff.views import bin_views

    with server_db(ctx, db_url) as db:
        found = bin_views(db, name)
    if name and not found:
        fail(f"no bin or container {' '.join(name.split()).upper()} on the server (see rma server bins)")
    if not found:
        click.echo("no bins or containers yet: stations report them as units are put away")
    for view in found:
        state = view.state + (f" to {view.moved_to}" if view.moved_to and view.state in ("moved", "shipped") else "")
        units = f"{len(view.units)} unit{'' if len(view.units) == 1 else 's'}"
        click.echo(f"{view.name:16} {view.kind:8} {state:24} {units:10} {_count_line(view.last_count)}")
        for u in view.units:
            where = f"{u.rma_code or '-'} line {u.line_no or '-'} unit {u.unit_no or '-'}"
            click.echo(f"  {u.lpn:22} {where:28} {u.grade or '-':11} {u.channel or '-':16} {u.state}")


def _count_line(count) -> str:
    """A bin's last count in one line: when, where, who, and what was missing or extra."""
    if count is None:
        return "not counted yet"

    def figure(value, word: str) -> str:
        if isinstance(value, list):
            shown = ", ".join(value[:5]) + (", …" if len(value) > 5 else "")
            return f"{len(value)} {word}" + (f" ({shown})" if value else "")
        return f"{value if value is not None else '?'} {word}"

    return (
        f"counted {count.at[:16].replace('T', ' ')} at {count.station} by {count.operator}: "
        f"{figure(count.missing, 'missing')}, {figure(count.extra, 'extra')}"
    )


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def main() -> None:
    """Console-script entry point of ``rma-server``: a usage error is one line, as everywhere in `rma`."""
    try:
        server.main(prog_name="rma-server", standalone_mode=False)
    except click.UsageError as exc:
        fail(f"{' '.join(exc.format_message().split()).rstrip('.')} (see rma-server --help)", exc.exit_code)
    except click.ClickException as exc:
        fail(" ".join(exc.format_message().split()), exc.exit_code)
    except click.Abort:
        fail("stopped; nothing more was done")
