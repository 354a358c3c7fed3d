"""The station's side of sync: push the outbox, pull changes, with ``requests``.

One :class:`requests.Session`, a timeout on every call, TLS verification on
(``ca_path`` names a private CA bundle).  Failed calls are retried with
exponential backoff and full jitter; a ``Retry-After`` is honoured.  Retrying a
push is safe even when the first attempt reached the server: the server stores
each event once by (station, seq), so a repeat is only acknowledged again.

What is written locally, and when:

* the outbox is never touched; the server's acknowledgement is the
  ``acked_seq`` in ``sync_state``, set in its own transaction after each batch
  (with the rejections the server listed, kept for a person);
* pulled changes and the cursor that covers them are ONE transaction, so a
  station killed mid-pull resumes exactly where its database says;
* photos go after the events that refer to them: once the server has
  acknowledged an ``item.inspected`` event, its photos are noted in
  ``photo_uploads``; the station asks the server which of them it lacks and
  sends those one by one (``PUT /photos/{sha256}``).  A photo confirmed held
  is asked about again after ``photo_recheck`` seconds and after a new epoch,
  so one the server lost is sent again.  A photo file missing or changed on
  the station's disk is recorded as a problem for a person; it never stops
  the events;
* at the start of every sync the server says through which seq it holds this
  station's events; that figure is the truth (a server restored from a backup
  holds fewer), and a new epoch also restarts the pull from cursor 0.  When it
  holds more than this database knew, the events in between are re-sent to be
  confirmed as ours; if they are not, or the server holds more than this
  database has at all, the database was put back from an older copy: the
  server keeps what it holds and this station's later events are sent under
  seqs after the server's (``restored_stream``; the outbox is not touched);
* the server's SLA limits (``GET /sla``) are kept in ``sync_state`` at the end of
  a round, at most every ``policy_every`` seconds, so the station's backlog counts
  like the server's overdue report; a server without the route (404: an older
  release) or one that cannot be reached leaves the limits kept before — the
  built-in ones on a station that never had any — and never fails the round.

Every message is one line for a person, in the station's language at the time it is made
(``gettext``; the terminal binds the catalog): the line a restored database leaves in
``sync_state`` and a photo's problem stay in the language they were found in.

Errors::

    SyncError                  nothing was lost; the outbox keeps every event
     ├── Retryable             try again later (the watch loop does)
     │    ├── Unreachable      connection refused / dropped, timeout, a TLS connection that broke
     │    │    └── Garbled     an answer cut short or garbled on the way (ChunkedEncodingError,
     │    │                    IncompleteRead, ProtocolError, ContentDecodingError: every other
     │    │                    transport-level failure)
     │    ├── ServerTrouble    5xx answers, 429 rate limit, a 2xx whose body is not JSON or not the
     │    │                    answer this API gives
     │    └── EpochChanged     the server was restored from a backup: start over
     └── Refused               will not work as it is: a person must act (4xx, a certificate not accepted,
          │                    a URL or token that cannot be sent)
          └── NotAuthorized    401/403: token missing, wrong or revoked
"""

from __future__ import annotations

import hashlib
import http.client
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from gettext import gettext as _
from gettext import ngettext
from pathlib import Path

import requests
import urllib3
from pydantic import BaseModel, ValidationError

from sync.protocol import (
    API_PREFIX,
    MAX_BATCH,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_QUERY,
    ChangePage,
    PhotoHashes,
    PhotoStored,
    PushResult,
    SlaPolicy,
    StationStatus,
    image_type,
)
from sync.sla import policy_from_wire
from sync.store import Event, PhotoUpload, SeqMap, Store

MAX_RETRY_AFTER = 600.0  # seconds
# the RMA record fields this station reads that stations of an older release do not: the server leaves them
# out of what those pull (their records refuse a field they do not know)
PULLED_FIELDS = "priority"
SLOW_ANSWER = 0.25  # seconds: a push answered slower than this finds the server busy
MAX_HOLD = 1.0  # seconds: the longest a receipt waits, after a slow answer, for more to push with it
IDLE_LINK = 10.0  # seconds after a slow answer with nothing pushed: the link counts as quiet again


