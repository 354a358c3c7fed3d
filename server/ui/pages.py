"""The supervisors' pages: login and logout, the home page, one RMA's timeline with its photos,
the overdue list (when :mod:`server.sla` is there) and, for managers, the users."""

from __future__ import annotations

import importlib
import json
import math
import secrets
from typing import Annotated
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from server.db import NotFound, rmas
from server.ui import store
from server.ui.catalog import N_
from server.ui.web import (
    LOGIN_CSRF_COOKIE,
    LOGIN_PATH,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    Manager,
    NavLink,
    Supervisor,
    current_user,
    form_of,
    render,
    table,
    ui_router,
    ui_state,
)

router = ui_router()
NAV = [
    NavLink("/ui/", N_("Home"), order=10),
    NavLink("/ui/overdue", N_("Overdue"), order=20),
    NavLink("/ui/users", N_("Users"), order=90, manager_only=True),
]
ROLE_LABELS = {"supervisor": N_("supervisor"), "manager": N_("manager")}
RECENT = 50  # RMAs on the home page, latest change first


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this UI, never another site."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/") or "\\" in target:
        return "/ui/"
    return target


def _retry_page(request: Request, wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    response = render(
        request,
        "message.html",
        429,
        title=N_("Too many failed sign-ins"),
        message=N_("Wait a minute, then try again."),
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@router.get(LOGIN_PATH)
def login_form(request: Request, next: str = "") -> Response:
    """The login page (with its own CSRF cookie: there is no session yet)."""
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", login_csrf=token, next=_safe_next(next), error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=LOGIN_PATH)
    return response


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    """Check the name and password; a live session and its cookie, or the form again."""
    form = await form_of(request)
    name, password = form.get("name", "").strip(), form.get("password", "")
    target = _safe_next(form.get("next"))
    limit = ui_state(request).login_failures
    address = (request.client.host if request.client else "") or "unknown"
    wait = max(limit.wait_needed(f"address:{address}"), limit.wait_needed(f"user:{name.lower()}"))
    if wait:
        return _retry_page(request, wait)
    db = ui_state(request).db
    role = await run_in_threadpool(store.check_login, db, name, password) if name and password else None
    if role is None:
        limit.failed(f"address:{address}")
        limit.failed(f"user:{name.lower()}")
        token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        return render(request, "login.html", 401, login_csrf=token, next=target, error=True, name=name)
    session_id = await run_in_threadpool(store.open_session, db, name)
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=store.SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/ui",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/ui/logout")
def logout(request: Request, _user: Supervisor) -> Response:
    """End the session here and in the database; back to the login page."""
    store.close_session(ui_state(request).db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(LOGIN_PATH, status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


# --- the home page ------------------------------------------------------------------

HOME_COLUMNS = [
    ("code", N_("RMA")),
    ("status", N_("Status")),
    ("stage", N_("Stage")),
    ("customer", N_("Customer")),
    ("updated_at", N_("Last change")),
]


def _home_rows(db) -> tuple[list[dict], list[dict]]:
    """(RMAs per status and stage, the latest changed RMAs)."""
    with db.read() as conn:
        counts = conn.execute(
            sa.select(rmas.c.status, rmas.c.stage, sa.func.count().label("rmas"))
            .group_by(rmas.c.status, rmas.c.stage)
            .order_by(rmas.c.status, rmas.c.stage)
        ).all()
        recent = conn.execute(
            sa.select(rmas.c.code, rmas.c.status, rmas.c.stage, rmas.c.record, rmas.c.updated_at)
            .order_by(rmas.c.updated_at.desc(), rmas.c.code)
            .limit(RECENT)
        ).all()
    rows = []
    for r in recent:
        record = json.loads(r.record)
        rows.append(
            {
                "code": r.code,
                "status": r.status,
                "stage": r.stage,
                "customer": record.get("customer_name", ""),
                "updated_at": r.updated_at,
                "_links": {"code": f"/ui/rmas/{r.code}"},
            }
        )
    return [dict(c._mapping) for c in counts], rows


@router.get("/ui/")
def home(request: Request, user: Supervisor, code: str = "") -> Response:
    """What the server holds, by status and stage; the latest RMAs; a search by RMA code."""
    if code.strip():
        return RedirectResponse(f"/ui/rmas/{code.strip().upper()}", status_code=303)
    counts, rows = _home_rows(ui_state(request).db)
    return table(request, "home.html", rows, HOME_COLUMNS, filename="rmas", counts=counts)


# --- one RMA ----------------------------------------------------------------------------

TIMELINE_COLUMNS = [
    ("at", N_("Time")),
    ("what", N_("Step")),
    ("station", N_("Station")),
    ("operator", N_("Operator")),
    ("detail", N_("Detail")),
]


@router.get("/ui/rmas/{code}")
def rma_page(request: Request, user: Supervisor, code: str) -> Response:
    """One RMA: its record, every step with who and where, its photos and conflicts."""
    try:
        found = ui_state(request).db.timeline(code)
    except NotFound:
        return render(request, "message.html", 404, title=N_("No such RMA"), message=None, data=code)
    rows, photos = [], []
    for step in found.timeline:
        detail = dict(step.detail)
        for photo in detail.get("photos") or ():
            if isinstance(photo, dict) and isinstance(photo.get("sha256"), str) and len(photo["sha256"]) == 64:
                photos.append({"sha256": photo["sha256"].lower(), "item": str(photo.get("item") or ""), "at": step.at})
        rows.append(
            {
                "at": step.at,
                "what": step.what,
                "station": step.station,
                "operator": step.operator,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
            }
        )
    return table(
        request,
        "rma.html",
        rows,
        TIMELINE_COLUMNS,
        filename=f"rma-{found.rma_code}",
        rma=found,
        photos=photos,
    )


PhotoHash = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("/ui/photos/{sha256}")
def photo(request: Request, user: Supervisor, sha256: PhotoHash) -> Response:
    """A photo's bytes for the timeline page (signed-in only)."""
    found = ui_state(request).db.photo(sha256)
    if found is None:
        return Response(status_code=404)
    return Response(
        found[1],
        media_type=found[0],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=86400",
        },
    )


# --- overdue (server/sla.py, issue 12 part 1) -----------------------------------------------

OVERDUE_COLUMNS = [
    ("kind", N_("Kind")),
    ("code", N_("RMA")),
    ("lpn", N_("License plate")),
    ("step", N_("Step")),
    ("started_at", N_("Started")),
    ("due_at", N_("Due")),
    ("age_hours", N_("Age (h)")),
    ("state", N_("State")),
    ("category", N_("Category")),
    ("priority", N_("Priority")),
]


OVERDUE_SHOWN = 500  # rows the page draws (the most urgent); the CSV export has them all


@router.get("/ui/overdue")
def overdue(request: Request, user: Supervisor) -> Response:
    """What is overdue or due soon, oldest first, from :func:`server.sla.overdue_report` when it is there.

    The page draws the first :data:`OVERDUE_SHOWN` (a floor of a million returns can have tens of
    thousands: a page of them all took seconds to draw); ``?format=csv`` answers every one."""
    try:
        report = importlib.import_module("server.sla").overdue_report
    except (ImportError, AttributeError):
        return render(request, "overdue.html", available=False, rows=[], columns=OVERDUE_COLUMNS, csv_url="")
    items = report(ui_state(request).db)
    total = len(items)
    if request.query_params.get("format") == "csv":  # the report's items are the rows (its age_hours rounded)
        return table(request, "overdue.html", items, OVERDUE_COLUMNS, filename="overdue")
    items = items[:OVERDUE_SHOWN]  # the rows drawn are the only ones made
    rows = []
    for item in items:
        row = {key: item.get(key) for key, _label in OVERDUE_COLUMNS}
        if isinstance(row["age_hours"], float):
            row["age_hours"] = round(row["age_hours"], 1)
        if row.get("code"):
            row["_links"] = {"code": f"/ui/rmas/{row['code']}"}
        rows.append(row)
    return table(request, "overdue.html", rows, OVERDUE_COLUMNS, filename="overdue", available=True, total=total)


# --- users (managers) --------------------------------------------------------------------

USER_COLUMNS = [("name", N_("Name")), ("role", N_("Role")), ("created_at", N_("Created"))]


def _users_page(request: Request, status_code: int = 200, **context) -> Response:
    rows = store.list_users(ui_state(request).db)
    return table(
        request,
        "users.html",
        rows,
        USER_COLUMNS,
        filename="users",
        status_code=status_code,
        roles=ROLE_LABELS,
        **context,
    )


@router.get("/ui/users")
def users(request: Request, user: Manager) -> Response:
    """Every supervisor and manager (managers only)."""
    return _users_page(request)


@router.post("/ui/users")
async def add_user(request: Request, user: Manager, form: Annotated[dict[str, str], Depends(form_of)]) -> Response:
    """Create a user (or give one a new password); the drawn password is shown this once."""
    name, role = form.get("name", "").strip(), form.get("role", "")
    try:
        password = await run_in_threadpool(
            store.add_user, ui_state(request).db, name, role, reset=form.get("reset") == "1"
        )
    except store.UserError as exc:
        return _users_page(request, 422, problem=str(exc))
    return _users_page(request, created={"name": name, "password": password})
