"""The central server's database: SQLAlchemy Core, so SQLite and PostgreSQL share one code path.

Tables:

* ``stations``: one row per station (or integration), the SHA-256 of its
  bearer token (never the token), and ``acked_seq``: through which sequence
  the server holds (stored or rejected) every event of that station;
* ``events``: every station event once, unique by (station, seq) and by id;
* ``rejections``: events the server will never accept, with the reason;
* ``rmas``: the authorised returns (the ERP's record) and the server's
  projection of what stations did with them (stage, who received it);
* ``changes``: what stations pull, by a monotonic cursor (RMAs, checklists,
  conflicts).  On PostgreSQL the table is locked by each transaction that
  appends to it, so cursors become visible in order and a reader never skips
  one that commits late;
* ``conflicts``: records that disagree; both sides are kept;
* ``photos``: evidence photos by the SHA-256 of their bytes (a binary column:
  BLOB on SQLite, BYTEA on PostgreSQL), stored once whoever sends them;
* ``meta``: the epoch (and the secret that signs customers' status links, :mod:`server.ui.store`).

The web UI's accounts and sessions (``ui_users``, ``ui_sessions``) are :mod:`server.ui.store`'s.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError

from server import analytics, handoff, risk
from server.hooks import outbox as hooks_outbox
from server.ui import store as ui_store
from sync.protocol import (
    MAX_BATCH,
    MAX_CLOCK_AHEAD,
    MAX_EVENT_AGE,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
    Change,
    ChangePage,
    ChecklistDocument,
    Conflict,
    ImportResult,
    OutboxEvent,
    PushBatch,
    PushResult,
    Rejection,
    RmaRecord,
    RmaTimeline,
    StationStatus,
    TimelineEntry,
    parse_stamp,
)

STATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ROLES = ("station", "integration")

# SQLite only makes an INTEGER PRIMARY KEY an auto-incrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
)

stations = sa.Table(
    "stations",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
    sa.Column("acked_seq", sa.BigInteger, nullable=False, server_default="0"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("station", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("server_at", sa.String(40), nullable=False),
    sa.Column("rma_code", sa.String(64)),
    sa.Column("refers_to", sa.String(64)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.UniqueConstraint("station", "seq", name="events_station_seq"),
    sa.Index("events_rma", "rma_code"),
)

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("station", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("server_at", sa.String(40), nullable=False),
)

rmas = sa.Table(
    "rmas",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False, server_default="expected"),
    sa.Column("received_station", sa.String(64)),
    sa.Column("received_event", sa.String(64)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    # the RMAs whose SLA clock runs (authorised and not received, or received) without reading them all
    sa.Index("rmas_stage", "stage", "status"),
    sa.Index("rmas_updated", "updated_at"),  # the web UI's latest changed RMAs
)

inspected_items = sa.Table(
    "inspected_items",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("item", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("station", sa.String(64), nullable=False),
)

changes = sa.Table(
    "changes",
    metadata,
    sa.Column("cursor", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Index("changes_key", "kind", "key"),
)

checklists = sa.Table(
    "checklists",
    metadata,
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("rma_code", sa.String(64), nullable=False),
    sa.Column("event_ids", sa.Text, nullable=False),
    sa.Column("stations", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Index("conflicts_rma", "rma_code"),
)

photos = sa.Table(
    "photos",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("station", sa.String(64), nullable=False),  # who sent it first
    sa.Column("received_at", sa.String(40), nullable=False),
)


# The push's statements, built once (issue 14: building SQLAlchemy expressions per request showed in
# the profile).  The head: the station's row locked, the epoch, the token's validity and whether any
# seq in lo..hi is held -- one round trip where there were four.
_seq_range = sa.bindparam("lo", type_=sa.BigInteger), sa.bindparam("hi", type_=sa.BigInteger)
_PUSH_HEAD = (
    sa.select(
        stations.c.acked_seq,
        sa.select(meta.c.value).where(meta.c.key == "epoch").scalar_subquery().label("epoch"),
        sa.exists().where(events.c.station == stations.c.name, events.c.seq.between(*_seq_range)).label("held"),
        sa.exists()
        .where(rejections.c.station == stations.c.name, rejections.c.seq.between(*_seq_range))
        .label("refused"),
        # any webhook endpoint at all: without one a push of hooked events skips the endpoints query
        sa.exists().where(hooks_outbox.endpoints.c.removed_at.is_(None)).label("hooks"),
    )
    .where(stations.c.name == sa.bindparam("station"))
    .with_for_update(of=stations)
)
_PUSH_HEAD_WITH_TOKEN = _PUSH_HEAD.where(
    stations.c.token_hash == sa.bindparam("token_hash"), stations.c.revoked_at.is_(None)
)
_LIVE_ENDPOINTS = sa.select(hooks_outbox.endpoints.c.id, hooks_outbox.endpoints.c.events).where(
    hooks_outbox.endpoints.c.removed_at.is_(None)
)
_SET_ACKED = (
    stations.update().where(stations.c.name == sa.bindparam("station")).values(acked_seq=sa.bindparam("acked_seq"))
)


_EVENT_COLUMNS = [c.name for c in events.c if c.name != "pk"]
# the event types that move an RMA's stage or reveal a conflict (ServerDb._project)
STAGE_EVENTS = ("rma.received", "rma.receive_undone", "item.inspected", "rma.inspected", "rma.parcel_received")


class ValidBatch(BaseModel):
    """A push whose every event validates (the common case): checked in one pass from the body's bytes.

    A body that fails here is read again as a :class:`~sync.protocol.PushBatch`, whose events are
    then checked one by one (an invalid event is a rejection, not a refusal of the batch); a body
    valid here is valid there too and gives the same events (issue 14: validating each event
    again from a dump of the batch cost ~5% of a push).
    """

    model_config = ConfigDict(extra="forbid")

    after_seq: int = Field(ge=0, le=MAX_SEQ)
    events: list[OutboxEvent] = Field(max_length=MAX_BATCH)


class _Compiled:
    """A Core statement compiled once for one dialect, run on the DBAPI cursor of a SQLAlchemy connection.

    The push's three hot statements skip SQLAlchemy's per-execution work (cache key, parameter
    processing, result objects): about a fifth of a push's Python time (issue 14).  Driver errors
    are raised as SQLAlchemy's own (OperationalError -> 503, IntegrityError -> a retry), and a lost
    connection is invalidated, as for any other statement.
    """

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql, self.defaults, self.order = compiled.string, dict(compiled.params), compiled.positiontup

    def run(self, conn: sa.Connection, params: dict, *, begin: bool = False) -> list[tuple]:
        """Execute with these parameters; returns the rows.  ``begin`` (PostgreSQL): open the transaction
        in the same round trip (``BEGIN; ...``, on a connection in autocommit mode: see ServerDb._push_write)."""
        values = {**self.defaults, **params}
        args = [values[k] for k in self.order] if self.order else values
        if begin:
            return _on_cursor(conn, "BEGIN; " + self.sql, args, literal=True)
        return _on_cursor(conn, self.sql, args)


def _on_cursor(conn: sa.Connection, sql: str, args, *, literal: bool = False) -> list[tuple]:
    """Run ``sql`` on the DBAPI cursor of ``conn`` (in its transaction); the rows it returns.

    Errors come out as SQLAlchemy's (OperationalError, IntegrityError, ...), and a connection
    found lost is invalidated, as SQLAlchemy does for its own statements.

    ``literal`` (PostgreSQL): the parameters are bound by psycopg as quoted literals and the text sent
    as one simple query, which may hold several statements (``BEGIN; ...``, ``...; COMMIT``): one round
    trip where each statement took one (~60 µs of the server's CPU each, issue 14); the rows are the
    last statement's.
    """
    dialect = conn.dialect
    if literal:
        from psycopg import ClientCursor

        cursor = ClientCursor(conn.connection.dbapi_connection)  # type: ignore[call-overload]  # psycopg's
    else:
        cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, args)
        while literal and cursor.nextset():
            pass
        result = getattr(cursor, "pgresult", None)
        if result is not None:  # psycopg: rows or none, read from the result's status; its ``description``
            # makes a Column object per column, and looks its type up, on every call (issue 14)
            from psycopg.pq import ExecStatus

            return list(cursor.fetchall()) if result.status == ExecStatus.TUPLES_OK else []
        return list(cursor.fetchall()) if cursor.description else []
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, conn.connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
        ) from exc
    finally:
        cursor.close()


class ServerError(Exception):
    """A request the server refuses; the message is for a person."""


class BadBatch(ServerError):
    """A push batch that is not a consecutive run of the station's outbox."""


class NotFound(ServerError):
    """No such RMA / station."""


class Unauthorized(ServerError):
    """The token a push came with is unknown or revoked (checked inside the push's own transaction)."""


def utc_now() -> str:
    """The server clock, ISO-8601 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def token_hash(token: str) -> str:
    """What the server stores of a token: tokens are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def engine_url(url: str) -> str:
    """Accept ``postgresql://`` and a bare SQLite path; use psycopg 3 for PostgreSQL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


# PostgreSQL connections all server processes together keep pooled (twice that at a peak): on the
# two-core machine of issue 14 more concurrent transactions only queue inside PostgreSQL, and
# --workers 8 must not run into PostgreSQL's max_connections (100)
POSTGRES_CONNECTIONS = 20
HELD_IDLE = 30.0  # seconds a push thread's kept connection may sit idle before it is checked out afresh


class ServerDb:
    """The server's storage; every method is one transaction."""

    def __init__(self, url: str, *, create: bool = True, workers: int = 1):
        """``workers``: server processes sharing this (PostgreSQL) database; each takes its share of
        ``POSTGRES_CONNECTIONS`` as its connection pool (``pool_size``), and as many more at a peak."""
        self.url = engine_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.pool_size = 8 if self.is_sqlite else max(4, POSTGRES_CONNECTIONS // max(1, workers))
        self.engine = self._make_engine(self.pool_size)
        # SQLite has one writer anyway; taking turns here avoids SQLITE_BUSY on lock upgrades.
        self._sqlite_writer = threading.Lock()
        # the connections push threads keep between pushes (see keep_connection_in_this_thread)
        self._held = threading.local()
        self._held_all: list[sa.Connection] = []
        self._held_lock = threading.Lock()
        # the push's hot statements, compiled for this database once (see _Compiled)
        dialect = self.engine.dialect
        self._push_head = _Compiled(_PUSH_HEAD, dialect)
        self._push_head_with_token = _Compiled(_PUSH_HEAD_WITH_TOKEN, dialect)
        self._set_acked = _Compiled(_SET_ACKED, dialect)
        self._live_endpoints = _Compiled(_LIVE_ENDPOINTS, dialect)
        # a push's new events in one INSERT
        self._insert_sql: dict[int, str] = {}  # SQLite: a multi-row VALUES text per batch size
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(quote(c) for c in _EVENT_COLUMNS)
        self._insert_json = (  # PostgreSQL: the same text for every batch, the rows in one JSON parameter
            f"INSERT INTO events ({columns}) SELECT {columns} FROM json_to_recordset(%(rows)s::json) AS rows("
            + ", ".join(f"{quote(c)} {events.c[c].type.compile(dialect)}" for c in _EVENT_COLUMNS)
            + ")"
        )
        if create:
            self.create()

    def _make_engine(self, pool_size: int) -> sa.Engine:
        """An engine on this database, with a pool of ``pool_size`` connections (and as many more at a peak)."""
        if self.is_sqlite:
            engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            sa_event.listen(engine, "connect", _sqlite_connect)
            sa_event.listen(engine, "begin", _sqlite_begin)
            return engine
        # no server-side prepared statements: their generic plans, made while the events table
        # was small, turned a 50 ms push into 2 s once it had grown (bench/README.md)
        engine = sa.create_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"prepare_threshold": None},
        )
        return engine

    @property
    def database(self) -> str:
        """The kind of database, for health probes."""
        return "sqlite" if self.is_sqlite else "postgresql"

    def create(self) -> None:
        """Create missing tables and draw the first epoch."""
        metadata.create_all(self.engine)
        hooks_outbox.create(self.engine)  # webhooks (server/hooks): endpoints and deliveries
        risk.create(self.engine)  # each customer's returns, by a keyed hash (server/risk.py)
        handoff.create(self.engine)  # the feed, bins and containers, refund decisions (server/handoff)
        from server.sla import create_tables as create_sla_tables  # here: server.sla imports this module

        create_sla_tables(self.engine)  # SLA escalations told and digests sent (server/sla.py)
        analytics.create(self.engine)  # return analytics' fact tables (server/analytics.py)
        # their rollups and the SLA and risk tables, for what an earlier release folded (once)
        analytics.catch_up(self.write, events)
        for index in rmas.indexes:  # an index added to the table an earlier release made
            index.create(self.engine, checkfirst=True)
        ui_store.create(self.engine)  # the web UI (server/ui): supervisors' accounts and sessions
        with self.write() as conn:
            if conn.execute(sa.select(meta.c.value).where(meta.c.key == "epoch")).first() is None:
                conn.execute(meta.insert().values(key="epoch", value=uuid.uuid4().hex))
            if conn.execute(sa.select(meta.c.value).where(meta.c.key == "customer_secret")).first() is None:
                conn.execute(meta.insert().values(key="customer_secret", value=secrets.token_hex(32)))

    def close(self) -> None:
        """Close every pooled connection (and those push threads keep)."""
        with self._held_lock:
            held, self._held_all = self._held_all, []
        for conn in held:
            conn.close()
        self.engine.dispose()

    def keep_connection_in_this_thread(self) -> None:
        """Let this thread's pushes keep one connection between them (a thread pool's initializer).

        Issue 14: checking a connection out of the pool and back in -- and on PostgreSQL the
        pre-ping round trip of each checkout -- took more of a push's CPU than its statements.
        A kept connection idle for ``HELD_IDLE`` s goes back, and the next push checks one out (and
        pings it) afresh; one the database dropped is found by the push's first statement, and
        :meth:`push` runs once more on a fresh connection.  Only for threads as many as the pool
        (the API's push threads), never for a pool of unbounded threads.
        """
        self._held.allowed = True

    @contextmanager
    def _push_write(self) -> Iterator[sa.Connection]:
        """:meth:`write` on this thread's kept connection, when it keeps one."""
        if not getattr(self._held, "allowed", False):
            if self.is_sqlite:
                with self.write() as conn:
                    yield conn
            else:
                with self._push_connection(self.engine) as conn, conn.begin():
                    yield conn
                hooks_outbox.wake_if_queued()  # committed: the deliveries it queued can be claimed
            return
        kept: sa.Connection | None = getattr(self._held, "conn", None)
        now = time.monotonic()
        if kept is not None and (kept.closed or kept.invalidated or now - self._held.used > HELD_IDLE):
            self._held.conn = None
            with self._held_lock:
                if kept in self._held_all:
                    self._held_all.remove(kept)
            kept.close()  # back to the pool (an invalidated one is discarded there)
            kept = None
        self._held.reused = kept is not None
        conn = kept if kept is not None else self._push_connection(self.engine)
        if kept is None:
            with self._held_lock:
                self._held_all.append(conn)
            self._held.conn = conn
        self._held.used = now
        if self.is_sqlite:
            with self._sqlite_writer, conn.begin():
                yield conn
        else:
            with conn.begin():
                yield conn
        hooks_outbox.wake_if_queued()

    def _push_connection(self, engine: sa.Engine) -> sa.Connection:
        """A connection for pushes.  PostgreSQL: in autocommit mode, so psycopg sends no BEGIN of its own
        (a round trip): the push's first statement opens the transaction (``BEGIN; ...``) and its commit
        is SQLAlchemy's as ever, or the last statement's; the mode is the pool's again when the
        connection goes back."""
        conn = engine.connect()
        return conn if self.is_sqlite else conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction."""
        if self.is_sqlite:
            with self._sqlite_writer, self.engine.begin() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn
        hooks_outbox.wake_if_queued()  # committed: deliveries it queued can be claimed now

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """One read transaction (a consistent snapshot)."""
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    # --- epoch -----------------------------------------------------------------

    def epoch(self) -> str:
        """The server's epoch, read each time: :meth:`new_epoch` may run in another process while this one serves."""
        with self.read() as conn:
            return self._read_epoch(conn)

    @staticmethod
    def _read_epoch(conn: sa.Connection) -> str:
        return conn.execute(sa.select(meta.c.value).where(meta.c.key == "epoch")).scalar_one()

    @staticmethod
    def _secret(conn: sa.Connection, name: str) -> str:
        """A secret of this database, drawn by :meth:`create` and kept in ``meta``."""
        return conn.execute(sa.select(meta.c.value).where(meta.c.key == name)).scalar_one()

    def risk_report(self, limit: int | None = None) -> list[risk.FlaggedCustomer]:
        """The customers worth a full inspection, the first ``limit`` (see :func:`server.risk.flagged`)."""
        analytics.refresh(self.write, events, rmas, batches=analytics.BATCHES_PER_ANSWER)  # what it reads
        with self.read() as conn:
            return risk.flagged(conn, events, utc_now(), limit)

    def new_epoch(self) -> str:
        """Announce that this database was restored from a backup: stations re-push and re-pull."""
        value = uuid.uuid4().hex
        with self.write() as conn:
            conn.execute(meta.update().where(meta.c.key == "epoch").values(value=value))
        return value

    # --- stations --------------------------------------------------------------

    def add_station(self, name: str, role: str = "station") -> str:
        """Register a station; returns its new token (shown once, stored only as a hash)."""
        if not STATION_NAME.match(name):
            raise ServerError(f"station name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise ServerError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        with self.write() as conn:
            row = conn.execute(sa.select(stations.c.revoked_at).where(stations.c.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise ServerError(f"station {name} already has a token; revoke it first")
            if row is not None:  # a new token for a revoked station keeps its history and acked_seq
                conn.execute(
                    stations.update()
                    .where(stations.c.name == name)
                    .values(token_hash=token_hash(token), role=role, revoked_at=None)
                )
            else:
                conn.execute(
                    stations.insert().values(
                        name=name, token_hash=token_hash(token), role=role, created_at=utc_now(), acked_seq=0
                    )
                )
        return token

    def revoke_station(self, name: str) -> None:
        """Revoke a station's token at once."""
        with self.write() as conn:
            done = conn.execute(
                stations.update()
                .where(stations.c.name == name, stations.c.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            ).rowcount
        if not done:
            raise NotFound(f"no station {name} with a valid token")

    def list_stations(self) -> list[dict]:
        """Every station with its role, state and acknowledged sequence."""
        with self.read() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(
                        stations.c.name,
                        stations.c.role,
                        stations.c.created_at,
                        stations.c.revoked_at,
                        stations.c.acked_seq,
                    ).order_by(stations.c.name)
                )
            ]

    def station_for_token(self, token: str) -> tuple[str, str] | None:
        """(station name, role) for a valid, unrevoked token."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(stations.c.name, stations.c.role).where(
                    stations.c.token_hash == token_hash(token), stations.c.revoked_at.is_(None)
                )
            ).first()
        return (row.name, row.role) if row else None

    def station_status(self, station: str) -> StationStatus:
        """What the server holds of this station."""
        with self.read() as conn:
            acked = conn.execute(sa.select(stations.c.acked_seq).where(stations.c.name == station)).scalar_one()
            epoch = self._read_epoch(conn)
        return StationStatus(epoch=epoch, station=station, acked_seq=acked)

    # --- push ------------------------------------------------------------------

    def push(self, station: str, batch: PushBatch | ValidBatch, *, token_hash: str | None = None) -> PushResult:
        """Store a batch of a station's events once each; see :mod:`sync.protocol`.

        A :class:`ValidBatch` (every event validated already, from the body's bytes) skips the
        per-event validation; a :class:`~sync.protocol.PushBatch` has each event validated here,
        and an invalid one becomes a rejection.

        With ``token_hash`` the push's first query also checks that this is the station's current,
        unrevoked token (:class:`Unauthorized` otherwise): the API's token cache is only trusted
        because of this, so a revocation stops the next push at once, in every server process.
        """
        seqs = [e.seq for e in batch.events]
        if any(b <= a for a, b in itertools.pairwise(seqs)):
            raise BadBatch("events must be in increasing seq order without repeats; nothing was stored")
        for expected, seq in enumerate(seqs, batch.after_seq + 1):
            if seq != expected:  # a gap: acknowledging through the batch's end would claim events never sent
                raise BadBatch(
                    f"events must be consecutive after after_seq {batch.after_seq}: expected seq "
                    f"{expected}, got {seq}; nothing was stored"
                )
        ids = [getattr(e, "id", None) for e in batch.events]
        twice = [i for i, n in collections.Counter(i for i in ids if isinstance(i, str)).items() if n > 1]
        if twice:
            raise BadBatch(f"event id {twice[0][:64]} appears twice in the batch; nothing was stored")
        now = datetime.now(UTC)
        earliest, latest = now - MAX_EVENT_AGE, now + MAX_CLOCK_AHEAD
        checked: list[tuple[int, OutboxEvent | None, str, str, str]] = []  # seq, event, id, problem, payload text
        for raw in batch.events:
            valid = raw if isinstance(raw, OutboxEvent) else None
            data = {} if valid is not None else raw.model_dump()
            try:
                ev = valid if valid is not None else OutboxEvent.model_validate(data)
                if not earliest <= parse_stamp(ev.at) <= latest:
                    raise ValueError(
                        f"at: {ev.at} is outside {earliest.date()} .. {latest.date()} around the "
                        "server's clock; check the station's clock"
                    )
                try:
                    # the text stored, made once; its size is the ASCII-escaped JSON's, as always
                    text = json.dumps(ev.payload, ensure_ascii=False, sort_keys=True, allow_nan=False)
                    size = len(text) if text.isascii() else len(json.dumps(ev.payload))
                except ValueError:
                    raise ValueError("payload: numbers must be finite (no NaN or Infinity)") from None
                if size > MAX_PAYLOAD_BYTES:
                    raise ValueError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
                checked.append((ev.seq, ev, ev.id, "", text))
            except (ValidationError, ValueError, RecursionError) as exc:
                event_id = valid.id if valid is not None else str(data.get("id", ""))[:64]
                checked.append((raw.seq, None, event_id, _one_line(exc), ""))
        careful = False
        for _ in range(2):
            try:
                return self._push(station, batch.after_seq, checked, token_hash, careful)
            except IntegrityError:
                # an id or a seq the first query did not show: held under another station or seq, or
                # stored by a push that committed while this one waited for the station's row (its
                # first query reads what was held before); nothing of this push was stored: once more,
                # event by event
                careful = True
            except sa.exc.DBAPIError as exc:
                if not (exc.connection_invalidated and getattr(self._held, "reused", False)):
                    raise
                # a kept connection the database had dropped (a restart, an idle timeout), found by
                # the push's first statement: once more on a fresh one, as the pool's pre-ping would
                # have done (a push is idempotent in any case: a stored event comes back a duplicate)
        # the third time, an IntegrityError stands
        return self._push(station, batch.after_seq, checked, token_hash, True)

    def _push(self, station: str, after_seq: int, checked, token_hash: str | None, careful: bool) -> PushResult:
        now = utc_now()
        lo, hi = (checked[0][0], checked[-1][0]) if checked else (0, -1)
        with self._push_write() as conn:
            # ONE first query (issue 14): the epoch (read in the transaction: `rma server new-epoch`
            # takes effect while the server runs), the station's row locked (concurrent pushes of one
            # station -- retries, duplicates -- take turns), the token still valid when given, and
            # whether the server holds any seq of this batch already (events or rejections).
            found = (self._push_head if token_hash is None else self._push_head_with_token).run(
                conn, {"station": station, "token_hash": token_hash, "lo": lo, "hi": hi}, begin=not self.is_sqlite
            )
            if not found:
                if token_hash is not None:
                    raise Unauthorized("unknown or revoked token")
                raise NotFound(f"no station {station}")
            acked_before, epoch, held_any, refused_any, hooks_any = found[0]
            result = PushResult(epoch=epoch, station=station, acked_seq=0)
            hw = acked_before
            if checked:
                # The common case holds none of the batch: then no per-event SELECT at all, and an id
                # held under another station or seq fails the insert (IntegrityError: push() runs this
                # once more, careful).  A re-sent batch (held or refused seqs) is sorted out event by
                # event below.
                fast = not careful and not held_any and not refused_any
                held = (
                    {}
                    if fast
                    else {
                        r.seq: r
                        for r in conn.execute(
                            sa.select(events).where(events.c.station == station, events.c.seq.between(lo, hi))
                        )
                    }
                )
                refused = (
                    {}
                    if fast
                    else dict(
                        conn.execute(
                            sa.select(rejections.c.seq, rejections.c.event_id).where(
                                rejections.c.station == station, rejections.c.seq.between(lo, hi)
                            )
                        ).all()
                    )
                )
                fresh_ids = [] if fast else [i for s, ev, i, _, _ in checked if ev is not None and s not in held]
                taken = set()
                for chunk in _chunks(fresh_ids, 500):
                    taken |= set(
                        conn.execute(sa.select(events.c.event_id).where(events.c.event_id.in_(chunk))).scalars()
                    )
                rows, refusals = [], []
                for seq, ev, event_id, problem, payload in checked:
                    if seq in held:
                        changed = _changed_fields(held[seq], ev, event_id)
                        if not changed:
                            result.duplicates += 1
                            continue
                        old = held[seq]
                        reason = (
                            f"seq {seq} of station {station} already holds event {old.event_id} ({old.type}"
                            f"{', RMA ' + old.rma_code if old.rma_code else ''}); this re-send differs in "
                            f"{', '.join(changed)}; the server kept the first. Was the station database "
                            "restored from an old copy?"
                        )
                        result.rejected.append(Rejection(seq=seq, id=event_id, reason=reason))
                        if seq not in refused:  # the first changed re-send is kept; later ones are listed
                            refusals.append(
                                {
                                    "station": station,
                                    "seq": seq,
                                    "event_id": event_id,
                                    "reason": reason,
                                    "server_at": now,
                                }
                            )
                            refused[seq] = event_id
                        continue
                    if seq in refused:
                        if refused[seq] == event_id:
                            result.duplicates += 1
                        else:
                            result.rejected.append(
                                Rejection(
                                    seq=seq,
                                    id=event_id,
                                    reason=(
                                        f"seq {seq} of station {station} was refused before as event {refused[seq]}; "
                                        "this re-send carries another event; nothing was stored"
                                    ),
                                )
                            )
                        continue
                    if ev is not None and event_id in taken:
                        problem = f"event id {event_id} is already stored under another station or seq"
                    if problem:
                        refusals.append(
                            {"station": station, "seq": seq, "event_id": event_id, "reason": problem, "server_at": now}
                        )
                        result.rejected.append(Rejection(seq=seq, id=event_id, reason=problem))
                        continue
                    rows.append(
                        {
                            "station": station,
                            "seq": seq,
                            "event_id": event_id,
                            "type": ev.type,
                            "operator": ev.operator,
                            "at": ev.at,
                            "server_at": now,
                            "rma_code": ev.rma_code.upper() if ev.rma_code else None,
                            "refers_to": ev.refers_to,
                            "payload": payload,
                        }
                    )
                if hw >= after_seq:  # no gap before this batch: everything through its end is held
                    hw = max(hw, hi)
                hooked = hooks_any and any(row["type"] in hooks_outbox.EVENT_KINDS for row in rows)
                if rows and fast:
                    # one INSERT for the batch, with acked_seq and (nothing else to write) the commit
                    last = not (hooked or refusals or self._projects(rows))
                    self._insert_rows(conn, rows, acked=(station, hw) if hw != acked_before else None, commit=last)
                    acked_before = hw
                elif rows:
                    conn.execute(events.insert(), rows)
                if hooked:  # webhooks (server/hooks): the deliveries, in this same transaction
                    hooks_outbox.enqueue(conn, rows, now, live_endpoints=self._live_endpoints.run(conn, {}))
                if refusals:
                    conn.execute(rejections.insert(), refusals)
                result.stored = len(rows)
                result.conflicts = self._project(conn, station, rows, now)
            if hw != acked_before:
                self._set_acked.run(conn, {"station": station, "acked_seq": hw})
        result.acked_seq = hw
        return result

    def _insert_rows(
        self, conn: sa.Connection, rows: list[dict], *, acked: tuple[str, int] | None, commit: bool
    ) -> None:
        """INSERT the events rows in one statement (an id or seq held already: IntegrityError), then set
        ``acked`` (station, acked_seq) when given; ``commit``: nothing else is to be written.

        On PostgreSQL the three go as one round trip (the rows as one JSON text, see below); on SQLite,
        in this process, the UPDATE is a statement of its own and the commit SQLAlchemy's.
        """
        if not self.is_sqlite:
            # PostgreSQL: the rows as one JSON text, so the statement's text is short and the same for
            # any batch (psycopg parses a query's placeholders in Python, and caches only short ones: a
            # 100-row VALUES list cost more than the rest of the push together); and one parameter, not
            # an array per column (psycopg quotes each element of a text array in Python: ~0.25 ms of a
            # 5-event push, issue 14).  Not ASCII-escaped: PostgreSQL reads the characters in the
            # connection's encoding, whatever its own is.
            text = self._insert_json
            args: dict[str, object] = {"rows": json.dumps(rows, ensure_ascii=False)}
            if acked is not None:
                text += "; " + self._set_acked.sql
                args |= {"station": acked[0], "acked_seq": acked[1]}
            _on_cursor(conn, text + ("; COMMIT" if commit else ""), args, literal=True)
            return
        sql = self._insert_sql.get(len(rows))
        if sql is None:  # one text per batch size (at most MAX_BATCH of them)
            quote = self.engine.dialect.identifier_preparer.quote
            one = "(" + ", ".join(["?"] * len(_EVENT_COLUMNS)) + ")"
            sql = (
                f"INSERT INTO events ({', '.join(quote(c) for c in _EVENT_COLUMNS)}) "
                f"VALUES {', '.join([one] * len(rows))}"
            )
            self._insert_sql[len(rows)] = sql
        _on_cursor(conn, sql, [row[c] for row in rows for c in _EVENT_COLUMNS])
        if acked is not None:
            self._set_acked.run(conn, {"station": acked[0], "acked_seq": acked[1]})

    @staticmethod
    def _projects(rows: list[dict]) -> bool:
        """Whether :meth:`_project` writes anything for these rows: its gate, and where a push decides to
        commit with its insert (so projection work added for other rows must widen this, or never runs)."""
        return handoff.projects(rows) or any(r["rma_code"] and r["type"] in STAGE_EVENTS for r in rows)

    def _project(self, conn: sa.Connection, station: str, rows: list[dict], now: str) -> int:
        """Update each RMA's stage from the new events; record conflicts instead of choosing a winner."""
        if not self._projects(rows):
            return 0
        handoff.project(conn, rows, now, self.is_sqlite)  # first: it locks these RMA rows too (server/handoff)
        relevant = [r for r in rows if r["rma_code"] and r["type"] in STAGE_EVENTS]
        if not relevant:
            return 0
        codes = sorted({r["rma_code"] for r in relevant})
        # Lock the RMA rows read here until the commit: under READ COMMITTED two stations' receipts
        # of one RMA would otherwise both see it unreceived and neither record received_twice.
        # Locked in code order, so two pushes over the same RMAs cannot deadlock (SQLite: its writer lock).
        state = {
            row.code: dict(row._mapping)
            for row in conn.execute(
                sa.select(rmas.c.code, rmas.c.status, rmas.c.stage, rmas.c.received_station, rmas.c.received_event)
                .where(rmas.c.code.in_(codes))
                .order_by(rmas.c.code)
                .with_for_update()
            )
        }
        # a correction may only refer to the same station's events
        referred = sorted({r["refers_to"] for r in relevant if r["refers_to"]})
        owner: dict[str, str] = {}
        for chunk in _chunks(referred, 500):
            owner.update(
                conn.execute(sa.select(events.c.event_id, events.c.station).where(events.c.event_id.in_(chunk))).all()
            )
        found = 0
        for r in relevant:
            rma = state.get(r["rma_code"])
            if rma is None:
                continue  # an RMA the server never authorised: the event is kept, there is nothing to project
            before = dict(rma)
            kind, code, event_id = r["type"], r["rma_code"], r["event_id"]
            other = owner.get(r["refers_to"] or "")
            if kind in ("rma.receive_undone", "item.inspected") and other is not None and other != station:
                found += self._conflict(
                    conn,
                    "foreign_correction",
                    code,
                    [r["refers_to"], event_id],
                    [other, station],
                    f"{kind} at {station} on {r['at']} refers to event {r['refers_to']} of station {other}; "
                    f"{other}'s record is unchanged",
                    now,
                )
                continue
            if kind in ("rma.received", "item.inspected", "rma.inspected") and rma["status"] == "cancelled":
                found += self._conflict(
                    conn,
                    "cancelled_while_offline",
                    code,
                    [event_id],
                    [station],
                    f"{kind} at {station} on {r['at']} for an RMA cancelled on the server",
                    now,
                )
            if kind == "rma.received":
                if rma["received_event"] and rma["received_event"] != event_id:
                    if self._another_parcel(conn, code, rma["received_event"], event_id, r["payload"]):
                        continue  # another parcel of the RMA, received where the first was not known: no conflict
                    found += self._conflict(
                        conn,
                        "received_twice",
                        code,
                        [rma["received_event"], event_id],
                        [rma["received_station"] or "", station],
                        f"received at {rma['received_station']} and again at {station} on {r['at']}",
                        now,
                    )
                else:
                    rma.update(stage="received", received_station=station, received_event=event_id)
            elif kind == "rma.receive_undone" and r["refers_to"] == rma["received_event"]:
                rma.update(stage="expected", received_station=None, received_event=None)
            elif kind == "rma.parcel_received":  # a second parcel (sync/store/exceptions.py): the same one twice?
                key = json.loads(r["payload"]).get("parcel_key")
                twin = self._same_parcel(conn, code, key, event_id) if key else None
                if twin is not None:
                    found += self._conflict(
                        conn,
                        "received_twice",
                        code,
                        [twin[0], event_id],
                        [twin[1], station],
                        f"parcel {key} received at {twin[1]} and again at {station} on {r['at']}",
                        now,
                    )
            elif kind == "rma.inspected":
                rma["stage"] = "inspected"
            elif kind == "item.inspected":
                payload = json.loads(r["payload"])
                # the item: the RMA line's unit (several units of a line are several items), else its serial
                item = (
                    f"line {payload['line_no']} unit {payload.get('unit_no') or 1}"
                    if payload.get("line_no")
                    else payload.get("serial") or payload.get("gtin")
                )
                if item:
                    item = str(item)[:64]
                    prior = conn.execute(
                        sa.select(inspected_items.c.event_id, inspected_items.c.station).where(
                            inspected_items.c.rma_code == code, inspected_items.c.item == item
                        )
                    ).first()
                    if prior is None:
                        conn.execute(
                            inspected_items.insert().values(
                                rma_code=code, item=item, event_id=event_id, station=station
                            )
                        )
                    elif r["refers_to"] == prior.event_id:  # a correction of the earlier inspection
                        conn.execute(
                            inspected_items.update()
                            .where(inspected_items.c.rma_code == code, inspected_items.c.item == item)
                            .values(event_id=event_id, station=station)
                        )
                    else:
                        found += self._conflict(
                            conn,
                            "inspected_twice",
                            code,
                            [prior.event_id, event_id],
                            [prior.station, station],
                            f"item {item} inspected at {prior.station} and again at {station} on {r['at']}",
                            now,
                        )
            if rma != before:
                conn.execute(
                    rmas.update()
                    .where(rmas.c.code == code)
                    .values(
                        stage=rma["stage"],
                        received_station=rma["received_station"],
                        received_event=rma["received_event"],
                    )
                )
        return found

    @classmethod
    def _another_parcel(cls, conn: sa.Connection, code: str, first_event: str, event_id: str, payload: str) -> bool:
        """Whether a second ``rma.received`` of an RMA is of another parcel than every one received before: it names
        its parcel (``parcel_key``: a tracking number, a JD waybill's parcel number), the first receipt names
        another, and no other receipt names the same.  The same parcel at two stations, or labels that do not tell
        parcels apart (an RMA code), stay ``received_twice``."""
        key = json.loads(payload).get("parcel_key")
        if not key:
            return False
        first = conn.execute(sa.select(events.c.payload).where(events.c.event_id == first_event)).scalar()
        first_key = json.loads(first).get("parcel_key") if first else None
        return bool(first_key) and first_key != key and cls._same_parcel(conn, code, key, event_id) is None

    @staticmethod
    def _same_parcel(conn: sa.Connection, code: str, key: str, event_id: str) -> tuple[str, str] | None:
        """(event id, station) of another receipt of the RMA's parcel ``key`` (first or later parcel), or None."""
        rows = conn.execute(
            sa.select(events.c.event_id, events.c.station, events.c.payload).where(
                events.c.rma_code == code,
                events.c.type.in_(("rma.received", "rma.parcel_received")),
                events.c.event_id != event_id,
            )
        ).all()
        return next(((row[0], row[1]) for row in rows if json.loads(row[2]).get("parcel_key") == key), None)

    def _conflict(
        self, conn, kind: str, code: str, event_ids: list[str], station_names: list[str], detail: str, now: str
    ) -> int:
        conflict_id = conn.execute(
            conflicts.insert().values(
                kind=kind,
                rma_code=code,
                event_ids=json.dumps(event_ids),
                stations=json.dumps(station_names),
                detail=detail,
                at=now,
            )
        ).inserted_primary_key[0]
        body = Conflict(
            id=conflict_id, kind=kind, rma_code=code, event_ids=event_ids, stations=station_names, detail=detail, at=now
        )
        self._append_changes(conn, [("conflict", code, body.model_dump_json())], now)
        return 1

    def _append_changes(self, conn: sa.Connection, items: list[tuple[str, str, str]], now: str) -> None:
        if not items:
            return
        if not self.is_sqlite:
            # cursors must become visible in cursor order: writers of changes take turns
            conn.exec_driver_sql("LOCK TABLE changes IN EXCLUSIVE MODE")
        conn.execute(changes.insert(), [{"kind": k, "key": key, "body": body, "at": now} for k, key, body in items])

    # --- RMAs and checklists -----------------------------------------------------

    def import_rmas(self, records: list[RmaRecord]) -> ImportResult:
        """Create or update RMAs (cancel one by sending it with status ``cancelled``); each change is pulled."""
        now = utc_now()
        by_code: dict[str, RmaRecord] = {}
        for rec in records:
            rec = rec.model_copy(update={"rma_code": rec.rma_code.strip().upper()})
            by_code[rec.rma_code] = rec  # the last one sent wins within a request
        created = updated = unchanged = 0
        with self.write() as conn:
            by_code = risk.assess(conn, events, by_code, now, self._secret(conn, "customer_secret"))
            known: dict[str, str] = {}  # code -> the record as stored (JSON text)
            for chunk in _chunks(list(by_code), 500):
                known.update(conn.execute(sa.select(rmas.c.code, rmas.c.record).where(rmas.c.code.in_(chunk))).all())
            new_rows, changed, items = [], [], []
            for code, rec in by_code.items():
                body = rec.model_dump_json()
                if code not in known:
                    new_rows.append(
                        {
                            "code": code,
                            "record": body,
                            "status": rec.status,
                            "stage": "expected",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    created += 1
                elif known[code] != body:
                    changed.append((code, body, rec.status))
                    updated += 1
                else:
                    unchanged += 1
                    continue
                items.append(("rma", code, body))
            if new_rows:
                conn.execute(rmas.insert(), new_rows)
            for code, body, status in sorted(changed):  # rows locked in code order, as pushes lock them
                conn.execute(
                    rmas.update().where(rmas.c.code == code).values(record=body, status=status, updated_at=now)
                )
            self._append_changes(conn, items, now)
        return ImportResult(created=created, updated=updated, unchanged=unchanged)

    def put_checklist(self, doc: ChecklistDocument) -> bool:
        """Store a category's checklist document; returns False when it was already this one."""
        now = utc_now()
        with self.write() as conn:
            old = conn.execute(
                sa.select(checklists.c.document).where(checklists.c.category == doc.category)
            ).scalar_one_or_none()
            if old == doc.document:
                return False
            if old is None:
                conn.execute(checklists.insert().values(category=doc.category, document=doc.document, updated_at=now))
            else:
                conn.execute(
                    checklists.update()
                    .where(checklists.c.category == doc.category)
                    .values(document=doc.document, updated_at=now)
                )
            self._append_changes(conn, [("checklist", doc.category, doc.model_dump_json())], now)
        return True

    def changes_after(self, cursor: int, limit: int) -> ChangePage:
        """The changes after ``cursor``, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(changes.c.cursor, changes.c.kind, changes.c.body)
                .where(changes.c.cursor > cursor)
                .order_by(changes.c.cursor)
                .limit(limit + 1)
            ).all()
            epoch = self._read_epoch(conn)
        page = [
            Change.model_validate({"cursor": r.cursor, "kind": r.kind, r.kind: json.loads(r.body)})
            for r in rows[:limit]
        ]
        return ChangePage(
            epoch=epoch, changes=page, cursor=page[-1].cursor if page else cursor, has_more=len(rows) > limit
        )

    def timeline(self, code: str) -> RmaTimeline:
        """An RMA's record, status and every step of its life."""
        code = code.strip().upper()
        with self.read() as conn:
            row = conn.execute(sa.select(rmas).where(rmas.c.code == code)).first()
            history = conn.execute(
                sa.select(changes.c.body, changes.c.at)
                .where(changes.c.kind == "rma", changes.c.key == code)
                .order_by(changes.c.cursor)
            ).all()
            evs = conn.execute(
                sa.select(events).where(events.c.rma_code == code).order_by(events.c.at, events.c.pk)
            ).all()
            found = conn.execute(
                sa.select(conflicts).where(conflicts.c.rma_code == code).order_by(conflicts.c.id)
            ).all()
        if row is None and not evs:
            raise NotFound(f"no RMA {code}")
        steps, last_status = [], None
        for body, at in history:
            status = json.loads(body)["status"]
            if status != last_status:
                steps.append(TimelineEntry(at=at, what=status))
                last_status = status
        for e in evs:
            steps.append(
                TimelineEntry(
                    at=e.at,
                    what=e.type,
                    station=e.station,
                    operator=e.operator,
                    event_id=e.event_id,
                    server_at=e.server_at,
                    detail=json.loads(e.payload),
                )
            )
        steps += handoff.timeline_entries(self, code)  # the refund decision (server/handoff)
        steps.sort(key=lambda s: _sort_time(s.at, s.server_at))  # by time, not text: offsets differ
        return RmaTimeline(
            rma=RmaRecord.model_validate_json(row.record) if row else None,
            rma_code=code,
            status=row.status if row else "unknown",
            stage=row.stage if row else "unknown",
            timeline=steps,
            conflicts=[
                Conflict(
                    id=c.id,
                    kind=c.kind,
                    rma_code=c.rma_code,
                    event_ids=json.loads(c.event_ids),
                    stations=json.loads(c.stations),
                    detail=c.detail,
                    at=c.at,
                )
                for c in found
            ],
        )

    # --- photos ------------------------------------------------------------------

    def put_photo(self, sha256: str, content_type: str, data: bytes, station: str) -> bool:
        """Keep a photo (the caller checked its hash); False when it was held already."""
        if self.has_photo(sha256):
            return False
        try:
            with self.write() as conn:
                conn.execute(
                    photos.insert().values(
                        sha256=sha256,
                        content_type=content_type,
                        bytes=len(data),
                        data=data,
                        station=station,
                        received_at=utc_now(),
                    )
                )
        except IntegrityError:
            return False  # another request stored the same bytes first
        return True

    def has_photo(self, sha256: str) -> bool:
        """Whether the server holds this photo."""
        return bool(self.missing_photos([sha256]) == [])

    def photo(self, sha256: str) -> tuple[str, bytes] | None:
        """(content type, bytes) of a photo, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(photos.c.content_type, photos.c.data).where(photos.c.sha256 == sha256)).first()
        return (row.content_type, bytes(row.data)) if row else None

    def missing_photos(self, hashes: list[str]) -> list[str]:
        """The hashes of ``hashes`` the server holds no photo for, in the order asked."""
        held: set[str] = set()
        with self.read() as conn:
            for chunk in _chunks(sorted(set(hashes)), 500):
                held |= set(conn.execute(sa.select(photos.c.sha256).where(photos.c.sha256.in_(chunk))).scalars())
        return [h for h in dict.fromkeys(hashes) if h not in held]

    # --- for benchmarks (bench/sync_bench.py) and tests --------------------------------

    def station_events(self, station: str) -> list[tuple[int, str]]:
        """(seq, event id) of every event held for a station, by seq."""
        with self.read() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.select(events.c.seq, events.c.event_id).where(events.c.station == station).order_by(events.c.seq)
                )
            ]


def _sqlite_connect(dbapi_conn, _record) -> None:
    # we issue BEGIN ourselves (see the "begin" listener): pysqlite's own would start too late
    dbapi_conn.isolation_level = None
    dbapi_conn.execute("PRAGMA journal_mode = WAL")
    dbapi_conn.execute("PRAGMA synchronous = FULL")  # an acknowledged event survives a power cut
    dbapi_conn.execute("PRAGMA busy_timeout = 30000")


def _sqlite_begin(conn: sa.Connection) -> None:
    # on the DBAPI cursor: through exec_driver_sql each transaction's BEGIN was a whole SQLAlchemy
    # execution (context, result object), ~3% of a push's CPU (issue 14)
    _on_cursor(conn, "BEGIN", ())


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _changed_fields(old, ev: OutboxEvent | None, event_id: str) -> list[str]:
    """What a re-send of a held seq changes (its id, type, RMA, payload, ...); empty when it is the same event."""
    if ev is None:  # not valid (now): the same id at the same seq is still the event held, a retry
        return ["id"] if old.event_id != event_id else []
    sent = {
        "id": event_id,
        "type": ev.type,
        "operator": ev.operator,
        "at": ev.at,
        "rma_code": ev.rma_code.upper() if ev.rma_code else None,
        "refers_to": ev.refers_to,
        "payload": json.dumps(ev.payload, ensure_ascii=False, sort_keys=True),
    }
    held = {
        "id": old.event_id,
        "type": old.type,
        "operator": old.operator,
        "at": old.at,
        "rma_code": old.rma_code,
        "refers_to": old.refers_to,
        "payload": old.payload,
    }
    return [name for name in sent if sent[name] != held[name]]


def _sort_time(at: str, server_at: str) -> datetime:
    """An entry's time for ordering.

    A station time that does not parse (stored before it was checked) uses the server's.
    """
    for text in (at, server_at):
        try:
            return parse_stamp(text)
        except ValueError:
            continue
    return datetime.min.replace(tzinfo=UTC)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'event'}: {err['msg']}" for err in exc.errors())
    return str(exc)
