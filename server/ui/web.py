"""What every page of the web UI is built with: templates, sign-in, CSRF, the CSV export, the menu.

A page module (see :mod:`server.ui`) uses:

* :func:`ui_router` -- its ``APIRouter``; every POST through it is refused (403) unless the form
  carries the session's CSRF token (field ``csrf``, or header ``X-CSRF-Token``);
* :data:`Supervisor` / :data:`Manager` -- dependencies giving the signed-in :class:`User`
  (not signed in: a redirect to the login page; a supervisor on a manager's page: 403);
* :func:`render` -- a template of ``templates/`` as the answer, in the reader's language, with
  ``user``, ``csrf``, ``nav``, ``lang`` and ``request`` in its context;
* :func:`table` -- the same for a table page, which answers ``?format=csv`` with the rows as
  CSV (the ``data_table`` macro of ``macros.html`` draws the table and the CSV link);
* :func:`form_of` -- the POSTed form as a dict (url-encoded; no extra dependency);
* :class:`NavLink` -- a module's ``NAV`` entries for the menu of ``base.html``.

Everything a template shows is escaped (autoescape is on for every template): a customer name
or a note with markup in it reads as text.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.ui import store
from server.ui.catalog import LANGUAGES, N_, choose, translations
from server.ui.store import User

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SESSION_COOKIE = "rma_session"
LOGIN_CSRF_COOKIE = "rma_login_csrf"
LANG_COOKIE = "rma_lang"
LOGIN_PATH = "/ui/login"
MAX_FORM_BYTES = 64 * 1024

# What every page answers with: nothing from elsewhere (no CDN, no inline script), no framing,
# and no Referer -- a customer's status link must not leak to a site the page links to.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavLink:
    """An entry of the menu: where, its label (marked with ``N_``), its place, and whether only managers see it."""

    path: str
    label: str
    order: int = 50
    manager_only: bool = False


@dataclass
class UiState:
    """What the pages share, on ``app.state.ui``: the database, the limits, the menu."""

    db: Any  # server.db.ServerDb (not imported: server.db imports server.ui.store)
    login_failures: Any  # server.api.FailedAuthLimit, per address and per user name
    status_limiter: Any  # server.api.RateLimiter, per address
    nav: list[NavLink] = field(default_factory=list)


def ui_state(request: Request) -> UiState:
    """The pages' shared state."""
    return request.app.state.ui


# --- templates ---------------------------------------------------------------------


