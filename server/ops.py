"""The work behind `rma server import rmas` and `rma server export inspections|movements`.

The import reads a file with the station's own parser (:class:`sync.imports.RmaFile`: the same
CSV/JSON format and the same problems, each with its line) and stores the RMAs through
:meth:`server.db.ServerDb.import_rmas`, the code path of ``POST /api/v1/rmas``, in requests'
worth of ``MAX_IMPORT``.  The export reads the stored events by the server's clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from gettext import gettext as _

import sqlalchemy as sa
from pydantic import ValidationError

from server.db import ServerDb, events
from server.hooks.outbox import EVENT_KINDS
from sync.imports import RmaFile
from sync.protocol import MAX_IMPORT, RmaRecord


@dataclass
class ImportSummary:
    """What an import stored, and how many RMAs the server refused as records."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lines: int = 0
    refused: int = 0


def import_rma_file(db: ServerDb, source: RmaFile, report: Callable[[int, str], None]) -> ImportSummary:
    """Store the good RMAs of a checked file (:meth:`RmaFile.check` first); problems go to ``report``."""
    summary = ImportSummary()
    chunk: list[RmaRecord] = []

    def flush() -> None:
        if chunk:
            result = db.import_rmas(chunk)
            summary.created += result.created
            summary.updated += result.updated
            summary.unchanged += result.unchanged
            chunk.clear()

    for parsed in source.rmas():
        try:
            record = RmaRecord.model_validate(
                {**parsed.rma, "lines": parsed.lines, "tracking_numbers": parsed.tracking}
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            report(
                parsed.first_row,
                _("RMA {code} not loaded: {where}: {reason}").format(
                    code=parsed.rma["rma_code"], where=where, reason=first["msg"]
                ),
            )
            summary.refused += 1
            continue
        summary.lines += len(record.lines)
        chunk.append(record)
        if len(chunk) >= MAX_IMPORT:
            flush()
    flush()
    return summary


# --- export ------------------------------------------------------------------------------

INSPECTION_TYPES = ("item.inspected",)
MOVEMENT_TYPES = tuple(EVENT_KINDS)  # every event that moves a unit: receipts, inspections, put-aways, shipments

INSPECTION_COLUMNS = (
    "event_id",
    "server_at",
    "at",
    "station",
    "operator",
    "rma_code",
    "line_no",
    "unit_no",
    "sku",
    "category",
    "gtin",
    "serial",
    "lot",
    "suggested",
    "final",
    "override_reason",
    "checklist_id",
    "checklist_hash",
    "failed_items",
    "photos",
    "refers_to",
)
MOVEMENT_COLUMNS = (
    "event_id",
    "server_at",
    "at",
    "kind",
    "type",
    "station",
    "operator",
    "rma_code",
    "line_no",
    "unit_no",
    "sku",
    "final",
    "scanned",
    "refers_to",
)


def since_stamp(text: str) -> str:
    """``--since`` (a date, or an RFC 3339 / ISO time; without an offset: UTC) as the server stores times."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            _("{text!r} is not a date (2026-12-01) or a time (2026-12-01T08:00:00+08:00)").format(text=text)
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def export_rows(db: ServerDb, what: str, since: str = "") -> Iterator[dict]:
    """The ``inspections`` or ``movements`` stored at or after ``since`` (server clock), oldest first."""
    types, columns = (
        (INSPECTION_TYPES, INSPECTION_COLUMNS) if what == "inspections" else (MOVEMENT_TYPES, MOVEMENT_COLUMNS)
    )
    query = sa.select(events).where(events.c.type.in_(types)).order_by(events.c.server_at, events.c.pk)
    if since:
        query = query.where(events.c.server_at >= since)
    with db.read() as conn:
        for row in conn.execute(query.execution_options(yield_per=1000)):
            payload = json.loads(row.payload)
            override = payload.get("override") or {}
            answers = payload.get("answers") or []
            values = {
                "event_id": row.event_id,
                "server_at": row.server_at,
                "at": row.at,
                "kind": EVENT_KINDS[row.type].value if row.type in EVENT_KINDS else "",
                "type": row.type,
                "station": row.station,
                "operator": row.operator,
                "rma_code": row.rma_code or "",
                "refers_to": row.refers_to or "",
                "line_no": payload.get("line_no", payload.get("line", "")),  # a put-away says line / unit
                "unit_no": payload.get("unit_no", payload.get("unit", "")),
                "sku": payload.get("sku", ""),
                "category": payload.get("category", ""),
                "gtin": payload.get("gtin", ""),
                "serial": payload.get("serial", ""),
                "lot": payload.get("lot", ""),
                "suggested": payload.get("suggested", ""),
                "final": payload.get("final", ""),
                "override_reason": override.get("reason", "") if isinstance(override, dict) else "",
                "checklist_id": (payload.get("checklist") or {}).get("id", ""),
                "checklist_hash": (payload.get("checklist") or {}).get("hash", ""),
                "failed_items": " ".join(
                    str(a.get("item", "")) for a in answers if isinstance(a, dict) and a.get("failed")
                ),
                "photos": " ".join(
                    str(p.get("sha256", "")) if isinstance(p, dict) else str(p) for p in payload.get("photos") or []
                ),
                "scanned": payload.get("scanned", ""),
            }
            yield {c: values[c] for c in columns}


def columns_of(what: str) -> tuple[str, ...]:
    """The columns of an export, in order."""
    return INSPECTION_COLUMNS if what == "inspections" else MOVEMENT_COLUMNS
