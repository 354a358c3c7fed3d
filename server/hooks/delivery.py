"""The delivery loop: claim due deliveries, send them signed, record what happened.

One loop runs in each server process (a thread, started and stopped with the app by
:class:`DeliveryLoopMiddleware`).  A round:

1. **claim** (one transaction): up to ``batch`` pending deliveries that are due and not
   leased, of endpoints not removed; each gets ``lease_until = now + lease``.  On PostgreSQL
   the rows are read ``FOR UPDATE SKIP LOCKED``, so several server processes never claim the
   same row; a process that dies holding a lease loses it when the lease runs out, and its
   deliveries are sent again (at least once, same delivery id).  SQLite is one process: its
   leases are released when the server starts;
2. **send**, outside any transaction, over keep-alive connections from ``senders`` threads; a
   sender stops starting new requests once its lease could run out before an answer, and
   after a connection failure (refused, reset, timeout) to an endpoint it leaves the rest of
   that endpoint's share for the next round instead of waiting on each in turn;
3. **record** (one transaction): delivered; or failed with the error and the next try due
   after ``uniform(0, min(cap, backoff * 2 ** (attempts - 1)))`` seconds (exponential backoff,
   full jitter); or, after ``tries`` attempts, dead (``rma server webhooks dead``; ``replay``
   puts it back).  Only rows still under this round's lease are written.

A 2xx answer is a delivery; any other answer, a timeout or a connection failure is a failed try.
"""

from __future__ import annotations

import http.client
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from server.db import ServerDb, utc_now
from server.hooks import signing
from server.hooks.outbox import DEAD, DELIVERED, PENDING, deliveries, endpoints, wake

log = logging.getLogger("rma.server.webhooks")

MAX_ANSWER = 64 * 1024  # bytes of an answer read to keep the connection; a longer one closes it


@dataclass
class HookSettings:
    """How deliveries are tried; :meth:`from_env` reads ``RMA_WEBHOOK_*`` (see README)."""

    tries: int = 8  # attempts before a delivery is dead
    timeout: float = 10.0  # seconds to connect and to wait for each answer
    backoff: float = 1.0  # the first retry is due within this many seconds, then doubling
    backoff_cap: float = 3600.0
    lease: float = 0.0  # seconds a claim is held; 0: timeout + 10
    # seconds between looks when nothing is due: for deliveries queued by another process (`webhooks
    # replay`); a push in this process wakes the loop at once, and a retry is looked for when it is due
    poll: float = 5.0
    batch: int = 500
    senders: int = 8

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HookSettings:
        """Settings from ``RMA_WEBHOOK_TRIES``, ``_TIMEOUT``, ``_BACKOFF``, ``_BACKOFF_CAP``, ``_LEASE``, ``_SENDERS``,
        ``_POLL``."""
        env = dict(os.environ if env is None else env)
        made = cls()
        for name, kind in (
            ("tries", int),
            ("timeout", float),
            ("backoff", float),
            ("backoff_cap", float),
            ("lease", float),
            ("senders", int),
            ("poll", float),
        ):
            text = env.get(f"RMA_WEBHOOK_{name.upper()}")
            if text:
                setattr(made, name, kind(text))
        return made

    @property
    def lease_seconds(self) -> float:
        return self.lease or self.timeout + 10.0

    def retry_delay(self, attempts: int) -> float:
        """Full jitter: uniform over [0, min(cap, backoff * 2^(attempts-1))]."""
        return random.uniform(0.0, min(self.backoff_cap, self.backoff * 2 ** max(0, attempts - 1)))


@dataclass
class Claimed:
    """One delivery this round holds."""

    id: str
    endpoint_id: int
    url: str
    key: bytes
    body: bytes
    attempts: int


@dataclass
class Outcome:
    """What happened to one claimed delivery: ok, failed (with error) or released (not tried)."""

    id: str
    ok: bool = False
    error: str = ""
    tried: bool = True


