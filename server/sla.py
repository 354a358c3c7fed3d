"""SLA clocks on the central server: what is overdue or due soon, escalation once, and the daily digest.

The clock arithmetic and the limits are :mod:`sync.sla` (the station counts with the same
module).  Here they meet the server's data:

* an RMA authorised (``rmas.created_at``, status ``authorized``) and not received runs the
  ``receive`` clock; received (its ``rma.received`` event's time) and not fully inspected,
  the ``inspect`` clock;
* a unit inspected (its ``item.inspected`` event, with a license plate and a channel) with
  no ``unit.put_away`` event for its plate runs the ``put_away`` clock.

:func:`overdue_report` lists the overdue and due-soon ones (the API's
``GET /api/v1/reports/overdue`` and the supervisors' web pages call it).
:func:`escalate` records each newly overdue one in ``sla_escalations`` -- unique per RMA or
unit and step, so a supervisor is told once, across restarts and server processes -- and in
the same transaction queues its ``sla.overdue`` webhook (server/hooks); :func:`send_escalation_mail`
then mails what was recorded and not yet mailed.  :class:`SlaWatch` runs both, and the daily
digest (:func:`send_digest`, once a day by ``sla_digests``), from the delivery loop.

The policy is ``RMA_SLA_FILE`` (``rma server --sla-file``) when set, else the defaults; stations
read it (``GET /api/v1/sla``, :func:`sync.sla.policy_to_wire`) and count their backlog with it.
Each item names the RMA's ``priority`` (its record's; ``standard`` when it gives none).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite

from server import analytics, mail
from server.db import ServerDb, events, rmas, utc_now
from server.hooks.outbox import HookKind, enqueue_notice
from sync.protocol import DEFAULT_PRIORITY
from sync.sla import DEFAULT_POLICY, DUE_SOON, OVERDUE, Policy, load_policy, parse_time, stamp

log = logging.getLogger("rma.server.sla")

POLICY_ENV = "RMA_SLA_FILE"
STATES = (OVERDUE, DUE_SOON)
MAIL_PENDING, MAIL_SENT, MAIL_OFF = "pending", "sent", "off"

metadata = sa.MetaData()

escalations = sa.Table(
    "sla_escalations",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # rma / unit
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("lpn", sa.String(64), nullable=False),  # '' for an RMA
    sa.Column("step", sa.String(16), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("due_at", sa.String(40), nullable=False),
    sa.Column("escalated_at", sa.String(40), nullable=False),
    sa.Column("mail", sa.String(8), nullable=False),  # pending / sent / off (no mail set up when it fell due)
    sa.Column("mail_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("mail_next_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("mail_lease", sa.Float),
    sa.Column("mail_error", sa.Text),
    sa.Column("mailed_at", sa.String(40)),
    sa.UniqueConstraint("kind", "code", "lpn", "step", name="sla_escalations_once"),
    sa.Index("sla_escalations_mail", "mail", "mail_next_at"),
)

digests = sa.Table(
    "sla_digests",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),  # the digest's day (UTC): sent once
    sa.Column("sent_at", sa.String(40), nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
)


def create_tables(engine: sa.Engine) -> None:
    """Create the SLA tables that are missing (:meth:`ServerDb.create` calls it)."""
    metadata.create_all(engine)


class OverdueItem(BaseModel):
    """One RMA or unit whose step is overdue or due soon."""

    kind: Literal["rma", "unit"]
    code: str
    lpn: str
    step: Literal["receive", "inspect", "put_away"]
    started_at: str
    due_at: str
    age_hours: float
    state: Literal["overdue", "due_soon"]
    category: str
    priority: str = DEFAULT_PRIORITY  # the RMA's (its limit may have come from it)


class OverdueReport(BaseModel):
    """The answer of ``GET /api/v1/reports/overdue``."""

    as_of: str
    policy: str
    overdue: int
    due_soon: int
    items: list[OverdueItem]


# --- the policy in force ---------------------------------------------------------------------

_policy_lock = threading.Lock()
_policy_cache: dict[tuple[str, float], Policy] = {}


def current_policy() -> Policy:
    """The policy of ``RMA_SLA_FILE`` (read again when the file changes), else :data:`DEFAULT_POLICY`.

    A file that became invalid while the server runs keeps the last good reading (logged).
    """
    path = os.environ.get(POLICY_ENV, "").strip()
    if not path:
        return DEFAULT_POLICY
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = -1.0
    with _policy_lock:
        found = _policy_cache.get((path, mtime))
        if found is not None:
            return found
        try:
            policy = load_policy(path)
        except Exception as exc:  # noqa: BLE001 - a broken file while running: keep the last good one
            earlier = [p for (p_path, _), p in _policy_cache.items() if p_path == path]
            log.warning("SLA file %s not used: %s", path, exc)
            return earlier[-1] if earlier else DEFAULT_POLICY
        _policy_cache[(path, mtime)] = policy
        return policy


# --- the clocks ----------------------------------------------------------------------------


def _categories(record_json: str) -> list[str]:
    try:
        return sorted({str(line.get("category") or "general") for line in json.loads(record_json).get("lines", [])})
    except (ValueError, AttributeError):
        return ["general"]


def _priority(record_json: str | None) -> str:
    """An RMA record's priority (``standard`` when it names none)."""
    try:
        return str(json.loads(record_json or "{}").get("priority") or DEFAULT_PRIORITY)
    except (ValueError, AttributeError):
        return DEFAULT_PRIORITY


