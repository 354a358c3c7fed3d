"""What to tell the clerk about a receiving scan — shared by the screen and `rma receive`."""

from __future__ import annotations

import contextlib
from gettext import gettext as _
from gettext import ngettext, pgettext

import biip

from sync.carriers import waybill
from sync.store import Outcome, Receipt, Rma, Store, StoreError
from terminal.i18n import N_
from terminal.scanning import Kind, Scan

# Digit-only scans of these lengths are product codes (EAN-8, UPC-A, EAN-13, GTIN-14) when their check digit is right.
GTIN_LENGTHS = (8, 12, 13, 14)

# What the clerk does next, by outcome (N_: translated where it is shown).
NEXT_STEP = {
    Outcome.RECEIVED: N_("Put the parcel on the QC shelf."),
    Outcome.ALREADY_RECEIVED: N_("Nothing counted twice. Check for a duplicate label."),
    Outcome.NOT_EXPECTED: N_("Recorded as unexpected. Put the parcel on the exceptions shelf."),
    Outcome.CANCELLED: N_(
        "Not received: the RMA was cancelled. Put the parcel on the exceptions shelf and tell the supervisor."
    ),
    Outcome.EXPIRED: N_(
        "Not received: the RMA has expired. Put the parcel on the exceptions shelf and tell the supervisor."
    ),
    Outcome.NOT_AN_RMA: N_("That is a product barcode. Scan the RMA or carrier label on the parcel."),
    Outcome.SECOND_PARCEL: N_("Another parcel of this RMA: put it on the QC shelf with the first one."),
}