class Sender:
    """Keep-alive HTTP(S) connections per thread and endpoint, and one POST on them."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def _connections(self) -> dict[tuple[str, str, int], http.client.HTTPConnection]:
        found = getattr(self._local, "connections", None)
        if found is None:
            found = self._local.connections = {}
        return found

    def close(self) -> None:
        """Close this thread's connections."""
        for conn in self._connections().values():
            conn.close()
        self._connections().clear()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, str, bool]:
        """(delivered, error, connection failed) for one POST."""
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        pool = self._connections()
        for fresh in (False, True):
            conn = pool.get((scheme, host, port))
            reused = conn is not None and not fresh
            if conn is None or fresh:
                if conn is not None:
                    conn.close()
                conn = (
                    http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._tls)
                    if scheme == "https"
                    else http.client.HTTPConnection(host, port, timeout=self.timeout)
                )
                pool[(scheme, host, port)] = conn
            try:
                conn.request("POST", path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read(MAX_ANSWER)
                if not answer.isclosed():
                    conn.close()  # more than we read: not worth keeping
                if 200 <= answer.status < 300:
                    return True, "", False
                return False, f"HTTP {answer.status} {answer.reason}".strip(), False
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                pool.pop((scheme, host, port), None)
                if reused:
                    continue  # a kept-alive connection the receiver had closed: once more, on a new one
                return False, f"connection closed by {host}:{port} ({type(exc).__name__})", True
            except TimeoutError:
                conn.close()
                pool.pop((scheme, host, port), None)
                return False, f"no answer from {host}:{port} within {self.timeout:g} s", True
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                pool.pop((scheme, host, port), None)
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                return False, f"cannot reach {host}:{port}: {reason}", True
        return False, f"connection closed by {host}:{port}", True


class DeliveryLoop:
    """Claims, sends and records deliveries until stopped (see the module docstring)."""

    def __init__(
        self,
        db: ServerDb,
        settings: HookSettings | None = None,
        clock: Callable[[], float] = time.time,
        chores: Sequence[Callable[[], object]] = (),
    ):
        self.db = db
        # other periodic work of the server (SLA escalations and the daily digest, server/sla.py): each is
        # called after every round and keeps its own schedule; what one raises is logged, the loop goes on
        self.chores = tuple(chores)
        self.settings = settings or HookSettings.from_env()
        self.clock = clock
        self.sender = Sender(self.settings.timeout)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._keys: dict[str, bytes] = {}
        self._next_due: float | None = None  # when the earliest pending delivery can be claimed (claim's last look)

    # --- running --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop's thread (SQLite: first release the leases a killed process left)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.settings.senders, thread_name_prefix="rma-webhook-send")
        self._thread = threading.Thread(target=self._run, name="rma-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the round in progress (its outcomes are recorded)."""
        self._stop.set()
        wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _run(self) -> None:
        failing = ""
        released = not self.db.is_sqlite
        while not self._stop.is_set():
            wake.clear()  # before the round: a push during it wakes the next wait, not a wait already over
            try:
                if not released:
                    self.release_leases()
                    released = True
                done = self.run_once()
                failing = ""
            except SQLAlchemyError as exc:
                text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1]
                if text != [failing]:
                    failing = text[0] if text else type(exc).__name__
                    log.warning("webhooks: the database failed (%s); deliveries wait, nothing is lost", failing)
                self._stop.wait(1.0)
                continue
            for chore in self.chores:
                try:
                    chore()
                except Exception as exc:  # noqa: BLE001 - a chore's failure must not stop the deliveries
                    log.warning("server chore %s failed: %s", getattr(chore, "__name__", chore), exc)
            if done == 0:
                wake.wait(self.idle_seconds())

    def idle_seconds(self) -> float:
        """How long to wait, nothing being due: until the earliest pending delivery is, at most ``poll`` s.

        Issue 14: every look is a transaction; at two a second they were most of what an idle server
        process burnt.  Pushes in this process wake the loop at once (``wake``).
        """
        if self._next_due is None:
            return self.settings.poll
        return min(self.settings.poll, max(0.0, self._next_due - self.clock()))

    def release_leases(self) -> int:
        """Release every lease (only where this is the one process: SQLite at start-up)."""
        with self.db.write() as conn:
            return conn.execute(
                deliveries.update()
                .where(deliveries.c.status == PENDING, deliveries.c.lease_until.is_not(None))
                .values(lease_until=None)
            ).rowcount

    # --- one round ------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim, send and record one batch; returns how many deliveries were claimed."""
        now = self.clock()
        lease_until = now + self.settings.lease_seconds
        claimed = self.claim(now, lease_until)
        if not claimed:
            return 0
        outcomes = self.send(claimed, time.monotonic() + self.settings.lease_seconds)
        self.record(claimed, outcomes, lease_until)
        return len(claimed)

    def claim(self, now: float, lease_until: float) -> list[Claimed]:
        """Take up to ``batch`` due deliveries under a lease until ``lease_until``."""
        query = (
            sa.select(
                deliveries.c.id,
                deliveries.c.endpoint_id,
                deliveries.c.body,
                deliveries.c.attempts,
                endpoints.c.url,
                endpoints.c.secret,
            )
            .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.next_at <= now,
                sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
                endpoints.c.removed_at.is_(None),
            )
            .order_by(deliveries.c.next_at)
            .limit(self.settings.batch)
        )
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=deliveries)
        with self.db.write() as conn:
            rows = conn.execute(query).all()
            if not rows:
                # when the first one can be: not before its next try, nor while another process leases it
                due = sa.case(
                    (deliveries.c.lease_until > deliveries.c.next_at, deliveries.c.lease_until),
                    else_=deliveries.c.next_at,
                )
                self._next_due = conn.execute(
                    sa.select(sa.func.min(due))
                    .select_from(deliveries.join(endpoints, endpoints.c.id == deliveries.c.endpoint_id))
                    .where(deliveries.c.status == PENDING, endpoints.c.removed_at.is_(None))
                ).scalar()
                return []
            ids = [r.id for r in rows]
            for start in range(0, len(ids), 500):
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(ids[start : start + 500]))
                    .values(lease_until=lease_until)
                )
        return [Claimed(r.id, r.endpoint_id, r.url, self._key(r.secret), r.body.encode(), r.attempts) for r in rows]

    def _key(self, secret: str) -> bytes:
        key = self._keys.get(secret)
        if key is None:
            key = self._keys[secret] = signing.secret_key(secret)
        return key

    def send(self, claimed: list[Claimed], lease_end: float) -> list[Outcome]:
        """Send every claimed delivery (in parallel shares per endpoint); one outcome each."""
        by_endpoint: dict[int, list[Claimed]] = {}
        for c in claimed:
            by_endpoint.setdefault(c.endpoint_id, []).append(c)
        shares: list[list[Claimed]] = []
        per = max(1, self.settings.senders // max(1, len(by_endpoint)))
        for items in by_endpoint.values():
            n = max(1, min(per, len(items) // 16 or 1))
            shares.extend(items[i::n] for i in range(n))
        if self._pool is None or len(shares) == 1:
            return [o for share in shares for o in self._send_share(share, lease_end)]
        return [o for done in self._pool.map(lambda s: self._send_share(s, lease_end), shares) for o in done]

    def _send_share(self, share: list[Claimed], lease_end: float) -> list[Outcome]:
        outcomes: list[Outcome] = []
        latest_start = lease_end - self.settings.timeout - 1.0
        for n, c in enumerate(share):
            if (self._stop.is_set() and n) or time.monotonic() > latest_start:
                outcomes.extend(Outcome(rest.id, tried=False) for rest in share[n:])
                break
            stamp = int(self.clock())
            ok, error, unreachable = self.sender.post(c.url, c.body, signing.headers(c.key, c.id, stamp, c.body))
            outcomes.append(Outcome(c.id, ok=ok, error=error))
            if unreachable:  # the endpoint is down: the rest of its share waits for the next round
                outcomes.extend(Outcome(rest.id, error=error, tried=False) for rest in share[n + 1 :])
                break
        return outcomes

    def record(self, claimed: list[Claimed], outcomes: list[Outcome], lease_until: float) -> None:
        """Write each outcome, for rows still under this round's lease."""
        attempts = {c.id: c.attempts for c in claimed}
        now_text, now = utc_now(), self.clock()
        delivered, failed, released = [], [], []
        for o in outcomes:
            if o.ok:
                delivered.append(o.id)
            elif o.tried:
                tries = attempts[o.id] + 1
                failed.append(
                    {
                        "b_id": o.id,
                        "b_lease": lease_until,
                        "attempts": tries,
                        "status": DEAD if tries >= self.settings.tries else PENDING,
                        "next_at": now + self.settings.retry_delay(tries),
                        "last_error": o.error[:500],
                    }
                )
            else:
                released.append(o.id)
        held = deliveries.c.lease_until == lease_until  # still this round's: not taken over after a lease ran out
        with self.db.write() as conn:
            for start in range(0, len(delivered), 500):  # one statement for the common case
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(delivered[start : start + 500]), held)
                    .values(
                        status=DELIVERED,
                        attempts=deliveries.c.attempts + 1,
                        lease_until=None,
                        last_error=None,
                        delivered_at=now_text,
                    )
                )
            if failed:
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == sa.bindparam("b_id"), deliveries.c.lease_until == sa.bindparam("b_lease"))
                    .values(
                        status=sa.bindparam("status"),
                        attempts=sa.bindparam("attempts"),
                        next_at=sa.bindparam("next_at"),
                        last_error=sa.bindparam("last_error"),
                        lease_until=None,
                    ),
                    failed,
                )
            for start in range(0, len(released), 500):
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(released[start : start + 500]), held)
                    .values(next_at=now + self.settings.backoff, lease_until=None)
                )


class DeliveryLoopMiddleware:
    """ASGI middleware: the delivery loop starts with the app's lifespan and stops with it."""

    def __init__(
        self,
        app,
        db: ServerDb,
        settings: HookSettings | None = None,
        enabled: bool = True,
        chores: Sequence[Callable[[], object]] = (),
    ):
        self.app = app
        self.loop = DeliveryLoop(db, settings, chores=chores) if enabled else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan" or self.loop is None:
            return await self.app(scope, receive, send)
        loop = self.loop

        async def lifespan_receive():
            message = await receive()
            if message["type"] == "lifespan.startup":
                loop.start()
            elif message["type"] == "lifespan.shutdown":
                import asyncio

                await asyncio.to_thread(loop.stop)
            return message

        await self.app(scope, lifespan_receive, send)
