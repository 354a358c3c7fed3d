"""The bodies of the handoff's answers (``GET /api/v1/feed``, ``/bins``, ``/rmas/{code}/refund``).

Integrations read them; stations do not, so they live with the server, not in :mod:`sync.protocol`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sync.protocol import WireModel

Tally = int | list[str] | None  # a count's figure: a number, or the plates


class FeedItem(WireModel):
    """One unit or container event, as the feed gives it."""

    cursor: int
    # item.inspected, unit.put_away, item.undeclared, container.closed, container.moved, container.shipped,
    # bin.counted: the station event it comes from
    kind: str
    event_id: str
    station: str
    operator: str
    at: str  # the station's clock
    server_at: str
    rma_code: str | None = None
    lpn: str | None = None
    bin: str | None = None  # the bin or container concerned
    grade: str | None = None  # item.inspected
    channel: str | None = None  # item.inspected, unit.put_away
    detail: dict = Field(default_factory=dict)  # the rest, by kind (see README)


class FeedPage(WireModel):
    """A page of the feed after a cursor."""

    epoch: str
    items: list[FeedItem]
    cursor: int  # the last item's cursor (or the one asked for, if none)
    has_more: bool


class BinUnit(WireModel):
    """A unit in a bin or container, by its license plate."""

    lpn: str
    rma_code: str | None = None
    line_no: int | None = None
    unit_no: int | None = None
    sku: str | None = None
    grade: str | None = None
    channel: str | None = None
    state: str  # put_away / shipped / inspected / exception
    updated_at: str


class BinCount(WireModel):
    """A bin's last count: what was expected, found, missing and extra (numbers or plates)."""

    at: str
    station: str
    operator: str
    event_id: str
    expected: Tally = None
    found: Tally = None
    missing: Tally = None
    extra: Tally = None


class BinView(WireModel):
    """A bin or container on the server: its units by plate, its state, its last count."""

    name: str
    kind: str  # bin, or the container's kind (tote, gaylord, pallet)
    state: Literal["open", "closed", "moved", "shipped"]
    moved_to: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)  # by channel, as the container was closed
    units: list[BinUnit]
    last_count: BinCount | None = None
    updated_at: str


class BinsPage(WireModel):
    """Every bin and container the stations reported (GET /api/v1/bins), a page at a time."""

    bins: list[BinView]
    # the bin to ask after (?after=) for the next page; None when this page is the last
    next_after: str | None = None


class RefundLine(WireModel):
    """One RMA line in a refund decision."""

    line_no: int
    sku: str
    qty: int
    refunded: int
    not_received: int
    customer_damage: int  # scrapped, not routed to the supplier (return_to_vendor)
    not_inspected: int
    value: float | None = None  # the unit value the RMA line carries
    amount: float | None = None  # refunded x value


class RefundDecision(WireModel):
    """An RMA's refund decision under its refund policy (GET /api/v1/rmas/{code}/refund)."""

    rma_code: str
    policy: Literal["on_receipt", "after_inspection"]
    state: Literal["pending", "decided"]
    decision: Literal["full", "partial", "none"] | None = None
    reason: str = ""
    lines: list[RefundLine] = Field(default_factory=list)
    amount: float | None = None  # the sum of the lines' amounts, when every line has a value
    id: str | None = None  # rfd_…: the refund.decided webhook's data.id
    event_id: str | None = None  # the station event that met the policy's condition
    station: str | None = None
    operator: str | None = None
    at: str | None = None
    decided_at: str | None = None  # the server's clock