def _record_facts(record_json: str | None) -> tuple[list[str], str]:
    """(:func:`_categories`, :func:`_priority`) of an RMA record, read once (a record that is none: no categories)."""
    try:
        doc = json.loads(record_json or "{}")
    except ValueError:
        return ["general"], DEFAULT_PRIORITY
    try:
        categories = sorted({str(line.get("category") or "general") for line in doc.get("lines", [])})
    except AttributeError:
        categories = ["general"]
    try:
        priority = str(doc.get("priority") or DEFAULT_PRIORITY)
    except AttributeError:
        priority = DEFAULT_PRIORITY
    return categories, priority


def _priorities(conn: sa.Connection, codes: set[str]) -> dict[str, str]:
    """The priority of each of these RMAs that has one other than ``standard``."""
    found: dict[str, str] = {}
    wanted = sorted(c for c in codes if c)
    for start in range(0, len(wanted), 500):
        for code, record in conn.execute(
            sa.select(rmas.c.code, rmas.c.record).where(rmas.c.code.in_(wanted[start : start + 500]))
        ):
            if _priority(record) != DEFAULT_PRIORITY:
                found[code] = _priority(record)
    return found


def _time(text: str | None) -> datetime | None:
    try:
        return parse_time(text) if text else None
    except ValueError:
        return None


_clock_lock = threading.Lock()
# the open RMAs' and units' clocks as last made, by ("rma", code, updated_at, stage, its start: created_at or the
# receipt's event id) and by ("unit", code, plate, started, category, the RMA's updated_at): only a new or changed
# RMA's record is read and its clock made again (a million RMAs leave tens of thousands open); a new policy (the
# file changed) makes them all again.  Each holds what the report needs ready (:class:`_Held`).
_rma_clocks: dict[tuple, _Held] = {}


