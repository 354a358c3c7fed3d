"""The handoff's tables: the feed, units, bins and containers, inspected items, lines not received, refunds.

* ``handoff_feed``: what integrations read by cursor (``GET /api/v1/feed``): one row per unit event
  (inspected, put away, undeclared) and container or bin event (closed, moved, shipped, counted),
  its details as JSON.  On PostgreSQL the table is locked by each transaction that appends to it,
  so cursors become visible in order (as for ``changes``);
* ``handoff_units``: each license plate's RMA line and unit, grade, channel, bin or container, state;
* ``handoff_bins``: each bin or container (tote, gaylord, pallet): kind, state (open / closed /
  moved / shipped), where it was moved or shipped to, its closing counts and its last count;
* ``handoff_items``: each RMA unit's last inspection (grade, channel), for the refund decision;
* ``handoff_not_received``: each RMA line's units closed as not received;
* ``handoff_refunds``: each RMA's refund decision, made once.
"""

from __future__ import annotations

import sqlalchemy as sa

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

feed = sa.Table(
    "handoff_feed",
    metadata,
    sa.Column("cursor", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("station", sa.String(64), nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("server_at", sa.String(40), nullable=False),
    sa.Column("rma_code", sa.String(64)),
    sa.Column("lpn", sa.String(64)),
    sa.Column("bin", sa.String(64)),
    sa.Column("body", sa.Text, nullable=False),
)

units = sa.Table(
    "handoff_units",
    metadata,
    sa.Column("lpn", sa.String(64), primary_key=True),
    sa.Column("rma_code", sa.String(64)),
    sa.Column("line_no", sa.Integer),
    sa.Column("unit_no", sa.Integer),
    sa.Column("sku", sa.String(64)),
    sa.Column("grade", sa.String(16)),
    sa.Column("channel", sa.String(32)),
    sa.Column("bin", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False),  # inspected / put_away / shipped / exception
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Index("handoff_units_bin", "bin"),
)

bins = sa.Table(
    "handoff_bins",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # bin, or the container's kind (tote, gaylord, pallet)
    sa.Column("state", sa.String(16), nullable=False),  # open / closed / moved / shipped
    sa.Column("moved_to", sa.String(200)),
    sa.Column("counts", sa.Text),  # JSON {channel: n} as the container was closed
    sa.Column("last_count", sa.Text),  # JSON: the last bin.counted, with who and when
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

items = sa.Table(
    "handoff_items",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("unit_no", sa.Integer, primary_key=True),
    sa.Column("grade", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("lpn", sa.String(64)),
    sa.Column("event_id", sa.String(64), nullable=False),
)

not_received = sa.Table(
    "handoff_not_received",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
)

refunds = sa.Table(
    "handoff_refunds",
    metadata,
    sa.Column("rma_code", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),  # rfd_…: the webhook's event_id
    sa.Column("decision", sa.String(16), nullable=False),  # full / partial / none
    sa.Column("policy", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("lines", sa.Text, nullable=False),  # JSON list, see views.RefundLine
    sa.Column("amount", sa.Float),
    sa.Column("event_id", sa.String(64), nullable=False),  # the event that met the policy's condition
    sa.Column("station", sa.String(64), nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),  # that event's station time
    sa.Column("decided_at", sa.String(40), nullable=False),  # the server's clock
)


def create(engine: sa.Engine) -> None:
    """Create the handoff tables that are missing."""
    metadata.create_all(engine)
