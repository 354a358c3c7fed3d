"""The wire format between a station and the central server: one definition, both sides.

Every request and answer body of ``/api/v1`` is one of the models below; the
client builds them, the server validates them, and the OpenAPI document is
generated from them.  Limits (batch size, field lengths) live here too, so the
two sides cannot disagree about them.

Push (station -> server)::

    POST /api/v1/events   PushBatch  ->  PushResult

    A batch claims to hold every outbox event of the station with a sequence
    in (after_seq, last seq]: its seqs are after_seq + 1, after_seq + 2, ...
    with no gap and no repeat, and no event id twice (else 422, nothing
    stored).  The server stores each event once (station + seq), and answers
    with ``acked_seq``: the station's events are all held (stored or rejected)
    up to there.  An event the server cannot accept is listed in ``rejected``
    with the reason; it does not hold up later events.  A seq the server holds
    already, re-sent with another id, type, operator, time, RMA, refers_to or
    payload, is a rejection too (the first is kept): never a silent duplicate.

    ``at`` is an RFC 3339 time with its offset, between ``MAX_EVENT_AGE`` before
    and ``MAX_CLOCK_AHEAD`` after the server's clock; otherwise the event is
    rejected (a station whose clock is wrong learns it from the reason).

Pull (server -> station)::

    GET /api/v1/changes?after=CURSOR&limit=N  ->  ChangePage

    Changes (RMAs, checklists, conflicts) carry a server-assigned, monotonic
    cursor; a station stores the last cursor it applied in the same
    transaction as the changes and asks for more while ``has_more``.
    ``&fields=priority`` says the station reads an RMA's ``priority``; without
    it (a station of an older release, whose RmaRecord refuses a field it does
    not know) records come with the default priority, which is left out.

SLA limits (server -> station)::

    GET /api/v1/sla  ->  SlaPolicy

    The limits the server counts with (its ``sla.yaml``), so a station's backlog and
    header count alike; a station keeps the last one it received and, until it has
    one (or against a server without this route: 404), the built-in limits.

Photos (station -> server), after the events that reference them::

    POST /api/v1/photos/missing   PhotoHashes  ->  PhotoHashes (the ones the server lacks)
    PUT  /api/v1/photos/{sha256}  raw JPEG / PNG / WebP bytes  ->  PhotoStored
    GET  /api/v1/photos/{sha256}  ->  the bytes, with their content type

    A photo is named by the SHA-256 of its bytes, so storing it is idempotent
    and the server can check it received what the event refers to.

Epoch: a random id the server draws when its database is created, and again
when it is restored from a backup.  Every answer carries it; a station that
sees a new epoch pulls from cursor 0 and re-pushes what the server lacks.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"

MAX_BATCH = 1000  # events per push
MAX_PAGE = 2000  # changes per pull page
MAX_IMPORT = 1000  # RMAs per import request
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_PAYLOAD_BYTES = 16 * 1024  # one event's JSON payload
MAX_CHECKLIST_BYTES = 256 * 1024
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # one photo; a phone's full-size JPEG fits, the bench refuses bigger
MAX_PHOTO_QUERY = 1000  # hashes per "which are missing" question
# the largest seq / cursor: every JSON reader holds it exactly, and both databases store it (BIGINT)
MAX_SEQ = 2**53 - 1
# the window an event's `at` must fall in, around the server's clock: a station clock a day fast
# still syncs; a dead clock battery (1970, 2000) or a typo'd year does not slip into a timeline
MAX_CLOCK_AHEAD = timedelta(days=1)
MAX_EVENT_AGE = timedelta(days=3653)  # ten years: a server rebuilt from old outboxes still takes them

# an RMA's priority: a short lower-case word (``express``, ``vip``); the import lower-cases what it reads
PRIORITY_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
DEFAULT_PRIORITY = "standard"

Code = Annotated[str, Field(min_length=1, max_length=64)]
ShortText = Annotated[str, Field(max_length=200)]
EventType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=64)]
Seq = Annotated[int, Field(ge=1, le=MAX_SEQ)]

RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_stamp(text: str) -> datetime:
    """An RFC 3339 time with its offset (``Z`` or ``+08:00``) as an aware datetime; ValueError otherwise."""
    found = RFC3339.match(text)
    if not found:
        raise ValueError("not an RFC 3339 time with an offset (like 2026-11-21T10:00:00.000+08:00)")
    day, clock, fraction, offset = found.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{day}T{clock}{(fraction or '')[:7]}{offset}")
    except ValueError as exc:
        raise ValueError(f"not a real time: {exc}") from None


def _rfc3339(text: str) -> str:
    parse_stamp(text)
    return text


EventStamp = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_rfc3339)]


class WireModel(BaseModel):
    """Base of every body: unknown fields are refused, so typos show at once."""

    model_config = ConfigDict(extra="forbid")


# --- push ---------------------------------------------------------------------


class OutboxEvent(BaseModel):
    """One outbox event as sent by a station.

    No ``station`` field is read: the station is the one the bearer token
    belongs to, whatever a body says (an extra ``station`` key is ignored).
    """

    model_config = ConfigDict(extra="ignore")

    seq: Seq
    id: Annotated[str, Field(min_length=8, max_length=64)]
    type: EventType
    operator: Annotated[str, Field(max_length=64)]
    at: EventStamp
    rma_code: Code | None = None
    refers_to: Annotated[str, Field(max_length=64)] | None = None
    payload: dict = Field(default_factory=dict)


class PushEvent(BaseModel):
    """The part of an event checked for the whole batch; the rest is checked per event."""

    model_config = ConfigDict(extra="allow")

    seq: Seq


class PushBatch(WireModel):
    """A batch of outbox events, consecutive from ``after_seq``."""

    after_seq: int = Field(ge=0, le=MAX_SEQ)
    events: list[PushEvent] = Field(max_length=MAX_BATCH)


class Rejection(WireModel):
    """An event the server will never accept, and why (kept by the station for a person)."""

    seq: int
    id: str = ""
    reason: str


class PushResult(WireModel):
    """The server's answer to a push."""

    epoch: str
    station: str
    acked_seq: int
    stored: int = 0  # new events stored by this request
    duplicates: int = 0  # events the server already held
    rejected: list[Rejection] = Field(default_factory=list)
    conflicts: int = 0  # conflicts this batch revealed (pulled as changes)