class _Held:
    """One clock as made: the policy it was made with, the clock, the report item but for ``age_hours`` and
    ``state``, and ``quiet_until``: before it the clock is on time (neither due soon nor overdue)."""

    __slots__ = ("clock", "code", "item", "kind", "lpn", "policy", "quiet_until", "stamps")

    def __init__(self, policy: Policy, clock, kind: str, code: str, lpn: str):
        self.policy, self.clock, self.kind, self.code, self.lpn = policy, clock, kind, code, lpn
        self.stamps = (stamp(clock.started_at), stamp(clock.due_at))
        self.quiet_until = min(clock.soon_at, clock.due_at)
        self.item = {
            "kind": kind,
            "code": code,
            "lpn": lpn,
            "step": clock.step,
            "started_at": self.stamps[0],
            "due_at": self.stamps[1],
            "age_hours": 0.0,  # (made at each report, in this place)
            "state": "",
            "category": clock.category,
            "priority": clock.priority,
        }


def _tuples(conn: sa.Connection, query: sa.Select) -> list[tuple]:
    """The rows of ``query`` (text columns, plain bound values) as the driver's tuples: on PostgreSQL from its
    own cursor, in this transaction (a report reads tens of thousands of rows; SQLAlchemy's rows cost more
    than the query)."""
    if conn.dialect.name != "postgresql":
        return [tuple(row) for row in conn.execute(query)]
    compiled = query.compile(dialect=conn.dialect)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _held_clocks(db: ServerDb, policy: Policy, *, fold: bool = True) -> list[_Held]:
    """Every running clock as :class:`_Held`, RMAs first (see :func:`clocks`); ``fold``: fold new events first."""
    if fold:
        for thread in list(_warming):  # a report while the clocks are made at start: they are made once, then used
            thread.join(WARM_WAIT)
        analytics.refresh(db.write, events, rmas, batches=analytics.BATCHES_PER_ANSWER)
    with db.read() as conn:
        # the receipt's time is read (by its event id) only for a clock not made yet: most are
        rows = _tuples(
            conn,
            sa.select(rmas.c.code, rmas.c.updated_at, rmas.c.stage, rmas.c.created_at, rmas.c.received_event).where(
                sa.or_(
                    sa.and_(rmas.c.stage == "expected", rmas.c.status == "authorized"),
                    rmas.c.stage == "received",
                )
            ),
        )
        u = analytics.sla_units_t.c
        # each waiting unit with its RMA's updated_at: an RMA imported again (its priority changed, say) makes
        # its units' clocks again
        units = _tuples(
            conn,
            sa.select(u.rma_code, u.lpn, u.at, u.category, rmas.c.updated_at).select_from(
                analytics.sla_units_t.outerjoin(rmas, rmas.c.code == u.rma_code)
            ),
        )
        with _clock_lock:
            known = dict(_rma_clocks)
        keys = [
            ("rma", code, updated, stage, created if stage == "expected" else received)
            for code, updated, stage, created, received in rows
        ]
        unit_keys: list[tuple] = [
            ("unit", code, lpn, at, category, updated) for code, lpn, at, category, updated in units
        ]
        missing = [k for k in keys if (held := known.get(k)) is None or held.policy is not policy]
        missing_units: list[tuple] = [
            k for k in unit_keys if (held := known.get(k)) is None or held.policy is not policy
        ]
        wanted = sorted({k[1] for k in missing} | {k[1] for k in missing_units})
        records: dict[str, str] = {}
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for code, record in conn.execute(sa.select(rmas.c.code, rmas.c.record).where(rmas.c.code.in_(chunk))):
                records[code] = record
        receipts = sorted({k[4] for k in missing if k[3] != "expected" and k[4]})
        received_at: dict[str, str] = {}
        for start in range(0, len(receipts), 1000):
            chunk = receipts[start : start + 1000]
            for event_id, at in conn.execute(
                sa.select(events.c.event_id, events.c.at).where(events.c.event_id.in_(chunk))
            ):
                received_at[event_id] = at
    made: dict[tuple, _Held] = {}
    facts: dict[str, tuple[list[str], str]] = {}  # each record read once: (its categories, its priority)
    for key in missing:
        _kind, code, _updated, stage, start_ref = key
        started = _time(start_ref if stage == "expected" else received_at.get(start_ref or ""))
        if started is None or code not in records:
            continue
        step = "receive" if stage == "expected" else "inspect"
        categories, priority = facts[code] = _record_facts(records[code])
        made[key] = _Held(policy, policy.clock(step, started, categories, priority), "rma", code, "")
    for unit_key in missing_units:
        _kind, code, lpn, at, category, _updated = unit_key
        started = _time(at)
        if started is None:
            continue
        if code not in facts:
            facts[code] = _record_facts(records.get(code))
        clock = policy.clock("put_away", started, [category], facts[code][1])
        made[unit_key] = _Held(policy, clock, "unit", code, lpn)
    now_held: dict[tuple, _Held] = {}
    found: list[_Held] = []
    for key in keys:
        held = known.get(key)  # (most of them)
        if held is None or held.policy is not policy:
            held = made.get(key)
        if held is None:
            continue  # no clock: no start time, or its record is gone
        now_held[key] = held
        found.append(held)
    for unit_key in unit_keys:
        held = known.get(unit_key)  # (most of them)
        if held is None or held.policy is not policy:
            held = made.get(unit_key)
        if held is None:
            continue
        now_held[unit_key] = held
        found.append(held)
    with _clock_lock:
        _rma_clocks.clear()
        _rma_clocks.update(now_held)  # only the open ones: it never holds more than the backlog
    return found


