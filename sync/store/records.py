"""What the station's database hands out: plain frozen records, no connection in them.

``Rma`` with its ``Line``s as the station knows it, the ``Receipt`` of one
receiving scan, the ``Inspection`` an inspector confirmed and what saving it
did, one outbox ``Event``, a registered ``Operator``, a ``PhotoUpload`` due.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from gettext import gettext as _

from sync.carriers import waybill

# Tracking numbers are matched on their rightmost characters: carriers print
# routing data (postcode, service code) in front of the number itself.
TRACKING_TAIL = 10
MIN_TRACKING_LENGTH = 8
ROLES = ("clerk", "inspector", "supervisor")
MAX_OPERATOR_ID = 64


class Outcome(str, Enum):
    """What a clerk sees after scanning a parcel at receiving."""

    RECEIVED = "RECEIVED"
    ALREADY_RECEIVED = "ALREADY RECEIVED"
    NOT_EXPECTED = "NOT EXPECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    NOT_AN_RMA = "NOT AN RMA"
    SECOND_PARCEL = "SECOND PARCEL"  # another parcel of a received RMA (sync/store/exceptions.py)

    @property
    def received(self) -> bool:
        """True when the parcel counts as received (now or before)."""
        return self in (Outcome.RECEIVED, Outcome.ALREADY_RECEIVED, Outcome.SECOND_PARCEL)


@dataclass(frozen=True)
class Line:
    """One expected item of an RMA."""

    line_no: int
    sku: str
    gtin: str
    description: str
    qty: int
    category: str
    value: float | None = None  # the unit value, when the import gave one (routing rules' value thresholds)


@dataclass(frozen=True)
class Risk:
    """Why the server asks for a full inspection of this return (its customer is never sent)."""

    returns_30d: int  # the customer's returns authorised in 30 days, this one counted
    mismatches: int  # their earlier returns with an item that matched no line


@dataclass(frozen=True)
class Rma:
    """An expected return as the station knows it."""

    code: str
    order_ref: str
    customer_name: str
    reason: str
    status: str
    stage: str
    received_at: str | None = None
    received_station: str | None = None
    received_operator: str | None = None
    lines: tuple[Line, ...] = ()
    tracking_numbers: tuple[str, ...] = ()
    reason_code: str = ""  # what ``reason`` maps to in the reason vocabulary ("" when it maps to nothing)
    risk: Risk | None = None  # set by the server for a frequent returner or an earlier mismatch
    priority: str = "standard"  # its SLA limits' priority (the import's priority column)


@dataclass(frozen=True)
class Operator:
    """A registered operator: the id on their badge (``OP:<id>``), their name, their role, their language.

    ``language`` is the one the station speaks while they are signed in ("zh-CN"); "" is the station's own.
    """

    id: str
    name: str
    role: str
    language: str = ""


@dataclass(frozen=True)
class Receipt:
    """The answer to one receiving scan: the outcome and what to show with it."""

    outcome: Outcome
    scanned: str
    rma: Rma | None = None
    matched_by: str | None = None  # "rma code", "tracking number", "order reference"
    event_seq: int | None = None
    parcel_no: int | None = None  # SECOND PARCEL: which parcel of the RMA this is (2, 3, ...)


@dataclass(frozen=True)
class Event:
    """One row of the outbox."""

    seq: int
    id: str
    type: str
    station: str
    operator: str
    at: str
    payload: dict
    rma_code: str | None
    refers_to: str | None


DISPOSITIONS = ("resellable", "discounted", "scrapped")
# whether the customer's stated reason held at inspection ("" = not recorded); the server's reports group by it
REASON_CONFIRMED = ("", "yes", "no", "unclear")
# qc_checklists.Channel's values (sync may not import qc_checklists; tests/test_channels.py pins the copy)
CHANNELS = ("restock", "b_stock", "refurbish", "return_to_vendor", "donate", "recycle", "destroy")


@dataclass(frozen=True)
class Inspection:
    """One unit as the inspector confirmed it: what :meth:`Store.save_inspection` records.

    ``answers`` are ``{"item", "kind", "answer", "failed", "severity"}``
    dicts; ``photos`` are ``{"item", "sha256", "path", "bytes"}`` or
    ``{"item", "exception": "no camera at this station"}``.  The store knows
    no checklist: the caller judged the answers; the store keeps them with the
    checklist's id and content hash so they can be read against that version.
    """

    rma_code: str
    line_no: int
    checklist_id: str
    checklist_hash: str
    answers: tuple[dict, ...]
    suggested: str
    final: str
    started_at: str
    why: tuple[str, ...] = ()
    override_reason: str = ""
    override_note: str = ""
    photos: tuple[dict, ...] = ()
    scanned: str = ""
    gtin: str = ""
    serial: str = ""
    lot: str = ""
    expiry: str = ""
    ended_at: str | None = None
    matched_by: str = "gtin"  # how the unit was matched to its line: "gtin", "sku", or "hand" (picked by hand)
    # where the unit goes: the routing rules' channel (suggested), the one confirmed, why it differs, its bin,
    # and the rule set that decided (its id and content hash); "" when the caller routes nothing
    channel: str = ""
    suggested_channel: str = ""
    channel_reason: str = ""
    bin: str = ""
    routing_id: str = ""
    routing_hash: str = ""
    checklist_language: str = ""  # the language the checklist's texts were shown in ("" for English)
    # did the inspector find what the customer's reason says: "yes", "no", "unclear" (cannot tell); "" not recorded
    reason_confirmed: str = ""

    def problem(self) -> str:
        """Why this cannot be recorded as it is, or ""."""
        if self.reason_confirmed not in REASON_CONFIRMED:
            return _("reason_confirmed must be one of {values} (or left out)").format(
                values=", ".join(REASON_CONFIRMED[1:])
            )
        if self.suggested not in DISPOSITIONS or self.final not in DISPOSITIONS:
            return _("disposition must be one of {dispositions}").format(dispositions=", ".join(DISPOSITIONS))
        if self.final != self.suggested and not self.override_reason.strip():
            return _("overriding {suggested} with {final} needs a reason").format(
                suggested=self.suggested, final=self.final
            )
        if self.channel or self.suggested_channel:
            if self.channel not in CHANNELS or self.suggested_channel not in CHANNELS:
                return _("channel must be one of {channels}").format(channels=", ".join(CHANNELS))
            if self.channel != self.suggested_channel and not self.channel_reason.strip():
                return _("changing the channel from {suggested} to {channel} needs a reason").format(
                    suggested=self.suggested_channel, channel=self.channel
                )
            if not self.routing_id or len(self.routing_hash) != 64:
                return _("the routing rules' id and content hash are missing")
        if not self.checklist_id or len(self.checklist_hash) != 64:
            return _("the checklist id and content hash are missing")
        if not self.answers:
            return _("no answers")
        for photo in self.photos:
            if not photo.get("item") or not (photo.get("sha256") or photo.get("exception")):
                return _("a photo needs its content hash, or a recorded exception")
        return ""

    def payload(self, line: Line, unit_no: int, ended_at: str, lpn: str) -> dict:
        """The ``item.inspected`` event's payload."""
        return {
            "line_no": line.line_no,
            "unit_no": unit_no,
            "sku": line.sku,
            "category": line.category,
            "expected_gtin": line.gtin,
            "scanned": self.scanned,
            "gtin": self.gtin,
            "serial": self.serial,
            "lot": self.lot,
            "expiry": self.expiry,
            # with the hash (which covers every language's texts) it names the very words the inspector read
            "checklist": {"id": self.checklist_id, "hash": self.checklist_hash}
            | ({"language": self.checklist_language} if self.checklist_language else {}),
            "answers": list(self.answers),
            "suggested": self.suggested,
            "final": self.final,
            "why": list(self.why),
            "override": (
                {"reason": self.override_reason, "note": self.override_note}
                if self.final != self.suggested or self.override_reason
                else None
            ),
            "photos": list(self.photos),
            "started_at": self.started_at,
            "ended_at": ended_at,
            "matched_by": self.matched_by,
            "picked_by_hand": self.matched_by == "hand",
            "lpn": lpn,
            "channel": self.channel or None,
            "suggested_channel": self.suggested_channel or None,
            "channel_override": (
                {"reason": self.channel_reason} if self.channel and self.channel != self.suggested_channel else None
            ),
            "bin": self.bin,
            "routing": {"id": self.routing_id, "hash": self.routing_hash} if self.routing_id else None,
            "reason_confirmed": self.reason_confirmed or None,
        }


