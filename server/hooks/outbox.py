"""The webhook outbox: registered endpoints and one delivery row per (endpoint, event).

Tables (their own :class:`sqlalchemy.MetaData`, created by :meth:`server.db.ServerDb.create`):

* ``webhook_endpoints``: a URL, the event kinds it takes (comma-separated
  :class:`HookKind` values), its signing secret (``whsec_…``), and ``removed_at``;
* ``webhook_deliveries``: one row per event and endpoint, written by :func:`enqueue` in the
  push's own transaction: the delivery id (``webhook-id``, the same on every try and replay),
  the exact JSON body, ``status`` (pending / delivered / dead), ``attempts``, ``next_at``
  (when it is due, Unix seconds), ``lease_until`` (a sender holds it until then) and the
  last error.

Nothing here imports :mod:`server.db`: the push path imports this module.
"""

from __future__ import annotations

import json
import threading
import uuid
from enum import Enum
from gettext import gettext as _

import sqlalchemy as sa

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class HookKind(str, Enum):
    """What an endpoint subscribes to."""

    RECEIPT = "receipt"
    INSPECTION = "inspection"
    REFUND = "refund.decided"  # the server's refund decision for an RMA (server/handoff)
    STOCK = "stock.moved"  # a unit put away, a container shipped
    SLA_OVERDUE = "sla.overdue"  # a step's time limit passed (server/sla.py): told once per RMA or unit and step


# the station event types each kind carries (the event's own type is in the body's data.event)
EVENT_KINDS: dict[str, HookKind] = {
    "rma.received": HookKind.RECEIPT,
    "rma.receive_undone": HookKind.RECEIPT,
    "parcel.unexpected": HookKind.RECEIPT,
    "item.inspected": HookKind.INSPECTION,
    "rma.inspected": HookKind.INSPECTION,
    "unit.put_away": HookKind.STOCK,
    "container.shipped": HookKind.STOCK,
    # the exceptions (sync/store/exceptions.py): a second parcel, an unexpected parcel attached or given a blind
    # RMA are receipts; a line closed as not received, an undeclared item are what inspection found
    "rma.parcel_received": HookKind.RECEIPT,
    "parcel.attached": HookKind.RECEIPT,
    "rma.blind_created": HookKind.RECEIPT,
    "line.not_received": HookKind.INSPECTION,
    "item.undeclared": HookKind.INSPECTION,
}

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

metadata = sa.MetaData()

endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # comma-separated HookKind values
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("removed_at", sa.String(40)),
)

deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("endpoint_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_at", sa.Float, nullable=False),
    sa.Column("lease_until", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("delivered_at", sa.String(40)),
    sa.Index("webhook_deliveries_due", "status", "next_at"),
    sa.Index("webhook_deliveries_endpoint", "endpoint_id", "status"),
)


def create(engine: sa.Engine) -> None:
    """Create the webhook tables that are missing."""
    metadata.create_all(engine)


def new_delivery_id() -> str:
    """A delivery id: unique without coordination, the same on every try (receivers dedupe on it)."""
    return "dlv_" + uuid.uuid4().hex


def parse_kinds(text: str) -> list[HookKind]:
    """``receipt,inspection`` as kinds; ValueError naming the one that is not a kind."""
    kinds = []
    every = ", ".join(k.value for k in HookKind)
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            kinds.append(HookKind(name))
        except ValueError:
            raise ValueError(_("{name!r} is not an event kind; use {kinds}").format(name=name, kinds=every)) from None
    if not kinds:
        raise ValueError(_("no event kind given; use {kinds}").format(kinds=every))
    return list(dict.fromkeys(kinds))


