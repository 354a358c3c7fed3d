"""The station's local database: one SQLite file, every change an event.

The tables hold two things:

* a *replica* of the returns the station expects (``rmas``, ``rma_lines``,
  ``tracking_numbers``, ``operators``), loaded by import or by sync, and the
  station's own *projection* of its work on them (``rmas.stage``,
  ``unexpected_parcels``, ``inspections``);
* the append-only ``outbox`` of events: what the station did, by whom, when.

Every change made at the bench is ONE ``BEGIN IMMEDIATE`` transaction that
updates the projection and appends its event, so a crash leaves both or
neither.  Events are never edited or deleted; an undo is a new event that
refers to the one it reverses.  ``sync_state`` remembers how far the server
has acknowledged the outbox, so the outbox itself stays untouched.

The file runs in WAL mode with ``synchronous=FULL``: once :meth:`Store.receive`
returns, the event survives a power cut.

Nothing here knows a screen exists; every public method is a plain method
of :class:`Store` that the station, the CLI and the tests call alike.

One API style, one transaction rule:

* everything is a method of :class:`Store`; the modules below are the mixins
  it combines, one per area;
* a method that writes opens its own :meth:`Store.write` transaction —
  unless its first parameter is ``conn``: then it writes inside the caller's
  open ``with store.write() as conn:`` and never commits, so that writes that
  belong together commit together (pulled changes with their cursor, an
  acknowledgement with the rejections it listed, a restored stream with the
  acknowledgement it resets);
* reads take no ``conn``.

The package::

    errors.py         StoreError tree; SQLite's errors in words a person can act on
    records.py        the frozen records handed out (Rma, Line, Receipt, Inspection, Event, ...)
    schema.py         named migrations; refusing another program's or a newer version's file
    base.py           Database (open, migrate, write()) and StoreBase (outbox, sync_state)
    replica.py        expected RMAs: import, upsert, lookup; pulled changes, conflicts, rejections
    operators.py      registered operators and supervisor approval
    receiving.py      receive / undo a parcel
    inspections.py    save an inspection (with its license plate), mismatches, progress, a unit by its plate
    putaway.py        put a unit into a bin that takes its channel; where each unit is
    containers.py     label, close, move, ship containers (bins, totes, gaylords, pallets); count a bin
    exceptions.py     second parcels, lines not received, undeclared items, unexpected parcels attached / blind RMAs
    sync_book.py      a database restored from an older copy (SeqMap)
    photo_uploads.py  which photos of acknowledged events the server holds
    print_jobs.py     the print queue's own file, on the same Database base
"""

from __future__ import annotations

from sync.store.base import Database, StoreBase
from sync.store.containers import (
    KINDS,
    BinCount,
    Container,
    ContainerEvent,
    ContainerRefusal,
    ContainerRefused,
    Containers,
    Content,
)
from sync.store.errors import DatabaseBusy, DatabaseUnavailable, DiskFull, StoreError
from sync.store.exceptions import (
    EXCEPTIONS_BIN,
    EXCEPTIONS_CHANNEL,
    Exceptions,
    LineClosed,
    Resolved,
    UndeclaredItem,
    UnexpectedParcel,
)
from sync.store.inspections import NOT_RECEIVED, Inspections
from sync.store.operators import Operators
from sync.store.photo_uploads import PhotoUploads
from sync.store.putaway import Place, PutAway, PutAwayRefused, PutAways, Refusal, bin_key
from sync.store.receiving import Receiving
from sync.store.records import (
    CHANNELS,
    DISPOSITIONS,
    MAX_OPERATOR_ID,
    MIN_TRACKING_LENGTH,
    REASON_CONFIRMED,
    ROLES,
    TRACKING_TAIL,
    Event,
    Inspection,
    InspectionSaved,
    Line,
    Operator,
    Outcome,
    PhotoUpload,
    Receipt,
    Rma,
    Unit,
    digits_and_letters,
    lookup_key,
)
from sync.store.replica import Replica
from sync.store.schema import APPLICATION_ID, MIGRATIONS
from sync.store.sync_book import SeqMap, SyncBook


class Store(
    Exceptions, Receiving, Containers, PutAways, Inspections, Replica, Operators, SyncBook, PhotoUploads, StoreBase
):
    """The station's local database.  Open one per thread; it is not shared."""


__all__ = [
    "APPLICATION_ID",
    "CHANNELS",
    "DISPOSITIONS",
    "EXCEPTIONS_BIN",
    "EXCEPTIONS_CHANNEL",
    "KINDS",
    "MAX_OPERATOR_ID",
    "MIGRATIONS",
    "MIN_TRACKING_LENGTH",
    "NOT_RECEIVED",
    "REASON_CONFIRMED",
    "ROLES",
    "TRACKING_TAIL",
    "BinCount",
    "Container",
    "ContainerEvent",
    "ContainerRefusal",
    "ContainerRefused",
    "Content",
    "Database",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "DiskFull",
    "Event",
    "Inspection",
    "InspectionSaved",
    "Line",
    "LineClosed",
    "Operator",
    "Outcome",
    "PhotoUpload",
    "Place",
    "PutAway",
    "PutAwayRefused",
    "Receipt",
    "Refusal",
    "Resolved",
    "Rma",
    "SeqMap",
    "Store",
    "StoreError",
    "UndeclaredItem",
    "UnexpectedParcel",
    "Unit",
    "bin_key",
    "digits_and_letters",
    "lookup_key",
]
