"""Risk signals: each customer's return history, matched by a keyed hash and never shown.

An RMA imported with a ``customer`` (the ERP's customer id or e-mail) is filed
under HMAC-SHA256(secret, the customer with case and spacing normalised); the
secret is drawn once per server database (``meta``), so the table matches
returns to one customer without holding anything that names them. When the
server authorises a return it counts the customer's returns in the last 30
days and their earlier returns on which an item matched no line
(``item.mismatch``); a frequent returner or an earlier mismatch puts ``risk``
on the record the stations pull, and they show "inspect fully: …" at
receiving and at inspection. :func:`flagged` is the supervisors' list
(``GET /api/v1/reports/risk``, ``rma server risk``), with the serial numbers
inspected on more than one return.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa
from pydantic import BaseModel

from server import analytics
from sync.protocol import Risk, RmaRecord

FREQUENT = 3  # returns authorised in WINDOW, this one counted, that make a frequent returner
WINDOW = timedelta(days=30)
MISMATCH = "item.mismatch"
SERIAL_EVENTS = ("item.inspected", MISMATCH)

metadata = sa.MetaData()

customer_returns = sa.Table(
    "customer_returns",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("customer_key", sa.String(64), nullable=False),
    sa.Column("authorized_at", sa.String(40), nullable=False),
    sa.Index("customer_returns_by_customer", "customer_key", "authorized_at"),
    sa.Index("customer_returns_by_time", "authorized_at", "customer_key"),  # who returned often lately
)


class FlaggedCustomer(BaseModel):
    """One customer on the supervisors' list: a short reference (never who they are) and why they are on it."""

    customer_ref: str  # the first 12 hex digits of the customer's keyed hash
    returns_30d: int  # returns authorised in the last 30 days
    returns: int  # returns on record
    mismatches: int  # returns on which an item matched no line
    mismatched_rmas: list[str]
    serials_seen_before: list[str]  # GTIN/serial inspected on this customer's return and on another one
    rmas: list[str]


def create(engine: sa.Engine) -> None:
    """Create the table and its indexes if missing (called by :meth:`server.db.ServerDb.create`)."""
    metadata.create_all(engine)
    for index in customer_returns.indexes:  # an index added to the table an earlier release made
        index.create(engine, checkfirst=True)


def customer_key(secret: str, customer: str) -> str:
    """The customer as the server files them: a keyed hash, the same for ``A@x.com`` and `` a@x.com``."""
    normal = " ".join(customer.split()).casefold()
    return hmac.new(secret.encode(), normal.encode(), hashlib.sha256).hexdigest()


def assess(
    conn: sa.Connection, events: sa.Table, records: dict[str, RmaRecord], now: str, secret: str
) -> dict[str, RmaRecord]:
    """File each record's customer and put the customer's risk on it; the records come back without ``customer``.

    A record sent without a customer keeps the customer it was filed under before. Called
    inside the import's transaction, before the records are compared and stored.
    """
    codes = list(records)
    filed: dict[str, str] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        filed.update(
            conn.execute(
                sa.select(customer_returns.c.rma_code, customer_returns.c.customer_key).where(
                    customer_returns.c.rma_code.in_(chunk)
                )
            ).all()
        )
    since = _stamp(datetime.fromisoformat(now) - WINDOW)
    out: dict[str, RmaRecord] = {}
    for code, rec in records.items():
        key = customer_key(secret, rec.customer) if rec.customer.strip() else filed.get(code)
        risk = None
        if key is not None and rec.status == "cancelled":
            conn.execute(customer_returns.delete().where(customer_returns.c.rma_code == code))
        elif key is not None:
            if code not in filed:
                conn.execute(customer_returns.insert().values(rma_code=code, customer_key=key, authorized_at=now))
            elif filed[code] != key:
                conn.execute(
                    customer_returns.update().where(customer_returns.c.rma_code == code).values(customer_key=key)
                )
            risk = _risk(conn, events, key, code, since)
        out[code] = rec.model_copy(update={"customer": "", "risk": risk})
    return out


