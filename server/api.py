"""The central server's HTTP API (FastAPI): stations push events and pull changes.

Stations authenticate with a bearer token; the station a request speaks for is
the token's, never one named in the body.  Integrations (ERP, returns portal)
have tokens of role ``integration`` and may create RMAs and checklists.

Limits answer with one line in ``detail``: a body over ``max_body`` bytes (a
photo over ``MAX_PHOTO_BYTES``) -> 413; a batch, field or page out of bounds -> 422; more requests per token than
the rate limit allows -> 429 with ``Retry-After``; the database unreachable ->
503 with ``Retry-After``.

Before a byte of the body is read, :class:`TokenGate` checks the bearer token (401) and
refuses an address with too many failed authentications (429 with ``Retry-After``); then
:class:`BodyLimit` reads the body against a size limit (413) and a deadline that grows with
what arrives (408).  Slow request headers are cut by the protocol in :mod:`server.run`.
"""

import asyncio
import collections
import contextlib
import hashlib
import io
import math
import os
import queue
import re
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from PIL import Image
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.db import BadBatch, NotFound, ServerDb, ServerError, Unauthorized, ValidBatch, token_hash
from server.handoff.routes import add_routes as add_handoff_routes
from server.hooks.delivery import DeliveryLoopMiddleware
from server.reports_api import add_report_routes
from server.risk import FlaggedCustomer
from server.sla import OverdueItem, OverdueReport, SlaWatch, WarmAtStart, current_policy, overdue_report
from server.ui import include_pages
from server.ui.status import LINK_DAYS, StatusLink, link_for
from sync.protocol import (
    API_PREFIX,
    DEFAULT_PRIORITY,
    MAX_BODY_BYTES,
    MAX_PAGE,
    MAX_PHOTO_BYTES,
    MAX_SEQ,
    PHOTO_TYPES,
    ChangePage,
    ChecklistDocument,
    ErrorBody,
    Health,
    ImportResult,
    PhotoHashes,
    PhotoStored,
    PushBatch,
    PushResult,
    RmaImport,
    RmaTimeline,
    SlaPolicy,
    StationStatus,
    image_type,
)
from sync.sla import policy_to_wire, stamp


class RateLimiter:
    """A token bucket per station: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait_needed(self, key: str) -> float:
        """0 if the request may go now (and count it), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