@cache
def environment(language: str) -> jinja2.Environment:
    """The templates in one language: autoescaped, with Jinja2's i18n extension over :mod:`server.ui.catalog`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: data is never markup
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["cell"] = cell
    return env


STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def cell(value: Any) -> Any:
    """A table cell as a person reads it: a time stamp without its T and fraction (CSV keeps it whole)."""
    if isinstance(value, str):
        found = STAMP.match(value)
        if found:
            day, clock, offset = found.groups()
            return f"{day} {clock} {'+00:00' if offset == 'Z' else offset}"
    return "" if value is None else value


def language_of(request: Request) -> str:
    """The reader's language: ``?lang=``, then the one chosen before (cookie), then Accept-Language."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return choose(asked, request.headers.get("accept-language", ""))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` (a file of ``templates/``) filled with ``context``, as the answer."""
    language = language_of(request)
    user: User | None = getattr(request.state, "ui_user", None)
    state: UiState | None = getattr(request.app.state, "ui", None)
    nav = [n for n in (state.nav if state else []) if user and (user.is_manager or not n.manager_only)]
    html = (
        environment(language)
        .get_template(template)
        .render(
            request=request,
            user=user,
            csrf=user.csrf if user else "",
            nav=nav,
            lang=language,
            languages=LANGUAGES,
            here=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    asked = request.query_params.get("lang")
    if asked and asked in LANGUAGES:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


# --- tables and CSV -------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell; text a spreadsheet would run as a formula is kept as text (a leading ')."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def csv_response(rows: list[dict], columns: list[tuple[str, str]], filename: str) -> Response:
    """``rows`` as a CSV download: a header of the column keys, UTF-8 with a BOM (Excel reads Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([key for key, _label in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(key)) for key, _label in columns])
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "export"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename={safe}.csv",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def csv_url(request: Request) -> str:
    """This page's own address answering as CSV."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("format", "lang")]
    return f"{request.url.path}?{urlencode([*params, ('format', 'csv')])}"


def table(
    request: Request,
    template: str,
    rows: list[dict],
    columns: list[tuple[str, str]],
    *,
    filename: str,
    **context: Any,
) -> Response:
    """A table page: ``template`` with ``rows``, ``columns`` ((key, N_ label) pairs) and ``csv_url``,
    or with ``?format=csv`` the same rows as CSV. A row's ``_links`` ({key: URL}) makes that cell a link."""
    if request.query_params.get("format") == "csv":
        return csv_response(rows, columns, filename)
    return render(request, template, rows=rows, columns=columns, csv_url=csv_url(request), **context)


# --- sign-in, roles and CSRF --------------------------------------------------------


class SignInFirst(Exception):
    """No live session: the answer is a redirect to the login page (and back after)."""


class NotAllowed(Exception):
    """A supervisor asked for a manager's page."""


class CsrfRefused(Exception):
    """A POST without this session's CSRF token."""


def current_user(request: Request) -> User | None:
    """The signed-in user of this request (looked up once), or None."""
    if not hasattr(request.state, "ui_user"):
        cookie = request.cookies.get(SESSION_COOKIE, "")
        request.state.ui_user = store.session_user(ui_state(request).db, cookie) if cookie else None
    return request.state.ui_user


def signed_in(request: Request) -> User:
    """Dependency: the signed-in user, else :class:`SignInFirst`."""
    user = current_user(request)
    if user is None:
        raise SignInFirst
    return user


Supervisor = Annotated[User, Depends(signed_in)]


def manager(user: Supervisor) -> User:
    """Dependency: the signed-in user when a manager, else :class:`NotAllowed`."""
    if not user.is_manager:
        raise NotAllowed
    return user


Manager = Annotated[User, Depends(manager)]


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed url-encoded form (the first value of each field); read once per request."""
    if not hasattr(request.state, "ui_form"):
        body = await request.body()
        fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
        request.state.ui_form = {k: v[0] for k, v in fields.items()}
    return request.state.ui_form


async def csrf_guard(request: Request) -> None:
    """Router dependency: a request that changes something carries the CSRF token of its session.

    The login form has no session yet: it carries the token of its own cookie (double submit).
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = (await form_of(request)).get("csrf") or request.headers.get("x-csrf-token", "")
    if request.url.path == LOGIN_PATH:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    else:
        user = await run_in_threadpool(current_user, request)
        expected = user.csrf if user else ""
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused


def ui_router() -> APIRouter:
    """The router for a page module: HTML answers, out of the API's OpenAPI document, CSRF-checked POSTs."""
    return APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False, default_response_class=HTMLResponse)


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, and back to this page after."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(back, safe='')}", status_code=303)


def install_handlers(app) -> None:
    """The answers to :class:`SignInFirst`, :class:`NotAllowed` and :class:`CsrfRefused`."""

    async def sign_in_first(request: Request, _exc: Exception) -> Response:
        if request.method == "GET":
            return login_redirect(request)
        return render(request, "message.html", 401, title=N_("Signed out"), message=N_("Sign in again."))

    async def not_allowed(request: Request, _exc: Exception) -> Response:
        return render(request, "message.html", 403, title=N_("Not allowed"), message=N_("This page is for managers."))

    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        return render(
            request,
            "message.html",
            403,
            title=N_("The form has expired"),
            message=N_("Nothing was changed. Open the page again and repeat."),
        )

    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(CsrfRefused, csrf_refused)
