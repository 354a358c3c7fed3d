"""The return analytics pages under ``/ui/analytics/``: a chart and a table per report, every
figure a link to the units behind it, every table also CSV (``?format=csv``).

Charts are SVG drawn on the server by pygal (a Python package: nothing fetched by the browser,
no script): each bar or point is an ``<a>`` to the drill-down, so a chart works like the table
under it, also without JavaScript and on a closed network.  pygal's ``<style>`` block carries
the page's CSP nonce; its own tooltip script is left out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

import pygal  # type: ignore[import-untyped]  # pygal ships no type information
from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pygal.style import Style  # type: ignore[import-untyped]

from server import analytics
from server.db import events, rmas
from server.ui.catalog import N_, translations
from server.ui.web import NavLink, Supervisor, language_of, table, ui_router, ui_state

router = ui_router()
NAV = [NavLink("/ui/analytics/reasons", N_("Analytics"), order=30)]
BASE = "/ui/analytics"
# the sub-pages, in the order of the menu above every analytics page
PAGES = [
    ("reasons", N_("Reasons")),
    ("rates", N_("Grades and channels")),
    ("checks", N_("Failing checks")),
    ("throughput", N_("Units per hour")),
    ("cycle-times", N_("Cycle times")),
    ("trends", N_("Trends")),
]
Day = Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
Tag = Annotated[str, Query(max_length=140)]
UNCLASSIFIED = N_("unclassified")
CONFIRMED_WORDS = {
    "yes": N_("confirmed"),
    "no": N_("not confirmed"),
    "unclear": N_("can't tell"),
    "": N_("not recorded"),
}
COLOURS = ("#1f7a3a", "#a3201a", "#c77c00", "#8a96a3", "#0b5cad", "#6b3fa0", "#2a9d8f")
GRADE_COLOURS = {"resellable": "#1f7a3a", "discounted": "#c77c00", "scrapped": "#a3201a"}
CHART_STYLE = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d232b",
    foreground_strong="#1d232b",
    foreground_subtle="#8a96a3",
    font_family='system-ui, "Noto Sans", "WenQuanYi Micro Hei", sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
    title_font_size=16,
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


# --- helpers -----------------------------------------------------------------------------


def _period(since: str, until: str) -> analytics.Period:
    return analytics.Period(since, until)


def _read(request: Request, query: Callable[..., Any]) -> Any:
    """Fold what arrived since the last report, then run ``query(conn)`` in one read transaction."""
    db = ui_state(request).db
    analytics.refresh(db.write, events, rmas, batches=analytics.BATCHES_PER_ANSWER)
    with db.read() as conn:
        return query(conn)


def _units_link(since: str, until: str, **keys: str) -> str:
    """The drill-down page of the units behind a figure (the period kept)."""
    params = {k: v for k, v in (("since", since), ("until", until)) if v} | keys
    return f"{BASE}/units?" + urlencode(params)


def chart(
    request: Request, kind: str, labels: list[str], series: list[tuple[str, list[dict], str]], **options
) -> Markup:
    """A pygal chart as inline SVG: ``series`` are (title, [{"value", "link"}], colour); every value a link."""
    builder = getattr(pygal, kind)
    style = Style(colors=tuple(colour for _t, _v, colour in series) or COLOURS, **CHART_STYLE)
    graph = builder(
        style=style,
        js=[],  # pygal's tooltip script would come from elsewhere: the page allows no script
        disable_xml_declaration=True,
        width=options.pop("width", 900),
        height=options.pop("height", 380),
        legend_at_bottom=True,
        print_values=False,
        margin=12,
        truncate_label=-1,
        **options,
    )
    graph.x_labels = labels
    for title, values, _colour in series:
        graph.add(
            title,
            [
                {"value": v["value"], "xlink": {"href": v["link"], "target": "_top"}, "label": v.get("label", "")}
                if v.get("link") and v["value"] is not None
                else v["value"]
                for v in values
            ],
        )
    svg = graph.render(is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    nonce = request.state.style_nonce
    svg = svg.replace("<style", f'<style nonce="{nonce}"', 1)
    return Markup(svg)


def page(
    request: Request,
    name: str,
    rows: list[dict],
    columns: list[tuple[str, str]],
    *,
    title: str,
    svg: Markup | None = None,
    filters: dict[str, str] | None = None,
    choices: tuple[str, list[tuple[str, str]]] | None = None,
    note: str = "",
) -> Response:
    """An analytics page: the menu, the period form, the chart, the table (or the table as CSV)."""
    request.state.style_nonce = getattr(request.state, "style_nonce", "")
    response = table(
        request,
        "analytics.html",
        rows,
        columns,
        filename=f"analytics-{name}",
        title=title,
        page_name=name,
        pages=PAGES,
        svg=svg,
        filters=filters or {},
        choices=choices,
        note=note,
    )
    nonce = request.state.style_nonce
    if nonce and "content-security-policy" in response.headers:
        policy = response.headers["content-security-policy"]
        response.headers["content-security-policy"] = policy.replace(
            "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'"
        )
    return response


def _start(request: Request) -> str:
    """A fresh CSP nonce for this page's chart styles (none for a CSV answer)."""
    nonce = "" if request.query_params.get("format") == "csv" else secrets.token_urlsafe(16)
    request.state.style_nonce = nonce
    return nonce


