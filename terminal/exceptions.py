"""The exceptions of the floor as a person reads them — shared by the screens and `rma exception ...`.

Second parcels (receiving), lines closed as not received and undeclared items
(inspection), unexpected parcels attached to an RMA or given a blind RMA
(a supervisor).  The store records them (``sync/store/exceptions.py``); this
module says what happened in one line, and which lines of an RMA are still open.
"""

from __future__ import annotations

from gettext import gettext as _
from gettext import ngettext

from sync.store import LineClosed, Receipt, Resolved, Rma, UndeclaredItem, UnexpectedParcel
from terminal.receiving import when


def second_parcel_line(receipt: Receipt) -> str:
    """One line for a SECOND PARCEL receipt: which RMA, which parcel, what to do."""
    rma = receipt.rma
    code = rma.code if rma else receipt.scanned
    return _("Parcel {n} of {code} received ({scanned}). Put it on the QC shelf with the first one.").format(
        n=receipt.parcel_no or 2, code=code, scanned=receipt.scanned[:40]
    )


def open_units(rma: Rma, progress: dict[int, tuple[str, ...]]) -> dict[int, int]:
    """Per line number, its units neither inspected nor closed yet (only lines with some)."""
    left = {ln.line_no: ln.qty - len(progress.get(ln.line_no, ())) for ln in rma.lines}
    return {n: units for n, units in left.items() if units > 0}


def closed_line(closed: LineClosed) -> str:
    """One line for units closed as not received."""
    line = next((ln for ln in closed.rma.lines if ln.line_no == closed.line_no), None)
    what = (line.description or line.sku) if line else "?"
    text = ngettext(
        "Line {n} of {code}: {units} unit of {item} closed as not received.",
        "Line {n} of {code}: {units} units of {item} closed as not received.",
        closed.units,
    ).format(n=closed.line_no, code=closed.rma.code, units=closed.units, item=what)
    if closed.rma_done:
        text += " " + _("{code} is fully inspected.").format(code=closed.rma.code)
    return text


def undeclared_line(item: UndeclaredItem) -> str:
    """One line for an undeclared item that was recorded."""
    return _(
        "Undeclared item {barcode} recorded on {code}; license plate {lpn}. Put it in bin {bin} for the supervisor."
    ).format(barcode=item.barcode[:40], code=item.rma_code, lpn=item.lpn, bin=item.bin)


def parcel_line(parcel: UnexpectedParcel) -> str:
    """An unexpected parcel in a list: what was scanned, when, where, by whom, and what became of it."""
    head = f"{parcel.event_id[:8]}  {parcel.scanned[:30]}  " + _("{when} at {station} by {operator}").format(
        when=when(parcel.at), station=parcel.station, operator=parcel.operator
    )
    if parcel.resolved == "attached":
        return head + "  → " + _("attached to {code}").format(code=parcel.rma_code)
    if parcel.resolved == "blind":
        return head + "  → " + _("blind RMA {code}").format(code=parcel.rma_code)
    return head


def resolved_line(done: Resolved) -> str:
    """One line for an unexpected parcel attached to an RMA, or given a blind RMA."""
    approved = _("Approved by {supervisor}.").format(supervisor=done.approved_by)
    if done.kind == "blind":
        return (
            _("Blind RMA {code} created for the parcel {scanned}; it is received and can be inspected.").format(
                code=done.rma.code, scanned=done.parcel.scanned[:40]
            )
            + " "
            + approved
        )
    if done.parcel_no == 1:
        return (
            _("The parcel {scanned} is attached to {code}, which is received by it.").format(
                scanned=done.parcel.scanned[:40], code=done.rma.code
            )
            + " "
            + approved
        )
    return (
        _("The parcel {scanned} is attached to {code} as its parcel {n}.").format(
            scanned=done.parcel.scanned[:40], code=done.rma.code, n=done.parcel_no
        )
        + " "
        + approved
    )
