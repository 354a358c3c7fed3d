"""The handoff to stock, ERP and finance: the integration feed, bins and containers, refund decisions.

* :mod:`server.handoff.tables`: the projection's tables (their own :class:`sqlalchemy.MetaData`,
  created by :meth:`server.db.ServerDb.create`);
* :mod:`server.handoff.projection`: :func:`project`, which the push calls in the transaction that
  stores the events: one feed item per unit event, where each unit and container is, each bin's last
  count, and the refund decision of an RMA once its policy's condition is met (with its
  ``refund.decided`` webhook, queued in the same transaction);
* :mod:`server.handoff.views`: what ``GET /api/v1/feed``, ``/bins``, ``/rmas/{code}/refund`` and
  ``rma server bins`` read;
* :mod:`server.handoff.routes`: those routes, added to the app by :func:`server.api.create_app`.

:mod:`server.db` imports this package (tables and projection only), so nothing imported here imports
:mod:`server.db` at module level.
"""

from server.handoff.projection import project, projects, timeline_entries
from server.handoff.tables import create

__all__ = ["create", "project", "projects", "timeline_entries"]