def _t(request: Request, text: str) -> str:
    return translations(language_of(request)).gettext(text)


def _wants_chart(request: Request) -> bool:
    return request.query_params.get("format") != "csv"


# --- pages -------------------------------------------------------------------------------


@router.get(BASE)
@router.get(f"{BASE}/")
def analytics_home(_user: Supervisor) -> RedirectResponse:
    """The analytics start with the reasons."""
    return RedirectResponse(f"{BASE}/reasons", status_code=303)


REASON_COLUMNS = [
    ("reason_code", N_("Reason")),
    ("units", N_("Units")),
    ("confirmed", N_("confirmed")),
    ("not_confirmed", N_("not confirmed")),
    ("unclear", N_("can't tell")),
    ("not_recorded", N_("not recorded")),
    ("confirmed_rate", N_("Confirmed rate")),
]


@router.get(f"{BASE}/reasons")
def reasons_page(
    request: Request,
    _user: Supervisor,
    since: Day = "",
    until: Day = "",
    sku: Tag = "",
    category: Tag = "",
) -> Response:
    """The customer's reason against the inspector's finding, per reason code."""
    _start(request)
    where = {k: v for k, v in (("sku", sku), ("category", category)) if v}
    found = _read(request, lambda conn: analytics.reasons(conn, _period(since, until), **where))
    for row in found:
        code = row["reason_code"]
        keys = {"reason": code, **where}
        row["_links"] = {
            "reason_code": _units_link(since, until, **keys),
            "units": _units_link(since, until, **keys),
            "confirmed": _units_link(since, until, **keys, confirmed="yes"),
            "not_confirmed": _units_link(since, until, **keys, confirmed="no"),
            "unclear": _units_link(since, until, **keys, confirmed="unclear"),
            "not_recorded": _units_link(since, until, **keys, confirmed=""),
        }
        if not code:
            row["reason_code"] = _t(request, UNCLASSIFIED)
    svg = None
    if found and _wants_chart(request):
        labels = [r["reason_code"] for r in found]
        series = [
            (
                _t(request, CONFIRMED_WORDS[value]),
                [{"value": r[key] or None, "link": r["_links"][key]} for r in found],
                colour,
            )
            for value, key, colour in (
                ("yes", "confirmed", "#1f7a3a"),
                ("no", "not_confirmed", "#a3201a"),
                ("unclear", "unclear", "#c77c00"),
                ("", "not_recorded", "#8a96a3"),
            )
        ]
        svg = chart(request, "HorizontalStackedBar", labels, series, height=max(240, 60 + 44 * len(labels)))
    return page(
        request,
        "reasons",
        found,
        REASON_COLUMNS,
        title=N_("Why things come back, and was the customer right?"),
        svg=svg,
        filters={"sku": sku, "category": category},
    )


RATE_DIMENSIONS = [
    ("sku", N_("SKU")),
    ("category", N_("Category")),
    ("lot", N_("Lot")),
    ("supplier", N_("Supplier")),
    ("checklist", N_("Checklist version")),
]