class StationStatus(WireModel):
    """What the server holds of the asking station."""

    epoch: str
    station: str
    acked_seq: int


# --- RMAs ---------------------------------------------------------------------


class RmaLine(WireModel):
    """One expected item of an RMA."""

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    gtin: Annotated[str, Field(max_length=14)] = ""
    description: ShortText = ""
    qty: int = Field(ge=1, le=100_000)
    category: Annotated[str, Field(max_length=64)] = "general"
    # the unit value, when the ERP gives one: routing rules' value thresholds (qc_checklists/routing.py)
    value: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    # the batch and the supplier, when the ERP gives them: the return analytics group by both; left out
    # of the record when empty, so a line without them is the record it was before they existed
    lot: Annotated[str, Field(max_length=64, exclude_if=lambda v: not v)] = ""
    supplier: Annotated[str, Field(max_length=64, exclude_if=lambda v: not v)] = ""


class Risk(WireModel):
    """What the server knew of the customer's returns when it authorised this one (never who the customer is)."""

    returns_30d: int = Field(ge=0, le=1_000_000)  # the customer's returns authorised in 30 days, this one counted
    mismatches: int = Field(ge=0, le=1_000_000)  # the customer's earlier returns with an item that matched no line


class RmaRecord(WireModel):
    """An authorised return as the ERP / returns portal sends it and stations receive it.

    ``customer`` (an id or e-mail from the ERP) is only matched: the server keeps a keyed hash of
    it and never stores, shows or sends it. ``risk`` is the server's, set when it authorises the
    return for a customer worth a full inspection; whatever a caller sends there is replaced.
    """

    rma_code: Code
    order_ref: Annotated[str, Field(max_length=64)] = ""
    customer_name: ShortText = ""
    reason: Annotated[str, Field(max_length=500)] = ""
    status: Literal["authorized", "cancelled", "expired"]
    lines: list[RmaLine] = Field(min_length=1, max_length=200)
    tracking_numbers: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    # like refund_policy's default, an empty customer and no risk are left out of the JSON (older stations take it)
    customer: ShortText = Field(default="", exclude_if=lambda customer: not customer)
    risk: Risk | None = Field(default=None, exclude_if=lambda risk: risk is None)
    # when the server decides the refund (server/handoff): at the receipt scan, or once every unit is inspected.
    # The default is left out of the JSON, so a record without a policy reads and compares as it did before
    # the field existed (stations of an older release take it; a re-import of it is "unchanged").
    refund_policy: Literal["on_receipt", "after_inspection"] = Field(
        default="after_inspection", exclude_if=lambda policy: policy == "after_inspection"
    )
    # the SLA limits of this priority apply (sync.sla, the server's sla.yaml ``priorities``); the default is left
    # out of the JSON, like refund_policy's, so a record without one reads and compares as it did before
    priority: Annotated[str, Field(pattern=PRIORITY_PATTERN)] = Field(
        default=DEFAULT_PRIORITY, exclude_if=lambda priority: priority == DEFAULT_PRIORITY
    )