class SyncError(Exception):
    """Sync did not complete; the message is for a person, and nothing local was lost."""


class Retryable(SyncError):
    """A passing failure: the same call may succeed later."""


class Unreachable(Retryable):
    """The server could not be reached (refused, dropped, timed out, TLS)."""


class Garbled(Unreachable):
    """The server was reached but its answer was cut short or garbled on the way."""


class ServerTrouble(Retryable):
    """The server answered 5xx or 429; ``retry_after``: the seconds its Retry-After header asked for."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class EpochChanged(Retryable):
    """The server announced a new epoch mid-sync; the next sync starts over from its state."""


class Refused(SyncError):
    """The server refused the request as it is (4xx); retrying will not help."""

    status: int = 0


class NotAuthorized(Refused):
    """The token is missing, unknown, revoked, or may not do this."""


@dataclass
class SyncReport:
    """What one sync did."""

    pushed: int = 0  # events sent (including repeats)
    acked_seq: int = 0
    rejected: list[dict] = field(default_factory=list)
    pulled: int = 0  # changes applied
    cursor: int = 0
    waiting: int = 0  # events still unacknowledged afterwards
    epoch_changed: bool = False
    photos_sent: int = 0
    photos_waiting: int = 0  # photos of acknowledged events the server does not hold yet
    photo_problems: list[str] = field(default_factory=list)  # found this round, one line each
    photo_error: str = ""  # why sending photos stopped early (the events are done)
    restored: str = ""  # found this round: the database is older than the server's copy (one line)
    sla_changed: bool = False  # the server's SLA limits were new to this station and are kept now
    sla_error: str = ""  # why the server's SLA limits were not read this round (those kept before still count)

    def describe(self) -> str:
        """One line for a log or the command line, in the language in force."""
        text = (
            ngettext(
                "pushed {count} event, acknowledged through {acked}",
                "pushed {count} events, acknowledged through {acked}",
                self.pushed,
            ).format(count=self.pushed, acked=self.acked_seq)
            + "; "
            + ngettext(
                "pulled {count} change (cursor {cursor}); {waiting} waiting",
                "pulled {count} changes (cursor {cursor}); {waiting} waiting",
                self.pulled,
            ).format(count=self.pulled, cursor=self.cursor, waiting=self.waiting)
        )
        if self.rejected:
            text += _("; {count} refused by the server").format(count=len(self.rejected))
        if self.epoch_changed:
            text += _("; the server was restored from a backup (new epoch): re-pushed and re-pulled")
        if self.restored:
            text += _("; this station database was older than the server's copy: later events follow the server's")
        if self.photos_sent or self.photos_waiting:
            text += ngettext(
                "; sent {count} photo, {waiting} waiting", "; sent {count} photos, {waiting} waiting", self.photos_sent
            ).format(count=self.photos_sent, waiting=self.photos_waiting)
        if self.photo_error:
            text += _("; photos not sent: {error}").format(error=self.photo_error)
        if self.sla_changed:
            text += _("; the server's SLA limits are kept here now")
        if self.sla_error:
            text += _("; SLA limits not read ({error}): the station counts with those it had").format(
                error=self.sla_error
            )
        if self.photo_problems:
            more = len(self.photo_problems) - 1
            text += (
                _("; PHOTO PROBLEM: {problem} (and {count} more)") if more else _("; PHOTO PROBLEM: {problem}")
            ).format(problem=self.photo_problems[0], count=more)
        return text


@dataclass
class PushPacing:
    """When the next push goes: at once on a quiet link; after a slow answer, up to ``hold`` seconds later.

    A busy server answers slowly; one push of many events costs it far less
    than many pushes of one each, so after a slow answer the receipts that
    follow wait a little for more to go with them — never longer than
    ``hold`` after the first of them, and not at all once the last slow answer
    is ``idle`` seconds older than that receipt (the first push after a receipt
    on a quiet link goes at once).  Times are ``time.monotonic()`` seconds.
    """

    slow: float = SLOW_ANSWER
    hold: float = MAX_HOLD
    idle: float = IDLE_LINK
    slow_at: float | None = None  # when the last push answered slowly; None after a quick one

    def answered(self, seconds: float, at: float) -> None:
        """A push was answered after ``seconds``, at time ``at``."""
        self.slow_at = at if seconds > self.slow else None

    def delay(self, waiting_since: float, now: float) -> float:
        """How much longer receipts waiting since ``waiting_since`` should wait before they are pushed."""
        if self.slow_at is None or waiting_since - self.slow_at > self.idle:
            return 0.0
        return max(0.0, min(self.hold, waiting_since + self.hold - now))


class SyncClient:
    """Push and pull for one station against one server; ``pacing`` says how its pushes were answered."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        ca_path: str | None = None,
        timeout: tuple[float, float] = (3.05, 20),
        attempts: int = 6,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        batch: int = 500,
        page: int = 1000,
        stop: threading.Event | None = None,
        photo_recheck: float = 3600.0,
        policy_every: float = 300.0,
    ):
        if not url.startswith(("http://", "https://")):
            raise Refused(
                _("server URL {url!r} must start with https:// (or http:// on a trusted network)").format(url=url)
            )
        if not token:
            raise NotAuthorized(_("no server token given; ask for one (rma server add-station NAME)"))
        self.base = url.rstrip("/") + API_PREFIX
        self.timeout = timeout
        self.attempts, self.backoff, self.backoff_cap = attempts, backoff, backoff_cap
        self.batch, self.page = min(batch, MAX_BATCH), page
        self.photo_recheck = photo_recheck  # seconds before a photo the server held is asked about again
        self.policy_every = policy_every  # seconds between readings of the server's SLA limits
        self._policy_due = 0.0  # time.monotonic() from which they are read again
        self.stop = stop or threading.Event()
        self.pacing = PushPacing()
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": "rma-station-sync/1"})
        # passed on every request: a Session-level verify loses to REQUESTS_CA_BUNDLE (psf/requests#3829)
        self.verify: str | bool = ca_path if ca_path else True

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    # --- one call, with retries ---------------------------------------------------

    def call(self, method: str, path: str, answer_model: type[BaseModel] | None = None, **kwargs):
        """One API call; retries passing failures, raises :class:`SyncError` when it gives up.

        Returns the JSON body, validated as ``answer_model`` when one is given:
        a 2xx whose body is cut, not JSON, or not that answer is a passing
        failure like any other, never taken as an answer.
        """
        last: Retryable | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._pause(attempt, last)
            if self.stop.is_set():
                break
            try:
                answer = self.session.request(
                    method, self.base + path, timeout=self.timeout, verify=self.verify, **kwargs
                )
            except requests.exceptions.SSLError as exc:
                if not _verification_failed(exc):  # the TLS connection broke; the certificate was fine
                    last = Unreachable(_("server connection broke: {error}").format(error=_short(exc)))
                    continue
                raise Refused(
                    _("TLS verification of {url} failed ({error}); check the server certificate or the CA path").format(
                        url=self.base, error=_short(exc)
                    )
                ) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                last = Unreachable(_("server unreachable: {error}").format(error=_short(exc)))
                last.__cause__ = exc  # the root cause (refused, name, timeout) for a person's one line
                continue
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidHeader,
            ) as exc:
                raise Refused(
                    _("cannot send {method} {url} as it is: {error}; check the server URL and the token").format(
                        method=method, url=self.base + path, error=_short(exc)
                    )
                ) from exc
            except (
                requests.exceptions.RequestException,
                urllib3.exceptions.HTTPError,
                http.client.HTTPException,
                OSError,
            ) as exc:
                # every other failure on the wire: an answer cut short (ChunkedEncodingError / IncompleteRead /
                # ProtocolError), a body that does not decode (ContentDecodingError), and their urllib3 relatives
                last = Garbled(
                    _("server answer cut short or garbled on the way ({kind}: {error})").format(
                        kind=type(exc).__name__, error=_short(exc)
                    )
                )
                continue
            if answer.status_code < 300:
                try:
                    body = answer.json()
                    return answer_model.model_validate(body) if answer_model else body
                except ValueError as exc:  # pydantic's ValidationError is a ValueError too
                    what = (
                        _(
                            "server answered {status} with a body that is not JSON "
                            "(cut short, or another server in between?)"
                        )
                        if not isinstance(exc, ValidationError)
                        else _(
                            "server answered {status} with a body that is not an answer of this API "
                            "(cut short, or another server in between?)"
                        )
                    )
                    last = ServerTrouble(what.format(status=answer.status_code))
                    continue
            detail = _detail(answer)
            if answer.status_code == 429 or answer.status_code >= 500:
                last = ServerTrouble(
                    _("server answered {status}: {detail}").format(status=answer.status_code, detail=detail),
                    _retry_after(answer),
                )
                continue
            if answer.status_code in (401, 403):
                raise NotAuthorized(
                    _("server refused the token ({status}): {detail}").format(status=answer.status_code, detail=detail)
                )
            refused = Refused(
                _("server refused {method} {path} ({status}): {detail}").format(
                    method=method, path=path, status=answer.status_code, detail=detail
                )
            )
            refused.status = answer.status_code
            raise refused
        raise last or Unreachable(_("sync stopped"))

    def _pause(self, attempt: int, last: Retryable | None) -> None:
        """Exponential backoff with full jitter; never shorter than the server's Retry-After."""
        delay = random.uniform(0, min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)))
        retry_after = last.retry_after if isinstance(last, ServerTrouble) else None
        if retry_after is not None:  # the server knows best; only an absurd value is cut short
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        self.stop.wait(delay)

    # --- sync ---------------------------------------------------------------------

    def status(self) -> StationStatus:
        """The server's epoch and through which seq it holds this station's events."""
        return self.call("GET", "/station", StationStatus)

    def sync(self, store: Store, *, pull: bool = True, photos: bool = True) -> SyncReport:
        """Push everything unsent, pull every change (unless ``pull`` is false), then send the photos of
        acknowledged events the server lacks (unless ``photos`` is false); one full round."""
        report = SyncReport()
        for _round in range(3):  # an epoch change mid-round starts the round again, from the server's state
            try:
                self._align(store, report)
                self.push(store, report)
                if pull:
                    self.pull(store, report)
                    self.keep_sla_policy(store, report)
                break
            except EpochChanged:
                report.epoch_changed = True
        if photos:
            try:
                self.send_photos(store, report)
            except Retryable as exc:  # the events are done; the photos wait for the next round
                report.photo_error = str(exc)
        report.acked_seq = store.acked_seq()
        report.waiting = store.unsent_count()
        report.photos_waiting = store.photo_uploads()["waiting"]
        return report

    def _align(self, store: Store, report: SyncReport) -> None:
        """Take the server's word for what it holds; a new epoch restarts the pull.

        When the server holds more of this station's sequence than this
        database knew it had, the events in between are sent again to be
        confirmed (the server answers "held" for each of ours); one it holds
        under another id, or a server that holds more than this database has
        at all, means the database was put back from an older copy: see
        :meth:`_restored`.
        """
        status = self.status()
        known = store.get_state("server_epoch")
        with store.write() as conn:
            if known != status.epoch:
                if known is not None:
                    report.epoch_changed = True
                store.set_state(conn, "pull_cursor", "0")
                store.set_state(conn, "server_epoch", status.epoch)
        self.epoch = status.epoch
        seqs, held, last = store.seq_map(), status.acked_seq, store.last_seq()
        acked = store.acked_seq()
        if held <= seqs.wire_after(acked):  # the server holds no more than we knew (fewer, if it was restored)
            with store.write() as conn:
                store.set_state(conn, "acked_seq", str(min(seqs.local(held), last)))
            return
        while not self.stop.is_set():
            upto = min(last, seqs.local(held))
            batch = [e for e in store.events(after_seq=acked, limit=self.batch) if e.seq <= upto]
            if not batch:
                break
            result = self._send(seqs, acked, batch)
            if result is None:
                continue  # the batch was too big for the server: self.batch is halved, go again
            theirs = sorted(seqs.local(r.seq) for r in result.rejected)  # held under another event id
            acked = theirs[0] - 1 if theirs else batch[-1].seq
            with store.write() as conn:
                store.set_state(conn, "acked_seq", str(acked))
            if theirs:
                break
        if self.stop.is_set():
            raise Unreachable(_("sync stopped"))
        if held > seqs.wire_after(acked):
            report.restored = self._restored(store, seqs, acked, held, status.station)

    def _restored(self, store: Store, seqs: SeqMap, acked: int, held: int, station: str) -> str:
        """This database is older than the server's copy of the station: continue after the server's sequence.

        The server keeps every event it holds.  This database's events after
        ``acked`` (the last one the server holds as ours) are sent under seqs
        after the server's, with their own ids, and so is everything recorded
        here later; the outbox is not touched.  Returns the line for a person.
        """
        shift = held - seqs.wire_after(acked)
        ours = store.last_seq() - acked
        first = seqs.wire_after(acked) + 1
        if ours > 1:
            later = _(
                "the {count} events recorded here since go after them as seq {first}–{last}, and so will later ones"
            ).format(count=ours, first=held + 1, last=held + ours)
        elif ours:
            later = _("the 1 event recorded here since goes after them as seq {first}, and so will later ones").format(
                first=held + 1
            )
        else:
            later = _("events recorded here from now on go after them, from seq {first}").format(first=held + 1)
        detail = ngettext(
            "this station database is older than what the server holds of station {station} (restored from "
            "an older copy?): the server keeps its {count} event this database lacks (seq {first}–{held}); "
            "{later}; nothing is lost — the work in the missing events shows on the server, not on this station",
            "this station database is older than what the server holds of station {station} (restored from "
            "an older copy?): the server keeps its {count} events this database lacks (seq {first}–{held}); "
            "{later}; nothing is lost — the work in the missing events shows on the server, not on this station",
            shift,
        ).format(station=station, count=shift, first=first, held=held, later=later)
        with store.write() as conn:
            store.record_restored_stream(conn, acked, shift, held, detail)
            store.set_state(conn, "acked_seq", str(acked))
        return detail

    def _send(self, seqs: SeqMap, acked: int, batch: list[Event]) -> PushResult | None:
        """POST one batch of outbox events after outbox seq ``acked``, under the seqs the server knows them by.

        None when the server found the body too big (413): ``self.batch`` is halved for the next try.
        """
        body = {
            "after_seq": seqs.wire_after(acked),
            "events": [
                {
                    "seq": seqs.wire(e.seq),
                    "id": e.id,
                    "type": e.type,
                    "operator": e.operator,
                    "at": e.at,
                    "rma_code": e.rma_code,
                    "refers_to": e.refers_to,
                    "payload": e.payload,
                }
                for e in batch
            ],
        }
        started = time.monotonic()
        try:
            result = self.call("POST", "/events", PushResult, json=body)
            self.pacing.answered(time.monotonic() - started, time.monotonic())
        except Refused as exc:
            if exc.status != 413 or len(batch) == 1:
                raise
            self.batch = max(1, len(batch) // 2)  # big payloads: smaller batches fit the body limit
            return None
        if result.epoch != self.epoch:
            raise EpochChanged(_("server epoch changed to {epoch}").format(epoch=result.epoch))
        return result

    def push(self, store: Store, report: SyncReport | None = None) -> SyncReport:
        """Send unacknowledged outbox events in batches until the server holds them all."""
        report = report or SyncReport()
        seqs = store.seq_map()  # outbox seq -> the server's (they differ after a restored database)
        acked, stalled = store.acked_seq(), 0
        while not self.stop.is_set():
            batch = store.events(after_seq=acked, limit=self.batch)
            boundary = seqs.boundary(acked)
            batch = [e for e in batch if boundary is None or e.seq <= boundary]
            if not batch:
                break
            result = self._send(seqs, acked, batch)
            if result is None:
                continue  # the batch was too big for the server: self.batch is halved, go again
            report.pushed += len(batch)
            rejected = [dict(r.model_dump(), seq=seqs.local(r.seq)) for r in result.rejected]
            report.rejected.extend(rejected)
            server_acked = seqs.local(result.acked_seq)
            with store.write() as conn:
                store.record_rejections(conn, rejected)
                store.set_state(conn, "acked_seq", str(min(server_acked, store.last_seq())))
            # the server acknowledges less than sent when it lacks earlier events: resend from there
            stalled = stalled + 1 if server_acked <= acked else 0
            if stalled > 2:
                raise ServerTrouble(
                    _("server does not acknowledge events after seq {seq}").format(seq=seqs.wire_after(acked))
                )
            acked = server_acked
        return report

    def pull(self, store: Store, report: SyncReport | None = None) -> SyncReport:
        """Apply every change after the stored cursor, each page with its cursor in one transaction."""
        report = report or SyncReport()
        cursor = int(store.get_state("pull_cursor") or "0")
        while not self.stop.is_set():
            page = self.call(
                "GET", "/changes", ChangePage, params={"after": cursor, "limit": self.page, "fields": PULLED_FIELDS}
            )
            if page.epoch != self.epoch:
                raise EpochChanged(_("server epoch changed to {epoch}").format(epoch=page.epoch))
            with store.write() as conn:
                store.apply_changes(conn, [c.model_dump() for c in page.changes])
                store.set_state(conn, "pull_cursor", str(page.cursor))
            report.pulled += len(page.changes)
            cursor = page.cursor
            if not page.has_more:
                break
        report.cursor = cursor
        return report

    def keep_sla_policy(self, store: Store, report: SyncReport | None = None) -> SyncReport:
        """Read the server's SLA limits and keep them (when ``policy_every`` seconds have passed since the last time).

        A server without ``GET /sla`` (an older release) is asked again only after ``policy_every``; any other
        failure but a refused token is noted in ``report.sla_error`` and leaves the kept limits as they are.
        """
        report = report or SyncReport()
        now = time.monotonic()
        if now < self._policy_due:
            return report
        self._policy_due = now + min(self.policy_every, 60.0)  # after a failure: again within a minute
        try:
            wire = self.call("GET", "/sla", SlaPolicy)
            policy_from_wire(wire)  # one that cannot be used here (an unknown time zone) is not kept
        except NotAuthorized:
            raise
        except Refused as exc:
            if exc.status == 404:  # an older server: the station keeps counting with what it has
                self._policy_due = now + self.policy_every
                return report
            report.sla_error = str(exc)
            return report
        except (Retryable, ValueError) as exc:
            report.sla_error = str(exc)
            return report
        with store.write() as conn:
            report.sla_changed = store.keep_sla_policy(conn, wire)
        self._policy_due = now + self.policy_every
        return report

    def send_photos(self, store: Store, report: SyncReport | None = None) -> SyncReport:
        """Send the photos of acknowledged events that the server lacks, one by one, with the usual retries.

        Raises :class:`Retryable` when the server cannot be reached (what was
        confirmed so far is kept) and :class:`NotAuthorized`; a photo the
        station cannot read, or the server refuses, is recorded as a problem.
        """
        report = report or SyncReport()
        if getattr(self, "epoch", None) is None:
            self.epoch = self.status().epoch
        with store.write() as conn:
            store.note_photos(conn, store.acked_seq())
        before = (datetime.now(UTC) - timedelta(seconds=self.photo_recheck)).isoformat(timespec="milliseconds")
        due = store.photos_due(self.epoch, before)
        folder = store.path.parent / PHOTO_FOLDER
        for start in range(0, len(due), MAX_PHOTO_QUERY):
            chunk = due[start : start + MAX_PHOTO_QUERY]
            missing = set(
                self.call("POST", "/photos/missing", PhotoHashes, json={"sha256": [p.sha256 for p in chunk]}).sha256
            )
            with store.write() as conn:
                for p in chunk:
                    if p.sha256 not in missing:
                        store.photo_held(conn, p.sha256, self.epoch)
            for p in chunk:
                if p.sha256 not in missing:
                    continue
                if self.stop.is_set():
                    return report
                problem = ""
                try:
                    data, content_type = read_photo(p, folder)
                    stored = self.call(
                        "PUT", f"/photos/{p.sha256}", PhotoStored, data=data, headers={"Content-Type": content_type}
                    )
                except PhotoProblem as exc:
                    problem = str(exc)
                except NotAuthorized:
                    raise
                except Refused as exc:
                    problem = _("photo {photo}… (event {seq}) refused: {error}; the event is kept").format(
                        photo=p.sha256[:12], seq=p.event_seq, error=exc
                    )
                with store.write() as conn:
                    if problem:
                        store.photo_problem(conn, p.sha256, problem)
                    else:
                        store.photo_held(conn, stored.sha256, self.epoch, sent=True)
                if problem:
                    report.photo_problems.append(problem)
                else:
                    report.photos_sent += 1
        return report


# A station camera keeps its photos as photos/<sha256>.jpg beside the database (terminal/photos.py); a photo
# is looked for there too when the path its event recorded no longer holds it (a moved station folder).
PHOTO_FOLDER = "photos"


class PhotoProblem(Exception):
    """A photo the station cannot send as it is; the message is one line for a person."""


def read_photo(photo: PhotoUpload, folder: Path) -> tuple[bytes, str]:
    """The photo's bytes and content type, checked against its hash; :class:`PhotoProblem` otherwise."""
    where = _("photo {photo}… (event {seq})").format(photo=photo.sha256[:12], seq=photo.event_seq)
    candidates = [Path(photo.path)] if photo.path else []
    candidates.append(folder / f"{photo.sha256}.jpg")
    problem = _(
        "{photo} missing: no file {path}; the event is kept — put the file back and the next check sends it"
    ).format(photo=where, path=photo.path or candidates[-1])
    for path in candidates:
        try:
            size = path.stat().st_size
            if not path.is_file():
                continue
            if size > MAX_PHOTO_BYTES:
                problem = _(
                    "{photo} too big: {path} has {size} bytes, over the server's limit of {limit}; "
                    "the event is kept, the photo cannot be sent"
                ).format(photo=where, path=path, size=size, limit=MAX_PHOTO_BYTES)
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != photo.sha256:
            problem = _(
                "{photo} changed since the inspection: {path} has another SHA-256; the event is kept, "
                "the photo as inspected cannot be sent"
            ).format(photo=where, path=path)
            continue
        content_type = image_type(data[:12])
        if content_type is None:
            problem = _("{photo} not a JPEG, PNG or WebP image: {path}; the event is kept").format(
                photo=where, path=path
            )
            continue
        return data, content_type
    raise PhotoProblem(problem)


def _detail(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("detail", ""))[:300] or answer.reason
    except (ValueError, AttributeError):
        return (answer.text or answer.reason or "")[:300].replace("\n", " ")


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _verification_failed(exc: BaseException) -> bool:
    """True when an SSL error says the server's certificate was not accepted (not that the connection broke)."""
    seen: set[int] = set()
    todo: list = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return True
        todo += [*e.args, e.__cause__, e.__context__, getattr(e, "reason", None)]
    text = str(exc).lower()
    return "certificate verify failed" in text or "doesn't match" in text or "hostname mismatch" in text


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def why_unreachable(exc: BaseException) -> str:
    """The root cause of a failed connection in a few words (refused, unknown host, timed out, ...)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        cause = todo.pop(0)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return _("connection refused")
        if isinstance(cause, socket.gaierror):
            return _("host name not found")
        if isinstance(cause, (TimeoutError, socket.timeout)) or type(cause).__name__ in (
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ConnectTimeout",
            "ReadTimeout",
        ):
            return _("no answer in time")
        if isinstance(cause, ConnectionResetError):
            return _("connection reset")
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        # requests and urllib3 wrap the socket's error: in args, in .reason, and as the cause
        todo.extend([cause.__cause__, cause.__context__, getattr(cause, "reason", None), *cause.args])
    return _("the connection failed")
