"""The supervisors' web UI under ``/ui/`` and the customers' status page under ``/status/``.

Server-rendered pages (Jinja2 templates in ``templates/``, one stylesheet in ``static/``, no
script, nothing from a CDN), signed in with a supervisor's or manager's password (accounts of
their own: ``rma server add-user``), sessions kept in the server database, a CSRF token on
every form.

How to add a page -- a new module here, nothing else to change::

    # server/ui/returns.py
    from fastapi import Request

    from server.ui.catalog import N_
    from server.ui.web import NavLink, Supervisor, table, ui_router, ui_state

    router = ui_router()  # found by include_pages(): every module of this package with a `router`
    NAV = [NavLink("/ui/returns", N_("Returns"), order=30)]  # the menu of base.html

    @router.get("/ui/returns")
    def returns(request: Request, user: Supervisor):  # Manager for managers only
        rows = [...]  # dicts; read with ui_state(request).db
        return table(request, "returns.html", rows, [("code", N_("RMA"))], filename="returns")

and ``templates/returns.html`` extends ``base.html`` and draws ``data_table`` of ``macros.html``
(``?format=csv`` then answers the same rows as CSV).  POST forms carry
``<input type="hidden" name="csrf" value="{{ csrf }}">``; :func:`server.ui.web.form_of` reads them.
Text shown is ``{{ _("...") }}`` in templates, ``N_("...")`` in Python, with its zh-CN text in
``zh_CN.json`` (``tests/server/test_ui_catalog.py`` checks).
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

# failed logins a minute allowed per address and per user name, then 429 until one is earned back
LOGIN_FAILURES_PER_MINUTE = 10.0
# status pages a second per address, in bursts of up to STATUS_BURST
STATUS_RATE, STATUS_BURST = 1.0, 30


def include_pages(app: FastAPI, db) -> None:
    """Add every page module of this package (each with a module-level ``router``), its menu
    entries (``NAV``), the stylesheet under ``/ui/static/`` and the answers to signed-out and refused requests."""
    from server.api import FailedAuthLimit, RateLimiter  # here: server.api calls this
    from server.ui.web import STATIC, UiState, install_handlers

    state = UiState(
        db=db,
        login_failures=FailedAuthLimit(LOGIN_FAILURES_PER_MINUTE),
        status_limiter=RateLimiter(STATUS_RATE, STATUS_BURST),
    )
    app.state.ui = state
    for found in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{found.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            app.include_router(router)
            state.nav.extend(getattr(module, "NAV", ()))
    state.nav.sort(key=lambda link: (link.order, link.path))
    install_handlers(app)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/ui", include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=308)
