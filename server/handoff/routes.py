"""The handoff's routes: ``GET /api/v1/feed``, ``GET /api/v1/bins``, ``GET /api/v1/rmas/{code}/refund``.

:func:`add_routes` is called by :func:`server.api.create_app` with the app's own token dependency,
so these answer like every other route (401, 429, 503 with one line).  No ``from __future__ import
annotations`` here: FastAPI reads the ``station`` dependency from the annotations as they are made.
"""

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query

from server.db import ServerDb
from server.handoff import views
from server.handoff.models import BinsPage, FeedPage, RefundDecision
from sync.protocol import API_PREFIX, MAX_PAGE, MAX_SEQ, ErrorBody


def add_routes(app: FastAPI, db: ServerDb, station: Any, errors: dict[int | str, dict[str, Any]]) -> None:
    """Add the feed, bins and refund routes to ``app``; ``station`` is its token dependency (any token reads)."""

    @app.get(f"{API_PREFIX}/feed", response_model=FeedPage, responses=errors)
    def feed_page(
        _who: station,
        cursor: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
    ) -> FeedPage:
        """Every unit's grade, channel, plate, bin and container moves after a cursor, oldest first (integrations)."""
        return views.feed_after(db, cursor, limit)

    @app.get(f"{API_PREFIX}/bins", response_model=BinsPage, responses=errors)
    def bins_page(
        _who: station,
        bin: Annotated[str | None, Query(max_length=64)] = None,
        after: Annotated[str, Query(max_length=64, description="the next page: the bins named after this")] = "",
    ) -> BinsPage:
        """Each bin and container (or the one named): its units by plate, its state, its last count.

        A page holds the bins (in name order) of about 5,000 units, a bigger bin whole; ``next_after``
        names the bin to ask after for the next page (None on the last)."""
        return views.bins_page(db, bin, after)

    @app.get(
        f"{API_PREFIX}/rmas/{{code}}/refund",
        response_model=RefundDecision,
        responses=errors | {404: {"model": ErrorBody}},
    )
    def refund(code: str, _who: station) -> RefundDecision:
        """The RMA's refund decision under its refund policy (full / partial / none), or that it is pending."""
        found = views.refund_of(db, code)
        if found is None:
            raise HTTPException(404, f"no RMA {code.strip().upper()}")
        return found
