"""What a test reads straight from the server's database: the server itself never asks these."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import ServerDb, changes, conflicts, events, inspected_items, photos, rejections, rmas, stations


def refused_events(db: ServerDb, station: str) -> list[tuple[int, str, str]]:
    """(seq, event id, reason) of every event of a station the server refused, by seq."""
    with db.read() as conn:
        return [
            (r.seq, r.event_id, r.reason)
            for r in conn.execute(
                sa.select(rejections.c.seq, rejections.c.event_id, rejections.c.reason)
                .where(rejections.c.station == station)
                .order_by(rejections.c.seq)
            )
        ]


def inspected_item(db: ServerDb, code: str, item: str) -> tuple[str, str] | None:
    """(event id, station) of the inspection the server counts for an item of an RMA."""
    with db.read() as conn:
        row = conn.execute(
            sa.select(inspected_items.c.event_id, inspected_items.c.station).where(
                inspected_items.c.rma_code == code, inspected_items.c.item == item
            )
        ).first()
    return (row.event_id, row.station) if row else None


def row_counts(db: ServerDb) -> dict[str, int]:
    """Rows per table."""
    with db.read() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (events, rejections, rmas, changes, conflicts, stations, photos)
        }