@router.get(f"{BASE}/rates")
def rates_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "", by: Tag = "sku") -> Response:
    """Grade and channel counts and rates by SKU, category, lot, supplier or checklist version."""
    _start(request)
    if by not in dict(RATE_DIMENSIONS):
        by = "sku"
    found = _read(request, lambda conn: analytics.rates(conn, by, _period(since, until)))
    label = dict(RATE_DIMENSIONS)[by]
    columns = [(by, label), ("units", N_("Units"))]
    for grade, word in (
        ("resellable", N_("resellable")),
        ("discounted", N_("discounted")),
        ("scrapped", N_("scrapped")),
    ):
        columns += [(grade, word), (f"{grade}_rate", N_("rate"))]
    columns += [(c, c) for c in analytics.CHANNELS]
    for row in found:
        key = row[by]
        row["_links"] = {by: _units_link(since, until, **{by: key}), "units": _units_link(since, until, **{by: key})}
        for grade in analytics.GRADES:
            row["_links"][grade] = _units_link(since, until, **{by: key, "grade": grade})
        for channel in analytics.CHANNELS:
            row["_links"][channel] = _units_link(since, until, **{by: key, "channel": channel})
    svg = None
    shown = found[:20]
    if shown and _wants_chart(request):
        series = [
            (
                _t(request, grade),
                [{"value": r[grade] or None, "link": r["_links"][grade]} for r in shown],
                GRADE_COLOURS[grade],
            )
            for grade in analytics.GRADES
        ]
        svg = chart(
            request,
            "HorizontalStackedBar",
            [r[by] or "-" for r in shown],
            series,
            height=max(240, 60 + 36 * len(shown)),
        )
    return page(
        request,
        "rates",
        found,
        columns,
        title=N_("Grades and channels"),
        svg=svg,
        choices=("by", [(k, v) for k, v in RATE_DIMENSIONS]),
        filters={"by": by},
    )


CHECK_COLUMNS = [
    ("checklist", N_("Checklist")),
    ("item", N_("Check")),
    ("fails", N_("Fails")),
    ("units", N_("Units")),
    ("fail_rate", N_("Fail rate")),
]


@router.get(f"{BASE}/checks")
def checks_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "") -> Response:
    """The checklist items that fail most."""
    _start(request)
    found = _read(request, lambda conn: analytics.failing_checks(conn, _period(since, until), limit=30))
    for row in found:
        link = _units_link(since, until, failed=f"{row['checklist']}/{row['item']}")
        row["_links"] = {"item": link, "fails": link}
    svg = None
    if found and _wants_chart(request):
        shown = found[:15]
        svg = chart(
            request,
            "HorizontalBar",
            [f"{r['checklist']} · {r['item']}" for r in shown],
            [(_t(request, "Fails"), [{"value": r["fails"], "link": r["_links"]["fails"]} for r in shown], "#a3201a")],
            height=max(240, 60 + 34 * len(shown)),
        )
    return page(request, "checks", found, CHECK_COLUMNS, title=N_("The checks that fail most"), svg=svg)


@router.get(f"{BASE}/throughput")
def throughput_page(
    request: Request, _user: Supervisor, since: Day = "", until: Day = "", by: Tag = "station"
) -> Response:
    """Units per hour per station or operator."""
    _start(request)
    if by not in ("station", "operator"):
        by = "station"
    found = _read(request, lambda conn: analytics.throughput(conn, by, _period(since, until)))
    for row in found:
        link = _units_link(since, until, **{by: row[by]})
        row["_links"] = {by: link, "units": link}
    columns = [
        (by, N_("Station") if by == "station" else N_("Operator")),
        ("units", N_("Units")),
        ("hours", N_("Hours with inspections")),
        ("units_per_hour", N_("Units per hour")),
    ]
    svg = None
    if found and _wants_chart(request):
        svg = chart(
            request,
            "Bar",
            [r[by] for r in found],
            [
                (
                    _t(request, "Units per hour"),
                    [{"value": r["units_per_hour"], "link": r["_links"]["units"]} for r in found],
                    "#0b5cad",
                )
            ],
        )
    choices = ("by", [("station", N_("Station")), ("operator", N_("Operator"))])
    return page(
        request, "throughput", found, columns, title=N_("Units per hour"), svg=svg, choices=choices, filters={"by": by}
    )


STEP_WORDS = {
    "authorized_received": N_("authorised → received"),
    "received_inspected": N_("received → inspected"),
    "inspected_put_away": N_("inspected → put away"),
}
CYCLE_COLUMNS = [
    ("step", N_("Step")),
    ("count", N_("How many")),
    ("p50_hours", N_("p50 (hours)")),
    ("p90_hours", N_("p90 (hours)")),
]


@router.get(f"{BASE}/cycle-times")
def cycle_times_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "") -> Response:
    """Cycle time p50 and p90 per step: authorised → received → inspected → put away."""
    _start(request)
    found = _read(request, lambda conn: analytics.cycle_times(conn, _period(since, until)))
    for row in found:
        step = row["step"]
        link = (
            f"{BASE}/receipts?" + urlencode({k: v for k, v in (("since", since), ("until", until)) if v})
            if step == "authorized_received"
            else _units_link(since, until, step=step)
        )
        row["_links"] = {"step": link, "count": link}
        row["step"] = _t(request, STEP_WORDS[step])
    svg = None
    if found and _wants_chart(request):
        svg = chart(
            request,
            "Bar",
            [r["step"] for r in found],
            [
                ("p50", [{"value": r["p50_hours"], "link": r["_links"]["step"]} for r in found], "#0b5cad"),
                ("p90", [{"value": r["p90_hours"], "link": r["_links"]["step"]} for r in found], "#c77c00"),
            ],
        )
    return page(request, "cycle-times", found, CYCLE_COLUMNS, title=N_("How long a return takes"), svg=svg)


