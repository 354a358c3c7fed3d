"""The analytics reports in the HTTP API: ``GET /api/v1/reports/reasons`` and its drill-down.

For integrations (an integration token; a station token is refused with 403).
JSON by default, ``?format=csv`` for a spreadsheet.  The figures come from
:mod:`server.analytics`, refreshed from the events before each answer.
"""

import csv
import io
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from server import analytics
from server.db import ServerDb, events, rmas
from sync.protocol import API_PREFIX

Day = Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a UTC day, YYYY-MM-DD (inclusive)")]
Tag = Annotated[str, Query(max_length=140)]
Format = Annotated[Literal["json", "csv"], Query(description="json (the default) or csv")]


class ReasonRow(BaseModel):
    """One reason code: its units, what inspection found, and the confirmed rate."""

    model_config = ConfigDict(extra="forbid")

    reason_code: str = Field(description='the reason code of the customer\'s reason ("" when unclassified)')
    units: int
    confirmed: int
    not_confirmed: int
    unclear: int = Field(description="the inspector could not tell")
    not_recorded: int
    confirmed_rate: float | None = Field(description="confirmed / (confirmed + not_confirmed + unclear)")
    drill: str = Field(description="the units behind this row (GET, same token)")


class ReasonsReport(BaseModel):
    """The customer's reason against the inspector's finding, per reason code."""

    model_config = ConfigDict(extra="forbid")

    since: str
    until: str
    reasons: list[ReasonRow]


class UnitRow(BaseModel):
    """One inspected unit behind a figure."""

    model_config = ConfigDict(extra="forbid")

    rma_code: str
    line_no: int
    unit_no: int
    lpn: str
    sku: str
    category: str
    lot: str
    supplier: str
    reason_code: str
    reason_confirmed: str
    grade: str
    channel: str
    station: str
    operator: str
    inspected_at: str


class UnitsReport(BaseModel):
    """The inspected units a drill-down names, newest first, and their RMA codes."""

    model_config = ConfigDict(extra="forbid")

    rma_codes: list[str]
    units: list[UnitRow]


def csv_response(rows: Iterable[dict], columns: list[str], name: str) -> Response:
    """Rows as a CSV download (UTF-8 with a byte-order mark, so Excel reads Chinese text right)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def add_report_routes(app: FastAPI, db: ServerDb, station_of: Callable[..., tuple[str, str]], responses: dict) -> None:
    """Add the report routes to the API (``station_of``: the dependency naming the token's station and role)."""

    def integration(who: Annotated[tuple[str, str], Depends(station_of)]) -> str:
        if who[1] != "integration":
            raise HTTPException(403, f"{who[0]} is a station token; reports are for integration tokens")
        return who[0]

    Integration = Annotated[str, Depends(integration)]

    def fresh() -> None:
        analytics.refresh(db.write, events, rmas, batches=analytics.BATCHES_PER_ANSWER)

    @app.get(
        f"{API_PREFIX}/reports/reasons",
        response_model=ReasonsReport,
        responses=responses | {200: {"content": {"text/csv": {}}}},
    )
    async def reasons_report(
        _who: Integration,
        since: Day = "",
        until: Day = "",
        sku: Tag = "",
        category: Tag = "",
        lot: Tag = "",
        supplier: Tag = "",
        checklist: Tag = "",
        format: Format = "json",
    ) -> Any:
        """Why things come back and whether the customer was right: per reason code, the inspected units,
        how many the inspector confirmed, did not confirm or could not tell, and the confirmed rate."""
        where = {
            k: v
            for k, v in (
                ("sku", sku),
                ("category", category),
                ("lot", lot),
                ("supplier", supplier),
                ("checklist", checklist),
            )
            if v
        }
        period = analytics.Period(since, until)

        def run() -> list[dict]:
            fresh()
            with db.read() as conn:
                return analytics.reasons(conn, period, **where)

        rows = await run_in_threadpool(run)
        base = {k: v for k, v in (("since", since), ("until", until)) if v} | where
        for row in rows:
            row["drill"] = f"{API_PREFIX}/reports/units?" + urlencode(base | {"reason": row["reason_code"]})
        if format == "csv":
            return csv_response(rows, list(ReasonRow.model_fields), "reasons")
        return ReasonsReport(since=since, until=until, reasons=[ReasonRow(**r) for r in rows])

    @app.get(
        f"{API_PREFIX}/reports/units",
        response_model=UnitsReport,
        responses=responses | {200: {"content": {"text/csv": {}}}},
    )
    async def units_report(
        request: Request,
        _who: Integration,
        since: Day = "",
        until: Day = "",
        reason: Tag = "",
        confirmed: Annotated[Literal["", "yes", "no", "unclear"], Query()] = "",
        sku: Tag = "",
        category: Tag = "",
        lot: Tag = "",
        supplier: Tag = "",
        checklist: Tag = "",
        grade: Tag = "",
        channel: Tag = "",
        station: Tag = "",
        operator: Tag = "",
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        format: Format = "json",
    ) -> Any:
        """The inspected units (and their RMA codes) behind a report's figure: the same key, newest first.
        ``reason`` is matched even when empty (the unclassified reasons) once it is given."""
        given = {
            "sku": sku,
            "category": category,
            "lot": lot,
            "supplier": supplier,
            "checklist": checklist,
            "grade": grade,
            "channel": channel,
            "station": station,
            "operator": operator,
            "confirmed": confirmed,
        }
        where = {k: v for k, v in given.items() if v}

        def run(reason_given: bool) -> list[dict]:
            fresh()
            with db.read() as conn:
                extra = {"reason": reason} if reason_given else {}
                return analytics.units(conn, analytics.Period(since, until), limit=limit, **where, **extra)

        try:
            rows = await run_in_threadpool(run, "reason" in request.query_params)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        if format == "csv":
            return csv_response(rows, list(analytics.UNIT_COLUMNS), "units")
        return UnitsReport(rma_codes=analytics.codes(rows), units=[UnitRow(**r) for r in rows])