class FailedAuthLimit:
    """Failed authentications per client address: ``per_minute`` of them at once, then one per ``60 / per_minute`` s.

    Held in this process: under ``rma server --workers N`` an address may fail N times as often.
    """

    def __init__(self, per_minute: float):
        self.rate, self.burst = per_minute / 60.0, max(1.0, per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, then = self._buckets.get(address, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def wait_needed(self, address: str) -> float:
        """0 if this address may try to authenticate now, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        tokens = self._tokens(address, time.monotonic())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def failed(self, address: str) -> None:
        """Count one failed authentication of this address."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > 10_000:  # forget addresses that have earned their allowance back
                self._buckets = {a: b for a, b in self._buckets.items() if self._tokens(a, now) < self.burst}
            self._buckets[address] = (self._tokens(address, now) - 1, now)


OPEN_PATHS = {f"{API_PREFIX}/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/ui"}
# the web pages (server/ui): supervisors sign in with a password, customers open a signed link
OPEN_PREFIXES = ("/ui/", "/status/")


async def answer(send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Send a one-line error answer from a middleware, and close the connection (the body may still be coming)."""
    payload = ErrorBody(detail=detail).model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"connection", b"close"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class KnownTokens:
    """Tokens this process has seen valid: token hash -> (station, role), so a push needs no query of its own.

    Only a hint for :class:`TokenGate`: a token found here is let in to send its body, and the
    request itself confirms it in the database -- a push in its own transaction's first query
    (:meth:`ServerDb.push` with ``token_hash``), any other request by :meth:`ServerDb.station_for_token`.
    So a revocation (or a new token for the station) stops the very next request in every worker
    process; a revoked token is forgotten here at its first refusal.  A station's role never
    changes under one token (a new role means a new token), so the role held here is the token's.
    """

    def __init__(self, size: int = 10_000):
        self.size = size
        self._known: dict[str, tuple[str, str]] = {}

    def get(self, hashed: str) -> tuple[str, str] | None:
        """(station, role) this token had when last seen valid, or None."""
        return self._known.get(hashed)

    def add(self, hashed: str, station: tuple[str, str]) -> None:
        """Remember a token the database just confirmed."""
        if len(self._known) >= self.size:
            self._known.clear()  # many stations' tokens: start again, they come back one query each
        self._known[hashed] = station

    def forget(self, hashed: str) -> None:
        """A token the database refused: revoked, or replaced by a new one."""
        self._known.pop(hashed, None)


class TokenGate:
    """ASGI middleware: check the bearer token before anything reads the body.

    An unknown token answers 401 and counts against the client address; an address over its
    :class:`FailedAuthLimit` answers 429 with ``Retry-After`` without looking at the token.  The
    station found is handed to the app in ``scope["state"]["rma_station"]``, and the token's hash in
    ``scope["state"]["rma_token"]`` when it came from :class:`KnownTokens` (the app confirms it
    then) -- None when the database confirmed it just now.
    """

    def __init__(self, app, db: ServerDb, failures: FailedAuthLimit, known: KnownTokens):
        self.app, self.db, self.failures, self.known = app, db, failures, known

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("unknown",))[0]
        wait = self.failures.wait_needed(address)
        if wait:
            seconds = str(max(1, math.ceil(wait)))
            return await answer(
                send,
                429,
                f"too many failed authentications from {address}; retry in {seconds} s",
                [(b"retry-after", seconds.encode())],
            )
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        found, problem, unconfirmed = None, "missing bearer token", None
        if scheme.lower() == "bearer" and token.strip():
            hashed = token_hash(token.strip())
            found = self.known.get(hashed)
            if found is not None:
                unconfirmed = hashed  # the request confirms it in the database (KnownTokens)
        if found is None and scheme.lower() == "bearer" and token.strip():
            try:
                found = await run_in_threadpool(self.db.station_for_token, token.strip())
            except OperationalError:
                return await answer(
                    send,
                    503,
                    "the server's database is unavailable; nothing was stored, retry later",
                    [(b"retry-after", b"5")],
                )
            problem = "unknown or revoked token"
            if found is not None:
                self.known.add(hashed, found)
        if found is None:
            self.failures.failed(address)
            return await answer(send, 401, problem, [(b"www-authenticate", b"Bearer")])
        state = scope.setdefault("state", {})
        state["rma_station"], state["rma_token"] = found, unconfirmed
        await self.app(scope, receive, send)


PHOTO_PATH = re.compile(rf"^{API_PREFIX}/photos/[0-9a-f]{{64}}$")
MIN_BODY_RATE = 16 * 1024  # bytes a second a body must average, after the first body_timeout seconds


class BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` (a photo: ``max_photo``) with 413 before the app reads them,
    and bodies that do not arrive within ``body_timeout`` s plus one second per ``MIN_BODY_RATE`` bytes with 408."""

    def __init__(self, app, max_bytes: int, max_photo: int = MAX_PHOTO_BYTES, body_timeout: float = 30.0):
        self.app, self.max_bytes, self.max_photo, self.body_timeout = app, max_bytes, max_photo, body_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        photo = bool(PHOTO_PATH.match(scope.get("path", "")))
        limit = self.max_photo if photo else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, photo, limit)
        # chunked or lying bodies: read up to the limit, then hand the body on
        chunks, size, more = [], 0, True
        started = time.monotonic()
        while more:
            left = started + self.body_timeout + size / MIN_BODY_RATE - time.monotonic()
            try:
                async with asyncio.timeout(max(left, 0.001)):  # no task of its own, as wait_for made (3.11)
                    message = await receive()
            except TimeoutError:
                return await answer(
                    send,
                    408,
                    f"the request body did not arrive in time ({size} bytes in "
                    f"{time.monotonic() - started:.0f} s); nothing was stored, "
                    "send it again",
                )
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._refuse(send, photo, limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send, photo: bool, limit: int):
        refusal = (
            f"photo larger than {limit} bytes ({limit // 2**20} MB); nothing was stored"
            if photo
            else f"request body larger than {limit} bytes; send smaller batches"
        )
        await answer(send, 413, refusal)


class PushThreads:
    """The threads pushes run in: at most ``size`` (as many as pooled connections), started as pushes
    overlap, each calling ``initializer`` first (it keeps its database connection between pushes).

    A lighter hop than ``run_in_executor`` on a ThreadPoolExecutor (issue 14: its concurrent future,
    chained to an asyncio one, cost ~15% of a push's CPU): the job goes to a thread's own SimpleQueue
    and its outcome comes back by one ``call_soon_threadsafe``.

    The thread that finished last takes the next push (last in, first out): paced pushes seldom
    overlap, so one thread does nearly all of them, with its caches warm and, on SQLite, its
    connection's page cache still valid (a commit by another connection makes a connection read its
    pages again); handed round every thread in turn, a paced push cost ~0.1-0.2 ms more CPU (issue 14).
    The bookkeeping (which threads are idle, which pushes wait for one) is done on the event loop's
    thread only.  The threads end when this object is dropped.
    """

    def __init__(self, size: int, initializer: Callable[[], None]):
        self.size, self.initializer = size, initializer
        self.inboxes: list[queue.SimpleQueue] = []  # one per thread started
        self.idle: list[queue.SimpleQueue] = []  # the inboxes of idle threads, the last one idle last
        self.waiting: collections.deque = collections.deque()  # jobs while every thread is busy
        weakref.finalize(self, _stop_threads, self.inboxes)

    async def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` in one of the threads; its result (or its exception)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        job = (work, loop, done, self._finished)
        if self.idle:
            self.idle.pop().put(job)
        elif len(self.inboxes) < self.size:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            self.inboxes.append(inbox)
            name = f"rma-push-{len(self.inboxes) - 1}"
            threading.Thread(target=_push_thread, args=(inbox, self.initializer), name=name, daemon=True).start()
            inbox.put(job)
        else:
            self.waiting.append(job)
        return await done

    def _finished(self, inbox: queue.SimpleQueue, done: asyncio.Future, result: Any, exc: BaseException | None) -> None:
        """On the loop: a thread's outcome; the thread takes the next waiting push, or is idle."""
        if self.waiting:
            inbox.put(self.waiting.popleft())
        else:
            self.idle.append(inbox)
        if done.cancelled():
            return
        if exc is not None:
            done.set_exception(exc)
        else:
            done.set_result(result)


def _push_thread(inbox: queue.SimpleQueue, initializer: Callable[[], None]) -> None:
    initializer()
    while (job := inbox.get()) is not None:
        work, loop, done, finished = job
        job = None  # hold nothing of a finished push while waiting for the next
        try:
            outcome: tuple[Any, BaseException | None] = (work(), None)
        except Exception as exc:  # noqa: BLE001 - handed to the request, which raises it there
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # a closed event loop: nobody waits for this any more
            loop.call_soon_threadsafe(finished, inbox, done, *outcome)
        del work, loop, done, finished, outcome


def _stop_threads(inboxes: list[queue.SimpleQueue]) -> None:
    for inbox in inboxes:
        inbox.put(None)


PUSH_PATH = f"{API_PREFIX}/events"
DATABASE_DOWN = "the server's database is unavailable; nothing was stored, retry later"


class PushLane:
    """ASGI middleware: the hot path of a station's push, without FastAPI's routing and body handling.

    Issue 14: a hundred stations push every second, and FastAPI's per-request machinery cost
    more CPU than the storage.  Behind :class:`TokenGate` (token known) and :class:`BodyLimit`
    (whole body in hand), a well-formed push from a station token goes straight to
    :meth:`ServerDb.push` in a worker thread and its answer is serialised once by pydantic.
    Everything else -- a body that does not validate, another content type, an integration token,
    a batch that is not consecutive, a token refused by the database -- is handed to the FastAPI
    route ``POST /api/v1/events`` unchanged (it gives the one definition of every refusal, and the
    OpenAPI document); what it hands on has written nothing.

    The push never runs on the event loop's thread, even alone: its commit waits for the disk
    (SQLite's fsync, PostgreSQL's WAL flush), and while it waited no other request could even be
    read.  Issue 14 measured a lone push on the loop at ~0.1-0.2 ms less CPU than the hop.
    """

    def __init__(self, app, db: ServerDb, limiter: RateLimiter, known: KnownTokens):
        self.app, self.db, self.limiter, self.known = app, db, limiter, known
        # as many threads as pooled connections: a push never waits for a connection, the other
        # requests (anyio's threads) have the pool's overflow; and a lighter hop than anyio's
        self.threads = PushThreads(db.pool_size, db.keep_connection_in_this_thread)

    async def __call__(self, scope, receive, send):
        state = scope.get("state") or {}
        who = state.get("rma_station")
        if scope["type"] != "http" or scope["path"] != PUSH_PATH or scope["method"] != "POST" or who is None:
            return await self.app(scope, receive, send)
        if who[1] != "station" or self.limiter.wait_needed(who[0]):
            return await self.app(scope, receive, send)  # the route's 403 / 429
        state["rma_throttled"] = True  # counted against the rate limit here, once
        declared = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        message = await receive()  # BodyLimit hands the whole body in one message
        body, first = message.get("body", b""), [message]

        async def replay():  # what was read, then whatever else the client sends
            return first.pop() if first else await receive()

        if declared != b"application/json" or message.get("more_body"):
            return await self.app(scope, replay, send)
        try:
            batch: PushBatch | ValidBatch = ValidBatch.model_validate_json(body)  # every event checked, one pass
        except ValidationError:
            try:
                batch = PushBatch.model_validate_json(body)  # an invalid event is rejected by itself
            except ValidationError:
                return await self.app(scope, replay, send)  # the route's 422, word for word
        try:
            result = await self.threads.run(partial(self.db.push, who[0], batch, token_hash=state.get("rma_token")))
        except (BadBatch, Unauthorized):  # refused before anything was written
            return await self.app(scope, replay, send)
        except OperationalError:
            return await self._send(send, 503, ErrorBody(detail=DATABASE_DOWN), [(b"retry-after", b"5")])
        await self._send(send, 200, result)

    @staticmethod
    async def _send(send, status: int, body, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        payload = body.model_dump_json().encode()
        start = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json"), *headers]
        await send({"type": "http.response.start", "status": status, "headers": start})
        await send({"type": "http.response.body", "body": payload})


class StationApi(FastAPI):
    """The FastAPI app with this server's own ASGI checks in front: every HTTP request goes through
    ``front`` (:class:`TokenGate` -> :class:`BodyLimit` -> :class:`PushLane`), which hands what it
    does not answer itself to :meth:`behind`, FastAPI's whole stack.

    Issue 14: as FastAPI middleware the checks ran inside FastAPI's own layers (error handling,
    telemetry looking up its settings, body limit), ~6% of a push's CPU spent on a request that
    never reaches a route.  An exception in ``front`` is uvicorn's 500, as FastAPI's was.
    """

    front: Any = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.front is not None:
            return await self.front(scope, receive, send)
        await super().__call__(scope, receive, send)

    async def behind(self, scope, receive, send) -> None:
        """FastAPI's own handling, routes and middleware."""
        await super().__call__(scope, receive, send)


def photo_problem(data: bytes, declared: str) -> str | None:
    """Why ``data`` is not a whole image of the ``declared`` type (decoded, not sniffed), or None."""
    kind = PHOTO_TYPES[declared]
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != kind.upper():
                return f"the body is a {img.format} image, not {kind}; nothing was stored"
            img.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))  # JPEG: all the data, 1/8 the pixels
            img.load()
    except Exception as exc:  # noqa: BLE001 - whatever a decoder raises on hostile bytes is a refusal
        return (
            f"the body is not a whole {kind} image ({str(exc).splitlines()[0][:120] or type(exc).__name__}); "
            "nothing was stored"
        )
    return None


def one_line(text: str) -> str:
    """An error's ``detail``: one line, with control characters shown escaped (it may quote the request)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def create_app(
    db: ServerDb,
    *,
    rate: float = 50.0,
    burst: int = 100,
    max_body: int = MAX_BODY_BYTES,
    max_photo: int = MAX_PHOTO_BYTES,
    body_timeout: float = 30.0,
    auth_failures: float = 30.0,
) -> FastAPI:
    """The API over one :class:`ServerDb`.

    ``auth_failures``: failed authentications a minute per address (0: no limit).
    """
    app = StationApi(
        title="RMA Station central server",
        version="1",
        description="Stations push their outbox events and pull RMA, checklist and conflict changes. "
        "Besides this API the server serves the supervisors' web UI under /ui/ (a password of "
        "`rma server add-user`) and the customers' status pages under /status/… (a link from "
        "GET /api/v1/rmas/{code}/status-link).",
    )
    app.state.db = db
    limiter = RateLimiter(rate, burst)
    known = KnownTokens()
    # FastAPI's `responses` is keyed by status (int or "default") with a free-form description each
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody} for status in (400, 401, 408, 413, 422, 429, 503)
    }
    forbidden = errors | {403: {"model": ErrorBody}}  # the token's role may not do this

    def station_of(request: Request) -> tuple[str, str]:
        state = request.scope.get("state", {})
        found = state.get("rma_station")  # TokenGate checked the token already
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if found is None and (scheme.lower() != "bearer" or not token.strip()):
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        if found is None or state.get("rma_token"):  # not checked yet, or only known from before: ask now
            found = db.station_for_token(token.strip())
        if found is None:
            known.forget(state.get("rma_token") or "")
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        throttle(found[0])
        return found

    def throttle(station: str) -> None:
        wait = limiter.wait_needed(station)
        if wait:
            raise HTTPException(
                429,
                f"too many requests for station {station}; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    Station = Annotated[tuple[str, str], Depends(station_of)]

    def integration(who: Station) -> str:
        if who[1] != "integration":
            raise HTTPException(403, f"{who[0]} is a station token; RMAs and checklists come from integrations")
        return who[0]

    @app.exception_handler(RequestValidationError)
    async def one_line_422(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")  # a key of the request's own body, maybe
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        return JSONResponse({"detail": one_line(f"{where or 'body'}: {first['msg']}{more}")}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def one_line_error(_request, exc: StarletteHTTPException):
        return JSONResponse({"detail": one_line(str(exc.detail))}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    async def database_down(_request, exc: OperationalError):
        return JSONResponse(
            {"detail": DATABASE_DOWN},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.get(f"{API_PREFIX}/health", response_model=Health, responses={503: {"model": ErrorBody}})
    def health() -> Health:
        """For load balancers and probes: answers once the database does."""
        db.ping()
        return Health(status="ok", epoch=db.epoch(), database=db.database)

    @app.get(f"{API_PREFIX}/station", response_model=StationStatus, responses=errors)
    def station_status(who: Station) -> StationStatus:
        """The asking station's name, the epoch and through which seq its events are held."""
        return db.station_status(who[0])

    @app.get(f"{API_PREFIX}/sla", response_model=SlaPolicy, responses=errors)
    def sla_policy(_who: Station) -> SlaPolicy:
        """The SLA limits in force (sla.yaml, else the defaults): stations count their backlog with them."""
        return policy_to_wire(current_policy())

    @app.post(f"{API_PREFIX}/events", response_model=PushResult, responses=forbidden)
    async def push(batch: PushBatch, request: Request) -> Response:
        """Store a batch of outbox events once each (idempotent by station + seq)."""
        # A well-formed push never gets here: PushLane takes it (issue 14).  This route answers the
        # rest (every refusal has its one definition here) and defines the push in the OpenAPI
        # document; the token is confirmed in the push's own transaction when TokenGate took it
        # from KnownTokens.
        state = request.scope.get("state", {})
        who, hashed = state.get("rma_station"), state.get("rma_token")
        if who is None:  # the app without TokenGate in front: the ordinary check
            who, hashed = await run_in_threadpool(station_of, request), None
        elif not state.get("rma_throttled"):  # PushLane counted it already
            throttle(who[0])
        if who[1] != "station":
            raise HTTPException(403, "only station tokens push events")
        try:
            result = await run_in_threadpool(lambda: db.push(who[0], batch, token_hash=hashed))
        except BadBatch as exc:
            raise HTTPException(422, str(exc)) from exc
        except Unauthorized as exc:
            known.forget(hashed or "")
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        return Response(result.model_dump_json(), media_type="application/json")

    @app.get(f"{API_PREFIX}/changes", response_model=ChangePage, responses=errors)
    def pull(
        who: Station,
        after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
        fields: Annotated[
            str, Query(max_length=200, description="RMA record fields the station reads that older ones do not")
        ] = "",
    ) -> ChangePage:
        """Changes (RMAs, checklists, conflicts) after a cursor, oldest first."""
        page = db.changes_after(after, limit)
        if "priority" not in fields.split(","):  # a station of an older release: its RmaRecord has no priority
            for change in page.changes:
                if change.rma is not None and change.rma.priority != DEFAULT_PRIORITY:
                    change.rma = change.rma.model_copy(update={"priority": DEFAULT_PRIORITY})
        return page

    @app.post(f"{API_PREFIX}/rmas", response_model=ImportResult, responses=forbidden)
    def import_rmas(body: RmaImport, _who: Annotated[str, Depends(integration)]) -> ImportResult:
        """Create or update RMAs; a cancellation is an RMA sent again with status ``cancelled``."""
        return db.import_rmas(body.rmas)

    @app.get(f"{API_PREFIX}/rmas/{{code}}", response_model=RmaTimeline, responses=errors | {404: {"model": ErrorBody}})
    def rma_timeline(code: str, _who: Station) -> RmaTimeline:
        """An RMA's status and timeline: what customer-facing tracking shows."""
        try:
            return db.timeline(code)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc

    @app.get(f"{API_PREFIX}/reports/risk", response_model=list[FlaggedCustomer], responses=forbidden)
    def risk_report(
        _who: Annotated[str, Depends(integration)],
        limit: Annotated[int, Query(ge=1, le=10_000, description="the first so many customers")] = 1000,
    ) -> list[FlaggedCustomer]:
        """Customers worth a full inspection: frequent returners, earlier item mismatches, serials seen before.

        Customers are matched by a keyed hash of the id or e-mail an import carried (``customer``);
        the report names them only by the first 12 hex digits of it, most returns first.
        """
        return db.risk_report(limit)

    @app.get(
        f"{API_PREFIX}/rmas/{{code}}/status-link",
        response_model=StatusLink,
        responses=forbidden | {404: {"model": ErrorBody}},
    )
    def status_link(
        code: str,
        request: Request,
        _who: Annotated[str, Depends(integration)],
        days: Annotated[int, Query(ge=1, le=365)] = LINK_DAYS,
    ) -> StatusLink:
        """A signed link to the customer's status page of this RMA, valid ``days`` days (the ERP mails it)."""
        try:
            return link_for(db, code, days=days, base_url=str(request.base_url))
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc

    @app.put(f"{API_PREFIX}/checklists/{{category}}", responses=forbidden)
    def put_checklist(category: str, body: ChecklistDocument, _who: Annotated[str, Depends(integration)]) -> dict:
        """Publish a category's QC checklist document to every station."""
        if body.category != category:
            raise HTTPException(422, f"category in the path ({category}) and body ({body.category}) differ")
        return {"changed": db.put_checklist(body)}

    add_report_routes(app, db, station_of, forbidden)

    PhotoHash = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the photo's bytes, hex")]

    @app.put(
        f"{API_PREFIX}/photos/{{sha256}}",
        response_model=PhotoStored,
        status_code=201,
        responses=forbidden | {200: {"model": PhotoStored, "description": "held already"}, 415: {"model": ErrorBody}},
    )
    async def put_photo(sha256: PhotoHash, request: Request, who: Station) -> Response:
        """Keep an evidence photo under the SHA-256 of its bytes (JPEG, PNG or WebP); idempotent.

        Any station token may send any photo; that an event refers to it is not required (a
        station sends photos after their events, but the server does not hold them back).
        """
        if who[1] != "station":
            raise HTTPException(403, "only station tokens send photos")
        declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if declared not in PHOTO_TYPES:
            raise HTTPException(
                415, f"content type {declared or '(none)'} is not a photo; send {', '.join(PHOTO_TYPES)}"
            )
        data = await request.body()
        if not data:
            raise HTTPException(422, "the photo is empty; nothing was stored")
        if image_type(data[:12]) != declared:
            raise HTTPException(422, f"the body is not a {PHOTO_TYPES[declared]} image; nothing was stored")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise HTTPException(422, f"the body's SHA-256 is {actual}, not {sha256} as in the path; nothing was stored")
        problem = await run_in_threadpool(photo_problem, data, declared)
        if problem:
            raise HTTPException(422, problem)
        stored = await run_in_threadpool(db.put_photo, sha256, declared, data, who[0])
        body = PhotoStored(sha256=sha256, bytes=len(data), stored=stored)
        return JSONResponse(body.model_dump(), status_code=201 if stored else 200)

    @app.get(f"{API_PREFIX}/photos/{{sha256}}", responses=errors | {404: {"model": ErrorBody}}, response_class=Response)
    def get_photo(sha256: PhotoHash, _who: Station) -> Response:
        """A photo's bytes, with its content type (for other systems: claims, customer service)."""
        found = db.photo(sha256)
        if found is None:
            raise HTTPException(404, f"no photo {sha256}")
        return Response(
            found[1],
            media_type=found[0],
            headers={
                "ETag": f'"{sha256}"',
                "Cache-Control": "private, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )  # a browser shows it as that image, or not

    @app.post(f"{API_PREFIX}/photos/missing", response_model=PhotoHashes, responses=errors)
    def missing_photos(body: PhotoHashes, _who: Station) -> PhotoHashes:
        """Which of these photos the server lacks (a station sends those)."""
        return PhotoHashes(sha256=db.missing_photos(body.sha256))

    add_handoff_routes(app, db, Station, errors)  # the feed, bins, refund decisions (server/handoff)

    @app.get(
        f"{API_PREFIX}/reports/overdue",
        response_model=OverdueReport,
        responses=forbidden,
        tags=["reports"],
    )
    def overdue(
        _who: Annotated[str, Depends(integration)],
        state: Annotated[
            Literal["overdue", "due_soon"] | None, Query(description="only the overdue, or only the due-soon ones")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100_000, description="items listed (the counts count all)")] = 1000,
        offset: Annotated[int, Query(ge=0, description="the next page: items after so many")] = 0,
    ) -> OverdueReport:
        """RMAs and units past their step's time limit, or in its last share (SLA clocks, README).

        ``overdue`` and ``due_soon`` count every one; ``items`` lists ``limit`` of them from ``offset``,
        the most urgent first."""
        now = datetime.now(UTC)
        policy = current_policy()
        items = [i for i in overdue_report(db, now, policy=policy) if state is None or i["state"] == state]
        return OverdueReport(
            as_of=stamp(now),
            policy=policy.source,
            overdue=sum(i["state"] == "overdue" for i in items),
            due_soon=sum(i["state"] == "due_soon" for i in items),
            items=[OverdueItem.model_validate(i) for i in items[offset : offset + limit]],
        )

    @app.exception_handler(ServerError)
    async def refused(_request, exc: ServerError):
        return JSONResponse({"detail": one_line(str(exc))}, status_code=422)

    include_pages(app, db)  # the supervisors' web UI (/ui/) and the customers' status page (/status/)
    # webhooks (server/hooks): delivered by this process too; and the SLA escalations and digest (server/sla.py)
    app.add_middleware(DeliveryLoopMiddleware, db=db, chores=[SlaWatch(db)])
    app.add_middleware(WarmAtStart, db=db)  # each process makes its SLA clocks at start, in a thread
    # in front of FastAPI's own middleware (StationApi): TokenGate before the body, then BodyLimit,
    # then PushLane with the body in hand; what PushLane does not take goes on to FastAPI
    app.front = TokenGate(
        BodyLimit(
            PushLane(app.behind, db=db, limiter=limiter, known=known),
            max_bytes=max_body,
            max_photo=max_photo,
            body_timeout=body_timeout,
        ),
        db=db,
        failures=FailedAuthLimit(auth_failures),
        known=known,
    )
    return app


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` in each of several worker processes (PostgreSQL only).

    Settings come from ``RMA_SERVER_DB``, ``RMA_SERVER_RATE``, ``RMA_SERVER_BURST``,
    ``RMA_SERVER_AUTH_FAILURES`` and ``RMA_SERVER_WORKERS`` (the connection pool's share); both
    rate limits then apply per process.
    """
    return create_app(
        ServerDb(os.environ["RMA_SERVER_DB"], create=False, workers=int(os.environ.get("RMA_SERVER_WORKERS", "1"))),
        rate=float(os.environ.get("RMA_SERVER_RATE", "50")),
        burst=int(os.environ.get("RMA_SERVER_BURST", "100")),
        auth_failures=float(os.environ.get("RMA_SERVER_AUTH_FAILURES", "30")),
    )
