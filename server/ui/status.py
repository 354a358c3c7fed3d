"""The customer's status page: per RMA a signed link, and the page it opens under ``/status/``.

A link is ``/status/<code>.<expires>.<signature>``: the RMA code (base64url), the Unix time it
expires, and an HMAC-SHA256 of both under the server's secret (``meta.status_link_secret``,
:func:`server.ui.store.status_secret`).  Without the secret no one can make one, for another
RMA or a later expiry; the ERP fetches it with ``GET /api/v1/rmas/{code}/status-link`` (an
integration token) and mails it.

The page shows the steps a customer may know -- authorized, received, inspected and, when
the database holds a refund decision, refund decided -- each with its date, and nothing
internal: no operator, station, note, photo, grade or anyone else's data.  A wrong, altered
or expired link, or one for an RMA the server no longer has, answers the same 404 page.
Requests are rate limited per address (429).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from server.db import NotFound, events, rmas
from server.ui import store
from server.ui.catalog import N_
from server.ui.web import render, ui_router, ui_state
from sync.protocol import parse_stamp

router = ui_router()
LINK_DAYS = 90  # a status link's default life: a return is long settled by then
REFUND_TABLE = "refund_decisions"  # the handoff's refund decisions (issue 11), shown once they exist
REFUND_EVENTS = ("refund.decided",)


class StatusLink(BaseModel):
    """A signed link to one RMA's status page, for the ERP to mail to the customer."""

    rma_code: str
    path: str  # /status/...
    url: str  # the path on the address the request came to
    expires_at: str  # ISO-8601 UTC


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(secret: bytes, code: str, expires: int) -> str:
    return _b64(hmac.new(secret, f"rma-status-link\n{code}\n{expires}".encode(), hashlib.sha256).digest())


def make_token(secret: bytes, code: str, expires: int) -> str:
    """The last part of a status link for ``code`` valid until ``expires`` (Unix seconds)."""
    return f"{_b64(code.encode())}.{expires}.{_signature(secret, code, expires)}"


def read_token(secret: bytes, token: str, now: float | None = None) -> str | None:
    """The RMA code of a valid, unexpired link, else None (whatever is wrong with it)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12 or len(token) > 300:
        return None
    try:
        code = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    expires = int(parts[1])
    if not hmac.compare_digest(parts[2].encode(), _signature(secret, code, expires).encode()):
        return None
    return code if expires > (time.time() if now is None else now) else None


def link_for(db, code: str, *, days: int = LINK_DAYS, base_url: str = "") -> StatusLink:
    """A status link for RMA ``code`` valid ``days`` days; :class:`~server.db.NotFound` when there is no such RMA."""
    code = code.strip().upper()
    with db.read() as conn:
        if conn.execute(sa.select(rmas.c.code).where(rmas.c.code == code)).first() is None:
            raise NotFound(f"no RMA {code}")
    expires = int(time.time()) + days * 86400
    path = f"/status/{make_token(store.status_secret(db), code, expires)}"
    return StatusLink(
        rma_code=code,
        path=path,
        url=base_url.rstrip("/") + path,
        expires_at=datetime.fromtimestamp(expires, UTC).isoformat(),
    )


STEP_LABELS = {
    "authorized": N_("Return authorized"),
    "received": N_("Parcel received"),
    "inspected": N_("Items inspected"),
    "refund": N_("Refund decided"),
    "cancelled": N_("Return cancelled"),
}


def _day(stamp: str | None) -> str:
    """The date of a time stamp, as written where it happened (its own offset)."""
    if not stamp:
        return ""
    try:
        return parse_stamp(stamp).date().isoformat()
    except ValueError:
        return stamp[:10]


def _refund_decided_at(conn: sa.Connection, code: str) -> str | None:
    """When the RMA's refund was decided, if the database holds refund decisions at all."""
    found = conn.execute(
        sa.select(sa.func.min(events.c.at)).where(events.c.rma_code == code, events.c.type.in_(REFUND_EVENTS))
    ).scalar()
    if found:
        return found
    inspector = sa.inspect(conn)
    if not inspector.has_table(REFUND_TABLE):
        return None
    columns = {c["name"] for c in inspector.get_columns(REFUND_TABLE)}
    when = next((c for c in ("decided_at", "at", "created_at") if c in columns), None)
    if when is None or "rma_code" not in columns:
        return None
    decisions = sa.table(REFUND_TABLE, sa.column("rma_code"), sa.column(when))
    return conn.execute(sa.select(sa.func.min(decisions.c[when])).where(decisions.c.rma_code == code)).scalar()


def customer_steps(db, code: str) -> list[dict] | None:
    """The steps a customer sees for ``code`` ([{"step", "label", "date", "done"}]), or None."""
    with db.read() as conn:
        row = conn.execute(
            sa.select(rmas.c.status, rmas.c.stage, rmas.c.created_at, rmas.c.received_event).where(rmas.c.code == code)
        ).first()
        if row is None:
            return None
        received = None
        if row.received_event:
            received = conn.execute(sa.select(events.c.at).where(events.c.event_id == row.received_event)).scalar()
        inspected = None
        if row.stage == "inspected":
            stamps = conn.execute(
                sa.select(events.c.at).where(
                    events.c.rma_code == code, events.c.type.in_(("rma.inspected", "item.inspected"))
                )
            ).scalars()
            inspected = max(stamps, key=_when, default=None)
        refund = _refund_decided_at(conn, code)
    steps = [("authorized", row.created_at)]
    if row.status == "cancelled":
        steps.append(("cancelled", None))
    steps += [("received", received), ("inspected", inspected)]
    if refund:
        steps.append(("refund", refund))
    done_so_far = [
        {"step": step, "label": STEP_LABELS[step], "date": _day(at), "done": bool(at) or step == "cancelled"}
        for step, at in steps
    ]
    return done_so_far


def _when(stamp: str) -> datetime:
    try:
        return parse_stamp(stamp)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _missing(request: Request) -> Response:
    """The one answer to every link that does not open a page: it says nothing about why."""
    return render(request, "status_missing.html", 404)


@router.get("/status/{token:path}")
async def status_page(request: Request, token: str) -> Response:
    """The customer's page for the RMA a valid link names; the same 404 for any other link."""
    state = ui_state(request)
    address = (request.client.host if request.client else "") or "unknown"
    wait = state.status_limiter.wait_needed(address)
    if wait:
        response = render(request, "status_busy.html", 429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    secret = await run_in_threadpool(store.status_secret, state.db)
    code = read_token(secret, token)
    if code is None:
        return _missing(request)
    steps = await run_in_threadpool(customer_steps, state.db, code)
    if steps is None:
        return _missing(request)
    return render(request, "status.html", code=code, steps=steps)