@router.get(f"{BASE}/trends")
def trends_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "", per: Tag = "day") -> Response:
    """Units, grades and the confirmed rate per day or week."""
    _start(request)
    if per not in ("day", "week"):
        per = "day"
    found = _read(request, lambda conn: analytics.trends(conn, per, _period(since, until)))
    for row in found:
        link = _units_link(since, until, **{per: row[per]})
        row["_links"] = {per: link, "units": link}
    columns = [
        (per, N_("Day") if per == "day" else N_("Week")),
        ("units", N_("Units")),
        ("resellable", N_("resellable")),
        ("discounted", N_("discounted")),
        ("scrapped", N_("scrapped")),
        ("confirmed_rate", N_("Confirmed rate")),
    ]
    svg = None
    if found and _wants_chart(request):
        svg = chart(
            request,
            "StackedBar",
            [r[per] for r in found],
            [
                (
                    _t(request, grade),
                    [
                        {"value": r[grade] or None, "link": _units_link(since, until, **{per: r[per], "grade": grade})}
                        for r in found
                    ],
                    GRADE_COLOURS[grade],
                )
                for grade in analytics.GRADES
            ],
            x_label_rotation=30 if len(found) > 8 else 0,
        )
    choices = ("per", [("day", N_("Day")), ("week", N_("Week"))])
    return page(request, "trends", found, columns, title=N_("Trends"), svg=svg, choices=choices, filters={"per": per})


UNIT_COLUMNS = [
    ("rma_code", N_("RMA")),
    ("line_no", N_("Line")),
    ("unit_no", N_("Unit")),
    ("sku", N_("SKU")),
    ("category", N_("Category")),
    ("lot", N_("Lot")),
    ("supplier", N_("Supplier")),
    ("reason_code", N_("Reason")),
    ("reason_confirmed", N_("Finding")),
    ("grade", N_("Grade")),
    ("channel", N_("Channel")),
    ("station", N_("Station")),
    ("operator", N_("Operator")),
    ("inspected_at", N_("Inspected")),
]
DRILL_KEYS = (*analytics.FILTERS, "failed", "step")


@router.get(f"{BASE}/units")
def units_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "") -> Response:
    """The units behind a figure (the same keys as the figure's link), each RMA a link to its timeline."""
    _start(request)
    keys = {k: v for k, v in request.query_params.items() if k in DRILL_KEYS and len(v) <= 140}
    failed, step = keys.pop("failed", ""), keys.pop("step", "")
    if step not in ("", "received_inspected", "inspected_put_away"):
        step = ""
    found = _read(
        request,
        lambda conn: analytics.units(conn, _period(since, until), failed=failed, step=step, limit=1000, **keys),
    )
    for row in found:
        row["_links"] = {"rma_code": f"/ui/rmas/{row['rma_code']}"}
        if _wants_chart(request):  # the page shows the finding in words; the CSV keeps the recorded value
            row["reason_confirmed"] = _t(request, CONFIRMED_WORDS.get(row["reason_confirmed"], row["reason_confirmed"]))
    shown = {**keys, **({"failed": failed} if failed else {}), **({"step": step} if step else {})}
    note = " · ".join(f"{k} = {v or '—'}" for k, v in shown.items())
    return page(request, "units", found, UNIT_COLUMNS, title=N_("The units behind the figure"), note=note)


RECEIPT_COLUMNS = [
    ("rma_code", N_("RMA")),
    ("reason_code", N_("Reason")),
    ("received_at", N_("Received")),
    ("receive_hours", N_("Hours from authorisation")),
]


@router.get(f"{BASE}/receipts")
def receipts_page(request: Request, _user: Supervisor, since: Day = "", until: Day = "", reason: Tag = "") -> Response:
    """The RMAs behind the authorised → received step, slowest first, each a link to its timeline."""
    _start(request)
    where = {"reason": reason} if "reason" in request.query_params else {}
    found = _read(request, lambda conn: analytics.received_rmas(conn, _period(since, until), limit=1000, **where))
    for row in found:
        row["receive_hours"] = round(row.pop("receive_secs") / 3600, 2)
        row["_links"] = {"rma_code": f"/ui/rmas/{row['rma_code']}"}
    return page(request, "receipts", found, RECEIPT_COLUMNS, title=N_("Receipts, slowest first"))
