"""Operator sessions at the station: who is signed in, and the events signing in and out record.

Only a registered operator (``rma operator add``) signs in; a badge nobody
registered is refused with one line and the operator already signed in
stays.  Signing out leaves scans waiting until the next sign-in.  The
database functions here run on the database thread; :class:`Session` lives
on the event loop and tells the app what to show.
"""

from __future__ import annotations

import asyncio
from gettext import gettext as _
from typing import TYPE_CHECKING

from sync.store import Operator, Store
from terminal.i18n import N_
from terminal.messages import Recorded
from terminal.today import with_totals

if TYPE_CHECKING:
    from terminal.app import StationApp


# The roles as a person reads them (marked here, translated when shown).
ROLES_SHOWN = {"clerk": N_("clerk"), "inspector": N_("inspector"), "supervisor": N_("supervisor")}


def sign_in_registered(store: Store, operator_id: str, station: str) -> Operator | None:
    """The registered operator with this id, their sign-in recorded; None (nothing recorded) for anyone else."""
    found = store.operator(operator_id)
    if found is not None:
        store.record("operator.signed_in", station, found.id, {"operator": found.id, "role": found.role})
    return found


def record_sign_out(store: Store, operator: str, station: str) -> None:
    """Record that ``operator`` signed out at ``station``."""
    store.record("operator.signed_out", station, operator, {})


def not_registered(operator_id: str, signed_in: str) -> str:
    """The line for a badge nobody registered: nothing happened, who stays, who can register it."""
    who = " " + _("({operator} stays signed in)").format(operator=signed_in) if signed_in else ""
    return _(
        "{badge} is not a registered operator: not signed in{who}. A supervisor registers badges: "
        "rma operator add {badge}"
    ).format(badge=operator_id[:64], who=who)


def welcome(operator: Operator) -> str:
    """The line for a sign-in: who, and in which role."""
    role = _(ROLES_SHOWN.get(operator.role, operator.role))
    if operator.name:
        return _("Signed in: {operator} ({name}, {role})").format(operator=operator.id, name=operator.name, role=role)
    return _("Signed in: {operator} ({role})").format(operator=operator.id, role=role)


class Session:
    """Who is signed in at this station; ``signed_in`` is set while someone is (scans wait on it)."""

    def __init__(self) -> None:
        self.operator = ""
        self.role = ""  # clerk, inspector or supervisor: the signed-in operator's registered role
        self.signed_in = asyncio.Event()

    async def sign_in(self, app: StationApp, operator_id: str) -> None:
        """Sign a registered operator in (badge or typed id); refuse anyone else with one line and a bell."""
        station = app.settings.station
        found, totals = await app.db.run(
            with_totals(lambda store: sign_in_registered(store, operator_id, station), station)
        )
        if found is None:
            app.notify(not_registered(operator_id, self.operator), severity="error", markup=False)
            app.bell()
            return
        self.operator, self.role = found.id, found.role
        app.speak(found.language or app.station_language)  # their badge's language, or the station's
        self.signed_in.set()
        app.notify(welcome(found), markup=False)
        app.header.show_operator(found.id)
        app.post_message(Recorded(totals))

    async def sign_out(self, app: StationApp) -> None:
        """Sign the operator out (nothing when nobody is signed in); scans wait until the next sign-in."""
        if not self.operator:
            return
        operator, station = self.operator, app.settings.station
        self.operator = self.role = ""
        self.signed_in.clear()
        app.speak(app.station_language)
        app.header.show_operator("")
        _signed_out, totals = await app.db.run(
            with_totals(lambda store: record_sign_out(store, operator, station), station)
        )
        app.post_message(Recorded(totals))
