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


PAGE_UNITS = 5000  # units one page of GET /api/v1/bins lists (the bins that hold them; a bigger bin whole)


def bin_views(
    db: ServerDb, name: str | None = None, *, after: str = "", units_limit: int | None = None
) -> list[BinView]:
    """Every bin and container (or the one named), with the units in it by plate and its last count.

    A shipped container lists the units shipped in it; any other bin the units in it now.
    ``after``: only the bins named after this one; ``units_limit``: the bins, in name order, whose units
    together reach this many (at least one bin, with all of its units) -- a page.
    """
    key = " ".join(name.split()).upper() if name else None
    with db.read() as conn:
        query = sa.select(bins).order_by(bins.c.name)
        if after:
            query = query.where(bins.c.name > after)
        if key:
            held = conn.execute(query.where(bins.c.name == key)).all()
        elif units_limit is None:
            held = conn.execute(query).all()
        else:  # bin by bin, each counted by its index, until the page holds enough units
            held, counted = [], 0
            for b in conn.execute(query.limit(1000)):
                if held and counted >= units_limit:
                    break
                held.append(b)
                counted += conn.execute(sa.select(sa.func.count()).where(units.c.bin == b.name)).scalar_one()
        unit_query = sa.select(units).order_by(units.c.bin, units.c.lpn)
        if key or units_limit is not None:
            wanted = [key] if key else [b.name for b in held]
            found = conn.execute(unit_query.where(units.c.bin.in_(wanted))).all() if wanted else []
        else:
            found = conn.execute(unit_query.where(units.c.bin.is_not(None))).all()
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


def bins_page(db: ServerDb, name: str | None = None, after: str = "") -> BinsPage:
    """``GET /api/v1/bins``'s answer: one bin, or a page of bins of about :data:`PAGE_UNITS` units
    (``next_after``: the name to ask with for the next page; None on the last)."""
    if name:
        return BinsPage(bins=bin_views(db, name))
    found = bin_views(db, after=after, units_limit=PAGE_UNITS)
    more = False
    if found:
        with db.read() as conn:
            more = conn.execute(sa.select(bins.c.name).where(bins.c.name > found[-1].name).limit(1)).first() is not None
    return BinsPage(bins=found, next_after=found[-1].name if more else None)


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
