"""What the handoff's routes and ``rma server bins`` read: the feed by cursor, bins and containers, refunds."""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.db import ServerDb, rmas
from server.handoff.models import BinCount, BinsPage, BinUnit, BinView, FeedItem, FeedPage, RefundDecision
from server.handoff.projection import DEFAULT_POLICY, POLICIES, decision_view
from server.handoff.tables import bins, feed, refunds, units


def feed_after(db: ServerDb, cursor: int, limit: int) -> FeedPage:
    """The feed's items after ``cursor``, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(feed).where(feed.c.cursor > cursor).order_by(feed.c.cursor).limit(limit + 1)
        ).all()
        epoch = ServerDb._read_epoch(conn)
    page = []
    for r in rows[:limit]:
        body = json.loads(r.body)
        page.append(
            FeedItem(
                cursor=r.cursor,
                kind=r.kind,
                event_id=r.event_id,
                station=r.station,
                operator=r.operator,
                at=r.at,
                server_at=r.server_at,
                rma_code=r.rma_code,
                lpn=r.lpn,
                bin=r.bin,
                grade=body.get("grade"),
                channel=body.get("channel"),
                detail=body.get("detail") or {},
            )
        )
    return FeedPage(epoch=epoch, items=page, cursor=page[-1].cursor if page else cursor, has_more=len(rows) > limit)


def bin_views(db: ServerDb, name: str | None = None) -> list[BinView]:
    """Every bin and container (or the one named), with the units in it by plate and its last count.

    A shipped container lists the units shipped in it; any other bin the units in it now.
    """
    key = " ".join(name.split()).upper() if name else None
    with db.read() as conn:
        query = sa.select(bins).order_by(bins.c.name)
        held = conn.execute(query.where(bins.c.name == key) if key else query).all()
        unit_query = sa.select(units).where(units.c.bin.is_not(None)).order_by(units.c.bin, units.c.lpn)
        found = conn.execute(unit_query.where(units.c.bin == key) if key else unit_query).all()
    by_bin: dict[str, list] = {}
    for u in found:
        by_bin.setdefault(u.bin, []).append(u)
    out = []
    for b in held:
        shipped = b.state == "shipped"
        count = json.loads(b.last_count) if b.last_count else None
        out.append(
            BinView(
                name=b.name,
                kind=b.kind,
                state=b.state,
                moved_to=b.moved_to,
                counts=json.loads(b.counts) if b.counts else {},
                units=[
                    BinUnit(
                        lpn=u.lpn,
                        rma_code=u.rma_code,
                        line_no=u.line_no,
                        unit_no=u.unit_no,
                        sku=u.sku,
                        grade=u.grade,
                        channel=u.channel,
                        state=u.state,
                        updated_at=u.updated_at,
                    )
                    for u in by_bin.get(b.name, ())
                    if (u.state == "shipped") == shipped
                ],
                last_count=BinCount.model_validate({k: v for k, v in count.items() if k != "updated_at"})
                if count
                else None,
                updated_at=b.updated_at,
            )
        )
    return out


def bins_page(db: ServerDb, name: str | None = None) -> BinsPage:
    """``GET /api/v1/bins``'s answer."""
    return BinsPage(bins=bin_views(db, name))


def refund_of(db: ServerDb, code: str) -> RefundDecision | None:
    """An RMA's refund decision, or that it is pending; None when the server knows no such RMA."""
    code = code.strip().upper()
    with db.read() as conn:
        rma = conn.execute(sa.select(rmas.c.record).where(rmas.c.code == code)).first()
        row = conn.execute(sa.select(refunds).where(refunds.c.rma_code == code)).first()
    if row is not None:
        return RefundDecision.model_validate({**decision_view(row), "state": "decided"})
    if rma is None:
        return None
    policy = json.loads(rma.record).get("refund_policy")
    return RefundDecision(rma_code=code, policy=policy if policy in POLICIES else DEFAULT_POLICY, state="pending")