def _risk(conn: sa.Connection, events: sa.Table, key: str, code: str, since: str) -> Risk | None:
    mine = customer_returns.c.customer_key == key
    returns = conn.execute(
        sa.select(sa.func.count()).where(mine, customer_returns.c.authorized_at >= since)
    ).scalar_one()
    others = sa.select(customer_returns.c.rma_code).where(mine, customer_returns.c.rma_code != code)
    mismatches = conn.execute(
        sa.select(sa.func.count(sa.distinct(events.c.rma_code))).where(
            events.c.type == MISMATCH, events.c.rma_code.in_(others)
        )
    ).scalar_one()
    if returns < FREQUENT and not mismatches:
        return None
    return Risk(returns_30d=returns, mismatches=mismatches)


def flagged(conn: sa.Connection, events: sa.Table, now: str, limit: int | None = None) -> list[FlaggedCustomer]:
    """The customers worth a full inspection, most returns first: a short reference (never who they are),
    their returns in 30 days, the returns with a mismatch, their RMAs, and serials seen on another return.

    Read from what the analytics fold keeps (server/analytics.py: ``risk_mismatches``, ``risk_serials``
    and their counts) -- the callers refresh it first -- so only the flagged customers' returns are read,
    never every event; ``limit``: the first so many of the list.
    """
    since = _stamp(datetime.fromisoformat(now) - WINDOW)
    cr = customer_returns.c
    counts, multi = analytics.serial_counts_t.c, analytics.serials_t.c
    seen_serials = (
        sa.select(multi.serial, multi.rma_code)
        .join(analytics.serial_counts_t, counts.serial == multi.serial)
        .where(counts.rmas > 1)
    )
    frequent = (
        sa.select(cr.customer_key)
        .where(cr.authorized_at >= since)
        .group_by(cr.customer_key)
        .having(sa.func.count() >= FREQUENT)
    )
    mismatching = sa.select(cr.customer_key).join(
        analytics.mismatches_t, analytics.mismatches_t.c.rma_code == cr.rma_code
    )
    seen = sa.select(cr.customer_key).where(cr.rma_code.in_(sa.select(seen_serials.subquery().c.rma_code)))
    rows: list = []
    often = conn.execute(frequent.add_columns(sa.func.count())).all() if limit is not None else []
    if limit is not None and len(often) >= limit:
        # the list is ordered by returns in 30 days first: its first `limit` are frequent returners with
        # at least as many as the limit-th of them -- only theirs are read (not every flagged customer's)
        least = sorted((n for _key, n in often), reverse=True)[limit - 1]
        keys = [key for key, n in often if n >= least]
        for start in range(0, len(keys), 1000):
            rows += conn.execute(
                sa.select(cr.customer_key, cr.rma_code, cr.authorized_at).where(
                    cr.customer_key.in_(keys[start : start + 1000])
                )
            ).all()
    else:
        candidates = sa.union(frequent, mismatching, seen).subquery()
        rows = list(
            conn.execute(
                sa.select(cr.customer_key, cr.rma_code, cr.authorized_at).where(
                    cr.customer_key.in_(sa.select(candidates.c[0]))
                )
            )
        )
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for key, code, at in rows:
        by_customer.setdefault(key, []).append((code, at))
    codes_read = [code for _key, code, _at in rows]
    mismatched: set[str] = set()
    for start in range(0, len(codes_read), 1000):
        mismatched |= set(
            conn.execute(
                sa.select(analytics.mismatches_t.c.rma_code).where(
                    analytics.mismatches_t.c.rma_code.in_(codes_read[start : start + 1000])
                )
            ).scalars()
        )
    serials_on: dict[str, set[str]] = {}  # RMA code -> the serials on it that were on another return too
    for serial, code in conn.execute(seen_serials):
        serials_on.setdefault(code, set()).add(serial)
    found = []
    for key, returns in by_customer.items():
        codes = sorted(code for code, _at in returns)
        recent = sum(1 for _code, at in returns if at >= since)
        mismatches = sorted(c for c in codes if c in mismatched)
        seen_here = sorted({serial for code in codes for serial in serials_on.get(code, ())})
        if recent < FREQUENT and not mismatches and not seen_here:
            continue
        found.append((-recent, -len(mismatches), key[:12], key, codes, mismatches, seen_here))
    found.sort(key=lambda f: f[:3])
    return [
        FlaggedCustomer(
            customer_ref=ref,
            returns_30d=-recent,
            returns=len(codes),
            mismatches=-count,
            mismatched_rmas=mismatches,
            serials_seen_before=seen_here,
            rmas=codes,
        )
        for recent, count, ref, _key, codes, mismatches, seen_here in (found if limit is None else found[:limit])
    ]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")  # as server.db.utc_now writes times, so they compare as text