def body_of(kind: HookKind, row: dict) -> str:
    """The JSON a receiver gets for one stored event (Standard Webhooks' type / timestamp / data)."""
    return json.dumps(
        {
            "type": kind.value,
            "timestamp": row["server_at"],
            "data": {
                "event": row["type"],
                "event_id": row["event_id"],
                "station": row["station"],
                "seq": row["seq"],
                "operator": row["operator"],
                "at": row["at"],
                "server_at": row["server_at"],
                "rma_code": row["rma_code"],
                "refers_to": row["refers_to"],
                "payload": json.loads(row["payload"]),
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def enqueue(conn: sa.Connection, rows: list[dict], now: str, live_endpoints: list | None = None) -> int:
    """Queue one delivery per stored event and subscribed endpoint, in the caller's transaction.

    ``rows`` are the events rows the push just inserted.  Costs nothing for events no kind
    carries, and one small query for the endpoints otherwise (none when the caller read the
    live endpoints' ``(id, events)`` rows in this transaction already: ``live_endpoints``).
    Returns the deliveries queued.
    """
    hooked = [(EVENT_KINDS[r["type"]], r) for r in rows if r["type"] in EVENT_KINDS]
    if not hooked:
        return 0
    subscribed = _subscribed(conn, live_endpoints)
    bodies = [(kind, row["event_id"], body_of(kind, row)) for kind, row in hooked if subscribed.get(kind)]
    return _queue(conn, bodies, now, subscribed)


def enqueue_bodies(conn: sa.Connection, kind: HookKind, bodies: list[tuple[str, str]], now: str) -> int:
    """Queue deliveries of bodies the server made itself ((id, JSON body): a refund decision), in the caller's
    transaction; one per subscribed endpoint.  Returns the deliveries queued."""
    if not bodies:
        return 0
    return _queue(conn, [(kind, event_id, body) for event_id, body in bodies], now)


def _subscribed(conn: sa.Connection, live_endpoints: list | None = None) -> dict[HookKind, list[int]]:
    """The endpoints (ids) that take each kind (from ``live_endpoints``' ``(id, events)`` rows when given)."""
    subscribed: dict[HookKind, list[int]] = {}
    live = endpoints.c
    for endpoint_id, events in (
        live_endpoints
        if live_endpoints is not None
        else conn.execute(sa.select(live.id, live.events).where(live.removed_at.is_(None)))
    ):
        for kind in parse_kinds(events):
            subscribed.setdefault(kind, []).append(endpoint_id)
    return subscribed


def _queue(
    conn: sa.Connection,
    bodies: list[tuple[HookKind, str, str]],
    now: str,
    subscribed: dict[HookKind, list[int]] | None = None,
) -> int:
    if not bodies:
        return 0
    if subscribed is None:
        subscribed = _subscribed(conn)
    due = 0.0  # at once: the delivery loop takes pending rows whose next_at has passed
    queued = [
        {
            "id": new_delivery_id(),
            "endpoint_id": endpoint_id,
            "kind": kind.value,
            "event_id": event_id,
            "body": body,
            "status": PENDING,
            "attempts": 0,
            "next_at": due,
            "created_at": now,
        }
        for kind, event_id, body in bodies
        for endpoint_id in subscribed.get(kind, ())
    ]
    if queued:
        conn.execute(deliveries.insert(), queued)
        wake_after_commit(conn)
    return len(queued)


def enqueue_notice(conn: sa.Connection, kind: HookKind, notice_id: str, body: str, now: str) -> int:
    """Queue ``body`` (the server's own notice, not a station event: an SLA escalation) to every endpoint
    subscribed to ``kind``, in the caller's transaction; ``notice_id`` stands where an event id would."""
    targets = [
        endpoint_id
        for endpoint_id, events in conn.execute(
            sa.select(endpoints.c.id, endpoints.c.events).where(endpoints.c.removed_at.is_(None))
        )
        if kind in parse_kinds(events)
    ]
    if not targets:
        return 0
    conn.execute(
        deliveries.insert(),
        [
            {
                "id": new_delivery_id(),
                "endpoint_id": endpoint_id,
                "kind": kind.value,
                "event_id": notice_id,
                "body": body,
                "status": PENDING,
                "attempts": 0,
                "next_at": 0.0,
                "created_at": now,
            }
            for endpoint_id in targets
        ],
    )
    wake_after_commit(conn)
    return len(targets)


# set when this process queued deliveries, so its delivery loop looks at once (other processes poll)
wake = threading.Event()


_queued = threading.local()  # .wake: this thread's transaction queued deliveries


def wake_after_commit(_conn: sa.Connection) -> None:
    """Wake this process's delivery loop when the caller's transaction has committed what it queued
    (:meth:`server.db.ServerDb.write` calls :func:`wake_if_queued` after its commit).

    Woken before the commit, the loop could look, find nothing yet, and sleep until its next look
    (``RMA_WEBHOOK_POLL``, 5 s) with the deliveries waiting.
    """
    _queued.wake = True


def wake_if_queued() -> None:
    """After a commit: wake the delivery loop if the transaction queued deliveries."""
    if getattr(_queued, "wake", False):
        _queued.wake = False
        wake.set()