class RmaImport(WireModel):
    """Create or update RMAs (the ERP's or returns portal's call)."""

    rmas: list[RmaRecord] = Field(min_length=1, max_length=MAX_IMPORT)


class ImportResult(WireModel):
    """How many RMAs an import created, changed, or found unchanged."""

    created: int
    updated: int
    unchanged: int


class TimelineEntry(WireModel):
    """One step of an RMA's life, as customer-facing tracking shows it."""

    at: str
    what: str  # authorized, cancelled, rma.received, item.inspected, ...
    station: str = ""
    operator: str = ""
    event_id: str = ""
    server_at: str = ""
    detail: dict = Field(default_factory=dict)


class Conflict(WireModel):
    """Two records that disagree; both are kept, a person decides."""

    id: int
    # foreign_correction: a station's undo or corrected inspection referred to another station's event
    kind: Literal["received_twice", "cancelled_while_offline", "inspected_twice", "foreign_correction"]
    rma_code: str
    event_ids: list[str]
    stations: list[str]
    detail: str
    at: str


class RmaTimeline(WireModel):
    """An RMA's status, its record and its timeline (GET /api/v1/rmas/{code})."""

    rma: RmaRecord | None
    rma_code: str
    status: str
    stage: str  # expected / received / inspected, from the events
    timeline: list[TimelineEntry]
    conflicts: list[Conflict]


# --- SLA limits -----------------------------------------------------------------

Step = Literal["receive", "inspect", "put_away"]


class SlaLimit(WireModel):
    """One step's limit: ``amount`` of ``unit``."""

    amount: float = Field(gt=0, le=3650 * 24, allow_inf_nan=False)
    unit: Literal["days", "hours"]


class SlaCalendar(WireModel):
    """Working hours: a zone (an IANA name, ``UTC`` or ``+08:00``), weekdays (0 = Monday), a daily window, holidays."""

    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(max_length=7)
    start: Annotated[str, Field(max_length=16)]  # ISO 8601 time of day, like 08:30:00
    end: Annotated[str, Field(max_length=16)]
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(default_factory=list, max_length=3660)


class SlaPolicy(WireModel):
    """The SLA limits in force on the server (``GET /api/v1/sla``): exactly what its ``sla.yaml`` says."""

    version: Literal[1] = 1
    source: ShortText
    due_soon: float = Field(ge=0, lt=1)
    limits: dict[Step, SlaLimit]
    categories: dict[str, dict[Step, SlaLimit]] = Field(default_factory=dict)
    priorities: dict[Annotated[str, Field(pattern=PRIORITY_PATTERN)], dict[Step, SlaLimit]] = Field(
        default_factory=dict
    )
    working_steps: list[Step] = Field(default_factory=list)  # the steps counted in working hours
    working_hours: SlaCalendar | None = None


# --- photos -------------------------------------------------------------------

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}


def image_type(head: bytes) -> str | None:
    """The content type of an image file from its first 12 bytes (JPEG, PNG or WebP), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class PhotoHashes(WireModel):
    """Photo content hashes: the question "which of these do you lack?" and its answer."""

    sha256: list[Sha256] = Field(max_length=MAX_PHOTO_QUERY)


class PhotoStored(WireModel):
    """The answer to a photo upload."""

    sha256: str
    bytes: int
    stored: bool  # False: the server held it already (same hash, same bytes)


# --- checklists ---------------------------------------------------------------


class ChecklistDocument(WireModel):
    """A QC checklist definition for one product category, as an opaque document."""

    category: Annotated[str, Field(min_length=1, max_length=64)]
    document: Annotated[str, Field(max_length=MAX_CHECKLIST_BYTES)]


# --- pull ---------------------------------------------------------------------


class Change(WireModel):
    """One change for stations: exactly one of rma / checklist / conflict is set."""

    cursor: int
    kind: Literal["rma", "checklist", "conflict"]
    rma: RmaRecord | None = None
    checklist: ChecklistDocument | None = None
    conflict: Conflict | None = None


class ChangePage(WireModel):
    """A page of changes after a cursor."""

    epoch: str
    changes: list[Change]
    cursor: int  # the last change's cursor (or the one asked for, if none)
    has_more: bool


class Health(WireModel):
    """The answer to a probe."""

    status: Literal["ok"]
    epoch: str
    database: str


class ErrorBody(WireModel):
    """Every error answer: one line a person can act on."""

    detail: str