def when(at: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    return f"{at[:10]} {at[11:16]} UTC" if at else "?"


def inspect_fully(rma: Rma | None) -> str:
    """Why the server asks for a full inspection of this return ("" when it does not): one line."""
    risk = rma.risk if rma else None
    if risk is None:
        return ""
    why = []
    if risk.returns_30d > 1:
        why.append(
            ngettext("{n} return in 30 days", "{n} returns in 30 days", risk.returns_30d).format(n=risk.returns_30d)
        )
    if risk.mismatches:
        why.append(
            ngettext("{n} earlier mismatch", "{n} earlier mismatches", risk.mismatches).format(n=risk.mismatches)
        )
    return _("Inspect fully: {why}").format(why=pgettext("between the reasons of a list", ", ").join(why))


def describe(receipt: Receipt) -> str:
    """One line about a receipt: which RMA, whose, and what it means."""
    rma = receipt.rma
    if rma is None:
        return f"{receipt.scanned[:60]} — {_(NEXT_STEP[receipt.outcome])}"
    head = _("{code} {customer} order {order}").format(
        code=rma.code, customer=rma.customer_name, order=rma.order_ref or "-"
    )
    if receipt.outcome == Outcome.RECEIVED:
        items = ", ".join(f"{ln.qty}× {ln.description or ln.sku}" for ln in rma.lines)
        line = f"{head} — {items} — " + _("reason: {reason}").format(reason=rma.reason or "-")
        return f"{line} — {inspect_fully(rma)}" if rma.risk else line
    if receipt.outcome == Outcome.SECOND_PARCEL:
        return f"{head} — " + _("parcel {n}").format(n=receipt.parcel_no or 2) + f" — {_(NEXT_STEP[receipt.outcome])}"
    if receipt.outcome == Outcome.ALREADY_RECEIVED:
        return f"{head} — " + _("received {when} at {station} by {operator}").format(
            when=when(rma.received_at), station=rma.received_station, operator=rma.received_operator
        )
    return f"{head} — {_(NEXT_STEP[receipt.outcome])}"


class NotRead(Exception):
    """A scan that was misread (nothing recorded); the message is one line for the clerk."""


def check_digit_problem(text: str) -> str:
    """Why ``text`` is a misread: a product code (an EAN/UPC length) or a carrier's number with a wrong check
    digit, or ""; a carrier's waybill number in the shape of a product code is not a misread product code."""
    found = waybill(text)
    if found is not None:
        return found.problem
    if not (text.isdigit() and len(text) in GTIN_LENGTHS):
        return ""
    try:
        ok = biip.parse(text).gtin is not None
    except Exception:  # noqa: BLE001 — biip's ParseError: not a product code at all
        ok = False
    return "" if ok else _("{code}: check digit wrong — scan again. Nothing recorded.").format(code=text)


def product_code(text: str, item_barcode: bool) -> bool:
    """Whether a receiving scan that names no RMA is a product barcode (NOT AN RMA) rather than a parcel's.

    ``item_barcode``: the scan reads as a GTIN or GS1 string.  A carrier's
    waybill number stays a parcel's unless it is also a valid EAN-8, UPC-A or
    EAN-13 (a GTIN-14 is a case code, never on a returned parcel).
    """
    if not item_barcode or waybill(text) is None:
        return item_barcode
    return text.isdigit() and len(text) in (8, 12, 13)


def receive_at_bench(
    store: Store, text: str, station: str, operator: str, *, item_barcode: bool = False
) -> tuple[Receipt, list[dict]]:
    """Receive a scan, and fetch the conflicts the server reported for its RMA (one database job).

    A product-code-shaped scan with a wrong check digit that names no RMA is
    :class:`NotRead` — as at the inspection bench — not an unexpected parcel;
    so is a carrier's number with a wrong check digit (China Post's S10).
    """
    problem = check_digit_problem(text)
    if problem and store.find_rma(text) is None:
        raise NotRead(problem)
    receipt = store.receive(text, station, operator, item_barcode=product_code(text, item_barcode))
    return receipt, (store.sync_conflicts(receipt.rma.code) if receipt.rma else [])


# The kinds of conflict the server reports, as the clerk reads them (marked here, translated when shown).
CONFLICT_KINDS = (N_("received twice"), N_("inspected twice"), N_("cancelled while offline"), N_("foreign correction"))


def describe_conflicts(conflicts: list[dict]) -> str:
    """One line per conflict the server reported, for the clerk to pass on."""
    return "\n".join(
        _("CONFLICT: {kind} at {stations} — tell the supervisor (rma conflicts)").format(
            kind=_(c["kind"].replace("_", " ")), stations=", ".join(c["stations"])
        )
        for c in conflicts
    )


CHECKPOINT_EVERY = 100  # receipts of one batch (`rma receive`) between WAL checkpoints


def receive_typed(store: Store, scan: Scan, station: str, operator: str) -> tuple[bool, str]:
    """Receive one code given without the screen (`rma receive`): whether it was received, and its one line.

    A code that was not read, or is another kind of barcode, records nothing. Raises
    :class:`StoreError` when the database cannot record the receipt.
    """
    if scan.kind in (Kind.EMPTY, Kind.GARBAGE):
        return False, _("NOT READ") + " " + scan.problem
    if scan.kind == Kind.LPN:  # a unit's plate is not a parcel; a plate-shaped code on no unit may be one
        unit = store.unit_by_lpn(scan.value)
        if unit is not None:
            return False, _("{word} {plate} is the license plate of a unit of {rma}, inspected already").format(
                word=_(Outcome.NOT_AN_RMA.value), plate=scan.shown, rma=unit.rma_code
            )
    elif scan.kind != Kind.PARCEL and scan.kind != Kind.ITEM:
        return False, _(Outcome.NOT_AN_RMA.value) + " " + _("{code} is a {kind} barcode").format(
            code=scan.shown, kind=scan.kind.value
        )
    receipt = store.receive(scan.text, station, operator, item_barcode=product_code(scan.text, scan.kind == Kind.ITEM))
    received = receipt.outcome in (Outcome.RECEIVED, Outcome.SECOND_PARCEL)
    return received, _(receipt.outcome.value) + " " + describe(receipt)


def checkpoint(store: Store, *, truncate: bool) -> None:
    """Keep the WAL small over a long batch (a running station keeps it from being removed at exit)."""
    # busy: the station's own checkpointer copies it later; every receipt is committed already
    with contextlib.suppress(StoreError):
        store.checkpoint(truncate=truncate)