def clocks(db: ServerDb, policy: Policy) -> list[dict]:
    """Every running clock: dicts with kind, code, lpn, step and the :class:`sync.sla.Clock`.

    The RMAs are read by their stage (an index), their records only when new or changed since the
    last call; the units from ``sla_open_units``, which the analytics fold keeps (server/analytics.py):
    each inspected unit with a plate and a channel not put away and not corrected -- the open
    backlog, not every inspection ever made.
    """
    return [
        {"kind": h.kind, "code": h.code, "lpn": h.lpn, "clock": h.clock, "stamps": h.stamps}
        for h in _held_clocks(db, policy)
    ]


WARM_WAIT = 60.0  # seconds a report waits for the clocks being made at start (then makes them itself)
_warming: set[threading.Thread] = set()


def warm(db: ServerDb) -> None:
    """Make this process's clocks once (reading only: no fold), so the first report does not read every open
    RMA's record; :func:`warm_in_background` runs it at server start.  A failure is logged, never raised."""
    try:
        _held_clocks(db, current_policy(), fold=False)
    except Exception as exc:  # noqa: BLE001 - the first report makes them instead
        log.info("SLA clocks not made ahead (%s); the first report makes them", exc)
    finally:
        _warming.discard(threading.current_thread())


def warm_in_background(db: ServerDb) -> threading.Thread:
    """:func:`warm` in a daemon thread (started, returned): the server starts and answers meanwhile."""
    thread = threading.Thread(target=warm, args=(db,), name="rma-sla-warm", daemon=True)
    _warming.add(thread)
    thread.start()
    return thread


class WarmAtStart:
    """ASGI middleware: at the app's start (its lifespan) :func:`warm_in_background` -- each server process
    makes its clocks while it already answers, so its first overdue report is not the one that reads them all."""

    def __init__(self, app, db: ServerDb):
        self.app, self.db = app, db

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def lifespan_receive():
            message = await receive()
            if message["type"] == "lifespan.startup":
                warm_in_background(self.db)
            return message

        await self.app(scope, lifespan_receive, send)


def overdue_report(db: ServerDb, now: datetime | None = None, *, policy: Policy | None = None) -> list[dict]:
    """What is overdue or due soon, overdue first and then by due time.

    Each item: ``kind`` (rma|unit), ``code``, ``lpn`` ('' for an RMA), ``step`` (receive,
    inspect, put_away), ``started_at``, ``due_at`` (ISO 8601 UTC), ``age_hours`` (since the step
    started, wall-clock), ``state`` (overdue|due_soon), ``category`` (the one whose limit applies),
    ``priority`` (the RMA's).
    """
    now = now or datetime.now(UTC)
    policy = policy or current_policy()
    items = []
    for held in _held_clocks(db, policy):
        if now < held.quiet_until:
            continue  # on time, as Clock.state says (most of them: tested first)
        clock = held.clock
        state = clock.state(now)
        if state not in STATES:
            continue
        items.append({**held.item, "age_hours": round(clock.age_hours(now), 1), "state": state})
    items.sort(key=lambda i: (i["state"] != OVERDUE, i["due_at"], i["code"], i["lpn"]))
    return items