@dataclass(frozen=True)
class InspectionSaved:
    """What saving an inspection did."""

    event_seq: int
    event_id: str
    line_no: int
    unit_no: int
    line_done: bool
    rma_done: bool
    rma: Rma
    lpn: str = ""


@dataclass(frozen=True)
class Unit:
    """One inspected unit, as its license plate finds it."""

    lpn: str
    rma_code: str
    line_no: int
    unit_no: int
    sku: str
    description: str
    grade: str  # the final disposition
    channel: str
    bin: str
    station: str
    inspected_at: str


@dataclass(frozen=True)
class PhotoUpload:
    """A photo an acknowledged event refers to, due to be checked with the server (or sent)."""

    sha256: str
    path: str
    event_seq: int


def lookup_key(text: str) -> str:
    """The form codes are stored and looked up in: stripped, upper case."""
    return text.strip().upper()


def digits_and_letters(text: str) -> str:
    """A tracking number without spaces or dashes, upper case (as carriers compare them)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def tracking_key(text: str) -> str:
    """The form tracking numbers are stored and matched in: a carrier's waybill barcode gives the number it
    holds (``sync.carriers``: JD's per-parcel suffix dropped); anything else its digits and letters."""
    found = waybill(text)
    return found.number if found else digits_and_letters(text)
