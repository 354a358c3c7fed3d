"""What ``rma server webhooks add|list|remove|dead|replay`` does, over a :class:`~server.db.ServerDb`."""

from __future__ import annotations

from dataclasses import dataclass
from gettext import gettext as _
from urllib.parse import urlsplit

import sqlalchemy as sa

from server.db import NotFound, ServerDb, ServerError, utc_now
from server.hooks import signing
from server.hooks.outbox import DEAD, DELIVERED, PENDING, deliveries, endpoints, parse_kinds, wake


@dataclass
class Endpoint:
    """A registered endpoint and how its deliveries stand."""

    id: int
    url: str
    events: list[str]
    created_at: str
    pending: int = 0
    delivered: int = 0
    dead: int = 0


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; ServerError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(_("{url!r} is not an http:// or https:// URL with a host").format(url=url))
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ServerError(_("{url!r} has a port that is not 1-65535").format(url=url)) from None
    return url.strip()


def add_endpoint(db: ServerDb, url: str, events: str, secret: str) -> Endpoint:
    """Register ``url`` for the comma-separated event kinds, signing with ``secret`` (``whsec_…``)."""
    url = check_url(url)
    try:
        kinds = parse_kinds(events)
        signing.secret_key(secret)
    except ValueError as exc:
        raise ServerError(str(exc)) from None
    now = utc_now()
    names = [k.value for k in kinds]
    with db.write() as conn:
        endpoint_id = conn.execute(
            endpoints.insert()
            .values(url=url, events=",".join(names), secret=secret.strip(), created_at=now)
            .returning(endpoints.c.id)
        ).scalar_one()
    return Endpoint(endpoint_id, url, names, now)


def list_endpoints(db: ServerDb) -> list[Endpoint]:
    """The endpoints not removed, with their deliveries counted by status."""
    with db.read() as conn:
        found = {
            r.id: Endpoint(r.id, r.url, r.events.split(","), r.created_at)
            for r in conn.execute(
                sa.select(endpoints.c.id, endpoints.c.url, endpoints.c.events, endpoints.c.created_at)
                .where(endpoints.c.removed_at.is_(None))
                .order_by(endpoints.c.id)
            )
        }
        for endpoint_id, status, count in conn.execute(
            sa.select(deliveries.c.endpoint_id, deliveries.c.status, sa.func.count())
            .where(deliveries.c.endpoint_id.in_(list(found) or [-1]))
            .group_by(deliveries.c.endpoint_id, deliveries.c.status)
        ):
            setattr(found[endpoint_id], {PENDING: "pending", DELIVERED: "delivered", DEAD: "dead"}[status], count)
    return list(found.values())


def remove_endpoint(db: ServerDb, endpoint_id: int) -> int:
    """Stop delivering to an endpoint; returns how many of its deliveries were still pending (kept, not sent)."""
    with db.write() as conn:
        done = conn.execute(
            endpoints.update()
            .where(endpoints.c.id == endpoint_id, endpoints.c.removed_at.is_(None))
            .values(removed_at=utc_now())
        ).rowcount
        if not done:
            raise NotFound(_("no webhook endpoint {id} (see rma server webhooks list)").format(id=endpoint_id))
        return conn.execute(
            sa.select(sa.func.count()).where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.status == PENDING)
        ).scalar_one()


@dataclass
class DeadDelivery:
    """A delivery that ran out of tries."""

    id: str
    endpoint_id: int
    url: str
    kind: str
    event_id: str
    attempts: int
    last_error: str
    created_at: str


def dead_deliveries(db: ServerDb, limit: int = 1000) -> list[DeadDelivery]:
    """The dead-letter list, oldest first."""
    with db.read() as conn:
        return [
            DeadDelivery(r.id, r.endpoint_id, r.url, r.kind, r.event_id, r.attempts, r.last_error or "", r.created_at)
            for r in conn.execute(
                sa.select(
                    deliveries.c.id,
                    deliveries.c.endpoint_id,
                    endpoints.c.url,
                    deliveries.c.kind,
                    deliveries.c.event_id,
                    deliveries.c.attempts,
                    deliveries.c.last_error,
                    deliveries.c.created_at,
                )
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.status == DEAD)
                .order_by(deliveries.c.created_at, deliveries.c.id)
                .limit(limit)
            )
        ]


def replay(db: ServerDb, delivery_ids: list[str] | None = None, *, all_dead: bool = False) -> int:
    """Queue deliveries again (dead or delivered), due at once, with a fresh count of tries; the ids stay.

    Returns how many were queued (one still pending is left as it is: it is on its way).
    An id that is not a delivery is a :class:`NotFound`.
    """
    with db.write() as conn:
        if all_dead:
            where = deliveries.c.status == DEAD
        else:
            ids = list(dict.fromkeys(delivery_ids or []))
            known = set(conn.execute(sa.select(deliveries.c.id).where(deliveries.c.id.in_(ids))).scalars())
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise NotFound(
                    _("no delivery {id} (see rma server webhooks dead); nothing was replayed").format(id=unknown[0])
                )
            where = sa.and_(deliveries.c.id.in_(ids), deliveries.c.status != PENDING)  # pending: on its way
        count = conn.execute(
            deliveries.update()
            .where(where)
            .values(status=PENDING, attempts=0, next_at=0.0, lease_until=None, delivered_at=None)
        ).rowcount
    wake.set()
    return count