# --- escalation ------------------------------------------------------------------------------


def _insert_once(db: ServerDb):
    return (sqlite.insert if db.is_sqlite else postgresql.insert)(escalations).on_conflict_do_nothing()


def notice_body(item: dict, escalation_id: str, at: str) -> str:
    """The ``sla.overdue`` webhook's JSON (the same envelope as the station events' deliveries)."""
    return json.dumps(
        {"type": HookKind.SLA_OVERDUE.value, "timestamp": at, "data": {"escalation_id": escalation_id, **item}},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def escalate(
    db: ServerDb,
    now: datetime | None = None,
    *,
    policy: Policy | None = None,
    mail_on: bool | None = None,
) -> list[dict]:
    """Record every overdue RMA or unit not escalated before, with its webhook; returns the new ones.

    ``mail_on``: whether a mail is due for them (default: mail is set up in the environment).
    """
    overdue = [i for i in overdue_report(db, now, policy=policy) if i["state"] == OVERDUE]
    if not overdue:
        return []
    if mail_on is None:
        try:
            mail_on = mail.MailSettings.from_env().enabled
        except ValueError:
            mail_on = True  # set up, wrongly: kept pending, and each try says what is wrong
    at = utc_now()
    new = []
    with db.write() as conn:
        held = {
            (r.kind, r.code, r.lpn, r.step)
            for r in conn.execute(
                sa.select(escalations.c.kind, escalations.c.code, escalations.c.lpn, escalations.c.step)
            )
        }
        for item in overdue:
            if (item["kind"], item["code"], item["lpn"], item["step"]) in held:
                continue
            escalation_id = "sla_" + uuid.uuid4().hex
            inserted = conn.execute(
                _insert_once(db)
                .values(
                    id=escalation_id,
                    kind=item["kind"],
                    code=item["code"],
                    lpn=item["lpn"],
                    step=item["step"],
                    category=item["category"],
                    started_at=item["started_at"],
                    due_at=item["due_at"],
                    escalated_at=at,
                    mail=MAIL_PENDING if mail_on else MAIL_OFF,
                    mail_attempts=0,
                    mail_next_at=0.0,
                )
                .returning(escalations.c.id)
            ).first()
            if inserted is None:
                continue  # another server process escalated it a moment ago
            enqueue_notice(conn, HookKind.SLA_OVERDUE, escalation_id, notice_body(item, escalation_id, at), at)
            new.append({"escalation_id": escalation_id, **item})
    return new


def _subject(item) -> str:
    return f"unit {item['lpn']} of {item['code']}" if item["kind"] == "unit" else f"RMA {item['code']}"


def _describe(item) -> str:
    what = _subject(item)
    step = {"receive": "not received", "inspect": "not inspected", "put_away": "not put away"}[item["step"]]
    since, due = (item[k][:16].replace("T", " ") for k in ("started_at", "due_at"))
    priority = item.get("priority") or DEFAULT_PRIORITY
    shown = item["category"] if priority == DEFAULT_PRIORITY else f"{item['category']}, priority {priority}"
    return f"{what}: {step} since {since} UTC, due {due} UTC ({shown})"


def escalation_message(settings: mail.MailSettings, items: list[dict]):
    """The mail telling supervisors what just became overdue."""
    first = items[0]
    subject = (
        f"RMA Station: {_subject(first)} is overdue ({first['step']})"
        if len(items) == 1
        else f"RMA Station: {len(items)} returns became overdue"
    )
    lines = ["These became overdue and are told to you once:", ""]
    lines += [f"- {_describe(i)}" for i in items]
    lines += ["", "The whole list: GET /api/v1/reports/overdue, or `rma server digest`."]
    return mail.message(settings, subject, "\n".join(lines))


MAIL_LEASE = 120.0  # seconds a server process holds the escalations it is mailing
MAIL_BACKOFF = (30.0, 3600.0)  # the first retry after 30 s, doubling, at most an hour apart


def send_escalation_mail(db: ServerDb, settings: mail.MailSettings | None = None, clock=time.time) -> int:
    """Mail the recorded escalations not mailed yet, in one message; returns how many it told.

    The rows are leased first (a row another process is mailing is skipped); a failed send
    keeps them pending, due again after a backoff, with the error recorded.
    """
    settings = settings or mail.MailSettings.from_env()
    if not settings.enabled:
        return 0
    now = clock()
    lease = now + MAIL_LEASE + (uuid.uuid4().int % 1000) / 1e6  # this round's own value
    due = sa.and_(
        escalations.c.mail == MAIL_PENDING,
        escalations.c.mail_next_at <= now,
        sa.or_(escalations.c.mail_lease.is_(None), escalations.c.mail_lease < now),
    )
    with db.write() as conn:
        ids = list(
            conn.execute(sa.select(escalations.c.id).where(due).order_by(escalations.c.due_at).limit(200)).scalars()
        )
        if not ids:
            return 0
        conn.execute(escalations.update().where(escalations.c.id.in_(ids), due).values(mail_lease=lease))
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(escalations).where(escalations.c.mail_lease == lease))]
        priorities = _priorities(conn, {r["code"] for r in rows})  # the mail names each RMA's priority
    for row in rows:
        row["priority"] = priorities.get(row["code"], DEFAULT_PRIORITY)
    if not rows:
        return 0
    held = sa.and_(escalations.c.id.in_([r["id"] for r in rows]), escalations.c.mail_lease == lease)
    try:
        mail.send(settings, escalation_message(settings, rows))
    except (mail.MailError, ValueError) as exc:
        tries = max(r["mail_attempts"] for r in rows) + 1
        delay = min(MAIL_BACKOFF[1], MAIL_BACKOFF[0] * 2 ** (tries - 1))
        with db.write() as conn:
            conn.execute(
                escalations.update()
                .where(held)
                .values(
                    mail_attempts=escalations.c.mail_attempts + 1,
                    mail_next_at=now + delay,
                    mail_lease=None,
                    mail_error=str(exc)[:500],
                )
            )
        log.warning("SLA escalation mail not sent (%s); tried again in %.0f s", exc, delay)
        return 0
    with db.write() as conn:
        conn.execute(
            escalations.update()
            .where(held)
            .values(
                mail=MAIL_SENT,
                mail_attempts=escalations.c.mail_attempts + 1,
                mail_lease=None,
                mail_error=None,
                mailed_at=utc_now(),
            )
        )
    return len(rows)


# --- the digest ------------------------------------------------------------------------------


def digest_text(db: ServerDb, now: datetime | None = None, *, policy: Policy | None = None) -> tuple[str, str, int]:
    """(subject, body, items) of the digest: everything overdue and due soon now, by step."""
    now = now or datetime.now(UTC)
    policy = policy or current_policy()
    items = overdue_report(db, now, policy=policy)
    overdue = [i for i in items if i["state"] == OVERDUE]
    soon = [i for i in items if i["state"] == DUE_SOON]
    day = now.astimezone(UTC).date().isoformat()
    subject = f"RMA Station digest {day}: {len(overdue)} overdue, {len(soon)} due soon"
    lines = [f"SLA digest of {stamp(now)[:16].replace('T', ' ')} UTC (limits: {policy.source})", ""]
    for title, group in (("Overdue", overdue), ("Due soon", soon)):
        lines.append(f"{title}: {len(group)}")
        for step in ("receive", "inspect", "put_away"):
            of_step = [i for i in group if i["step"] == step]
            if of_step:
                lines.append(f"  {step} ({len(of_step)}):")
                lines += [f"    - {_describe(i)}, {i['age_hours']:g} h old" for i in of_step]
        lines.append("")
    if not items:
        lines.append("Nothing is overdue or due soon.")
    return subject, "\n".join(lines), len(items)


def send_digest(db: ServerDb, settings: mail.MailSettings | None = None, now: datetime | None = None) -> int:
    """Mail the digest now (whatever day it is); returns the items it listed."""
    settings = settings or mail.MailSettings.from_env()
    subject, body, count = digest_text(db, now)
    mail.send(settings, mail.message(settings, subject, body))
    return count


def send_daily_digest(
    db: ServerDb, settings: mail.MailSettings, now: datetime | None = None, day: str | None = None
) -> bool:
    """The day's digest, once a day across processes and restarts (``sla_digests``); True when this one sent it.

    ``day``: the digest's day as the warehouse counts it (default: the UTC date of ``now``).
    """
    now = now or datetime.now(UTC)
    day = day or now.astimezone(UTC).date().isoformat()
    subject, body, count = digest_text(db, now)
    with db.write() as conn:
        claimed = conn.execute(
            (sqlite.insert if db.is_sqlite else postgresql.insert)(digests)
            .values(day=day, sent_at=utc_now(), items=count)
            .on_conflict_do_nothing()
            .returning(digests.c.day)
        ).first()
    if claimed is None:
        return False
    try:
        mail.send(settings, mail.message(settings, subject, body))
    except (mail.MailError, ValueError):
        with db.write() as conn:  # not sent: the claim goes, the next round tries again
            conn.execute(digests.delete().where(digests.c.day == day))
        raise
    return True


class SlaWatch:
    """The delivery loop's SLA chore: every ``every`` seconds escalate and mail; once a day the digest.

    Settings: ``RMA_SLA_CHECK`` (seconds, default 60; 0 turns escalation off), ``RMA_SLA_DIGEST_AT``
    (``HH:MM`` in the working-hours time zone, else UTC; default 07:00; ``off`` for none) and the mail
    settings of :mod:`server.mail`.
    """

    __name__ = "sla"

    def __init__(self, db: ServerDb, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        self.db = db
        self.every = float(env.get("RMA_SLA_CHECK", "") or 60)
        digest_at = (env.get("RMA_SLA_DIGEST_AT", "") or "07:00").strip().lower()
        self.digest_at = None if digest_at in ("off", "none", "0") else datetime.strptime(digest_at, "%H:%M").time()
        self.env = env
        self._next = 0.0
        self._digest_retry = 0.0

    def __call__(self) -> None:
        if self.every <= 0 or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.every
        try:
            settings: mail.MailSettings | None = mail.MailSettings.from_env(self.env)
        except ValueError as exc:
            log.warning("SLA mail not set up right: %s", exc)
            settings = None
        escalate(self.db, mail_on=settings.enabled if settings else True)
        if settings is None or not settings.enabled:
            return
        send_escalation_mail(self.db, settings)
        now = datetime.now(UTC)
        calendar = current_policy().calendar
        local = now.astimezone(calendar.zone) if calendar is not None else now  # the warehouse's clock, else UTC
        if self.digest_at is not None and local.time() >= self.digest_at and time.monotonic() >= self._digest_retry:
            try:
                send_daily_digest(self.db, settings, now, local.date().isoformat())
            except (mail.MailError, ValueError) as exc:
                self._digest_retry = time.monotonic() + timedelta(minutes=5).total_seconds()
                log.warning("SLA digest not sent (%s); tried again in 5 min", exc)
