"""Exceptions that used to end on a shelf: second parcels, lines never received, undeclared items, unexpected parcels.

* :class:`Parcels` (receiving): another parcel of an RMA received already is
  **SECOND PARCEL** — one ``rma.parcel_received`` event with its parcel number —
  when the scan tells it apart from the parcels before (another tracking
  number of the RMA, another parcel number of a JD waybill), or when the clerk
  says so (:meth:`Parcels.receive_another_parcel`); the same parcel scanned
  again stays ALREADY RECEIVED.  An unexpected parcel can later be attached to
  an RMA (``parcel.attached``) or given a blind RMA (``rma.blind_created``),
  both approved by a supervisor.
* :class:`Exceptions` (inspection): units of a line that never arrived are
  closed as not received (``line.not_received``), which counts towards the
  RMA being fully inspected; an item found in a parcel that no line declares
  is recorded (``item.undeclared``) with a license plate, so it can be put
  away in the exceptions bin like any inspected unit.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from gettext import gettext as _

from sync.carriers import waybill
from sync.clock import utc_now
from sync.lpn import is_lpn, new_lpn
from sync.store.errors import StoreError
from sync.store.inspections import Inspections
from sync.store.operators import Operators
from sync.store.records import Outcome, Receipt, Rma, Unit, lookup_key, tracking_key
from sync.store.replica import Replica

# a JD waybill's parcel barcode ends in "-<parcel>-<parcels>-" (sync/carriers.py)
_PARCEL_SUFFIX = re.compile(r"-(\d{1,4})-(\d{1,4})-?$")
# where an undeclared item goes: not a routing channel (qc_checklists.Channel), the exceptions bin's own
EXCEPTIONS_CHANNEL = "exceptions"
EXCEPTIONS_BIN = "EXCEPTIONS"
BLIND_PREFIX = "BLIND-"
MAX_NOTE = 500


@dataclass(frozen=True)
class UnexpectedParcel:
    """A parcel recorded as NOT EXPECTED, and what became of it ('' while it waits on the shelf)."""

    event_id: str
    scanned: str
    at: str
    station: str
    operator: str
    resolved: str = ""  # "attached" or "blind"
    rma_code: str = ""  # the RMA it was attached to, or its blind RMA


@dataclass(frozen=True)
class Resolved:
    """What attaching an unexpected parcel, or creating a blind RMA for it, recorded."""

    parcel: UnexpectedParcel
    rma: Rma
    event_id: str
    parcel_no: int  # 1: the parcel is the RMA's receipt; 2, 3 ...: another parcel of a received RMA
    approved_by: str
    kind: str = "attached"  # or "blind"


@dataclass(frozen=True)
class LineClosed:
    """What closing units of a line as not received recorded."""

    rma: Rma
    line_no: int
    units: int
    event_seq: int
    rma_done: bool


@dataclass(frozen=True)
class UndeclaredItem:
    """An item found in a parcel that no line of the RMA declares, with the license plate it was given."""

    event_seq: int
    event_id: str
    rma_code: str
    barcode: str
    lpn: str
    bin: str


def parcel_key(scanned: str, rma: Rma, matched_by: str | None) -> str:
    """What tells this parcel from the RMA's other parcels: its tracking number (a JD waybill's: with its parcel
    number, ``JDVA11408814483/2``), or "" when the scan does not say (an RMA label is the same on every parcel)."""
    if matched_by != "tracking number":
        return ""
    compact = tracking_key(scanned)
    number = next((n for n in rma.tracking_numbers if compact.endswith(n)), compact)
    found = waybill(scanned)
    suffix = _PARCEL_SUFFIX.search(re.sub(r"\s+", "", scanned)) if found and found.number == number else None
    return f"{number}/{int(suffix[1])}" if suffix else number


def parcels_of_waybill(scanned: str) -> int | None:
    """How many parcels a JD waybill barcode says the shipment has (``-1-2-``: 2), or None."""
    suffix = _PARCEL_SUFFIX.search(re.sub(r"\s+", "", scanned)) if waybill(scanned) else None
    return int(suffix[2]) if suffix else None


class Parcels(Replica, Operators):
    """Second and later parcels of an RMA; unexpected parcels attached to an RMA or given a blind RMA."""

    def _already_or_another(
        self, conn: sqlite3.Connection, scanned: str, rma: Rma, matched_by: str, station: str, operator: str
    ) -> Receipt:
        """A scan of an RMA received already: SECOND PARCEL when the scan names another parcel, else ALREADY RECEIVED.

        Only when every parcel so far was told by its tracking number is a new one
        decided from the scan; an RMA label, or a parcel the clerk declared, says
        nothing about which parcel is in hand (the clerk's key decides then).
        """
        key = parcel_key(scanned, rma, matched_by)
        known = self._parcel_keys(conn, rma.code)
        if key and "" not in known and key not in known:
            return self._another_parcel(conn, rma, scanned, matched_by, key, "scan", station, operator)[0]
        return Receipt(Outcome.ALREADY_RECEIVED, scanned, rma, matched_by)

    def _parcel_keys(self, conn: sqlite3.Connection, code: str) -> list[str]:
        """The parcel keys of the RMA's parcels received so far (its receipt first; "" where unknown)."""
        row = conn.execute(
            "SELECT o.payload FROM rmas r JOIN outbox o ON o.id = r.received_event WHERE r.code = ?", (code,)
        ).fetchone()
        first = json.loads(row[0]) if row else {}
        rma = self._rma(code)
        keys = [parcel_key(first.get("scanned", ""), rma, first.get("matched_by"))]
        keys += [r[0] for r in conn.execute("SELECT parcel_key FROM parcels WHERE rma_code = ?", (code,))]
        return keys

    def _another_parcel(
        self,
        conn: sqlite3.Connection,
        rma: Rma,
        scanned: str,
        matched_by: str | None,
        key: str,
        how: str,
        station: str,
        operator: str,
        *,
        event_type: str = "rma.parcel_received",
        extra: dict | None = None,
        refers_to: str | None = None,
    ) -> tuple[Receipt, str]:
        """Record the RMA's next parcel (its event and its ``parcels`` row) inside the caller's transaction;
        the receipt and the event's id."""
        parcel_no = 2 + conn.execute("SELECT count(*) FROM parcels WHERE rma_code = ?", (rma.code,)).fetchone()[0]
        at = utc_now()
        payload = {
            "scanned": scanned,
            "matched_by": matched_by,
            "parcel_no": parcel_no,
            "parcel_key": key or None,
            "parcels": parcels_of_waybill(scanned),
            "how": how,
        } | (extra or {})
        seq, event_id = self._append(conn, event_type, station, operator, payload, rma.code, refers_to=refers_to, at=at)
        conn.execute(
            "INSERT INTO parcels (event_id, rma_code, parcel_no, parcel_key, scanned, how, at, station, operator) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, rma.code, parcel_no, key, scanned, how, at, station, operator),
        )
        return Receipt(Outcome.SECOND_PARCEL, scanned, rma, matched_by, seq, parcel_no), event_id

    def receive_another_parcel(self, scanned: str, station: str, operator: str) -> Receipt:
        """The clerk says the parcel in hand is another parcel of an RMA received already: SECOND PARCEL.

        ``scanned`` is what its label reads (RMA code, tracking number, order
        reference).  Refused (nothing recorded) when it names no RMA, or an RMA
        not received yet (then it is the first parcel: receive it).
        """
        with self.write() as conn:
            found = self.find_rma(scanned)
            if found is None:
                raise StoreError(
                    _(
                        "No RMA matches {code}; nothing recorded. Receive it as usual (it is recorded as unexpected)."
                    ).format(code=scanned.strip()[:60])
                )
            rma, matched_by = found
            if rma.stage == "expected":
                raise StoreError(
                    _("{code} is not received yet, so this is its first parcel; nothing recorded — receive it.").format(
                        code=rma.code
                    )
                )
            key = parcel_key(scanned, rma, matched_by)
            if key in self._parcel_keys(conn, rma.code):
                key = ""  # the clerk knows better than a label two parcels share
            return self._another_parcel(conn, rma, scanned, matched_by, key, "clerk", station, operator)[0]

    def parcels_of(self, code: str) -> int:
        """How many parcels of the RMA were received (0: not received; its receipt is the first)."""
        rma = self.get_rma(code)
        if rma is None or rma.stage == "expected":
            return 0
        return 1 + self.conn.execute("SELECT count(*) FROM parcels WHERE rma_code = ?", (rma.code,)).fetchone()[0]

    # -- unexpected parcels ---------------------------------------------------

    def unexpected_parcels(self, *, waiting_only: bool = True, limit: int = 200) -> list[UnexpectedParcel]:
        """The parcels recorded as NOT EXPECTED, newest first (only those still waiting, by default)."""
        rows = self.conn.execute(
            "SELECT u.event_id, u.scanned, u.at, u.station, u.operator, coalesce(r.kind, ''), "
            "coalesce(r.rma_code, '') FROM unexpected_parcels u "
            "LEFT JOIN parcel_resolutions r ON r.parcel_event = u.event_id"
            + (" WHERE r.parcel_event IS NULL" if waiting_only else "")
            + " ORDER BY u.at DESC LIMIT ?",
            (limit,),
        )
        return [UnexpectedParcel(*r) for r in rows]

    def unexpected_parcel(self, ref: str) -> UnexpectedParcel:
        """The unexpected parcel ``ref`` names: its event id (or the id's first 8+ characters), or what was scanned
        (the newest such parcel still waiting, else the newest resolved).

        Raises :class:`StoreError` when none, or several, match.
        """
        ref = ref.strip()
        rows = self.conn.execute(
            "SELECT u.event_id, u.scanned, u.at, u.station, u.operator, coalesce(r.kind, ''), "
            "coalesce(r.rma_code, '') FROM unexpected_parcels u "
            "LEFT JOIN parcel_resolutions r ON r.parcel_event = u.event_id "
            "WHERE u.event_id = ? OR (length(?) >= 8 AND u.event_id LIKE ? || '%') ORDER BY u.at DESC",
            (ref.lower(), ref, ref.lower()),
        ).fetchall()
        if not rows:
            rows = self.conn.execute(
                "SELECT u.event_id, u.scanned, u.at, u.station, u.operator, coalesce(r.kind, ''), "
                "coalesce(r.rma_code, '') FROM unexpected_parcels u "
                "LEFT JOIN parcel_resolutions r ON r.parcel_event = u.event_id "
                "WHERE upper(u.scanned) = ? ORDER BY r.parcel_event IS NULL DESC, u.at DESC LIMIT 1",
                (lookup_key(ref),),
            ).fetchall()
        if not rows:
            raise StoreError(
                _("No unexpected parcel {ref} waits at this station (rma exception parcels lists them)").format(
                    ref=ref[:60]
                )
            )
        if len(rows) > 1:
            raise StoreError(
                _("{ref} names {n} unexpected parcels; give more of the event id").format(ref=ref[:60], n=len(rows))
            )
        return UnexpectedParcel(*rows[0])

    def _waiting(self, ref: str, approved_by: str) -> tuple[UnexpectedParcel, str]:
        """The parcel ``ref`` names, still waiting, and the approving supervisor checked (or StoreError)."""
        if not approved_by:
            raise StoreError(_("a supervisor must approve this (scan a supervisor's badge, or --approved-by)"))
        supervisor = self._approver(approved_by)
        parcel = self.unexpected_parcel(ref)
        if parcel.resolved == "attached":
            raise StoreError(
                _("The unexpected parcel {scanned} was attached to {code} already; nothing recorded").format(
                    scanned=parcel.scanned[:40], code=parcel.rma_code
                )
            )
        if parcel.resolved:
            raise StoreError(
                _("The unexpected parcel {scanned} was given the blind RMA {code} already; nothing recorded").format(
                    scanned=parcel.scanned[:40], code=parcel.rma_code
                )
            )
        return parcel, supervisor

    def _resolve(
        self,
        conn: sqlite3.Connection,
        parcel: UnexpectedParcel,
        event_id: str,
        kind: str,
        code: str,
        approved_by: str,
        station: str,
        operator: str,
    ) -> None:
        conn.execute(
            "INSERT INTO parcel_resolutions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (parcel.event_id, event_id, kind, code, approved_by, utc_now(), station, operator),
        )

    def attach_parcel(self, ref: str, rma_code: str, station: str, operator: str, *, approved_by: str) -> Resolved:
        """Attach an unexpected parcel to the RMA it belongs to, approved by a supervisor: ``parcel.attached``.

        An RMA not received yet is received by it (an ``rma.received`` event in
        the same transaction, ``matched_by: "attached"``): the parcel is its
        receipt.  One received already gets it as its next parcel.  Refused,
        nothing recorded: no such parcel or RMA, a parcel resolved already, a
        cancelled or expired RMA, an approver who is not a registered supervisor.
        """
        with self.write() as conn:
            parcel, supervisor = self._waiting(ref, approved_by)
            rma = self.get_rma(rma_code)
            if rma is None:
                raise StoreError(
                    _("No RMA {code} at this station; nothing recorded (a blind RMA is rma exception blind)").format(
                        code=lookup_key(rma_code)
                    )
                )
            if rma.status != "authorized":
                raise StoreError(
                    _("{code} is {status}; the parcel is not attached to it. Nothing recorded.").format(
                        code=rma.code, status=rma.status
                    )
                )
            extra = {
                "rma_code": rma.code,
                "parcel_event": parcel.event_id,
                "unexpected_at": parcel.at,
                "unexpected_station": parcel.station,
                "approved_by": supervisor,
            }
            if rma.stage == "expected":
                at = utc_now()
                payload = {
                    "scanned": parcel.scanned,
                    "matched_by": "attached",
                    "parcel_no": 1,
                    "parcels": parcels_of_waybill(parcel.scanned),
                } | extra
                _seq, event_id = self._append(
                    conn, "parcel.attached", station, operator, payload, rma.code, refers_to=parcel.event_id, at=at
                )
                _seq, received = self._append(
                    conn,
                    "rma.received",
                    station,
                    operator,
                    {"scanned": parcel.scanned, "matched_by": "attached", "parcel_event": parcel.event_id},
                    rma.code,
                    at=at,
                )
                conn.execute(
                    "UPDATE rmas SET stage = 'received', received_at = ?, received_station = ?, "
                    "received_operator = ?, received_event = ? WHERE code = ?",
                    (at, station, operator, received, rma.code),
                )
                parcel_no = 1
            else:
                receipt, event_id = self._another_parcel(
                    conn,
                    rma,
                    parcel.scanned,
                    "attached",
                    "",
                    "attached",
                    station,
                    operator,
                    event_type="parcel.attached",
                    extra=extra,
                    refers_to=parcel.event_id,
                )
                parcel_no = receipt.parcel_no or 2
            self._resolve(conn, parcel, event_id, "attached", rma.code, supervisor, station, operator)
            return Resolved(parcel, self._rma(rma.code), event_id, parcel_no, supervisor)

    def create_blind_rma(
        self,
        ref: str,
        station: str,
        operator: str,
        *,
        approved_by: str,
        lines: Iterable[dict] = (),
        customer_name: str = "",
        note: str = "",
        code: str = "",
    ) -> Resolved:
        """Create a blind RMA for an unexpected parcel nobody authorised, approved by a supervisor.

        One ``rma.blind_created`` event (with the lines) in one transaction.

        The RMA (code ``BLIND-`` + 12 characters of time and randomness, unless
        ``code`` is given) is received by the parcel at once, so its items can be
        inspected; ``lines`` are what the parcel holds (sku, qty, description,
        category), by default one line ``UNKNOWN`` × 1.
        """
        rows = [dict(ln) for ln in lines] or [
            {"sku": "UNKNOWN", "qty": 1, "description": "contents not declared", "category": "general"}
        ]
        for n, ln in enumerate(rows, 1):
            if not str(ln.get("sku") or "").strip() or int(ln.get("qty") or 0) < 1:
                raise StoreError(_("blind RMA line {n}: a SKU and a quantity of 1 or more are needed").format(n=n))
        with self.write() as conn:
            parcel, supervisor = self._waiting(ref, approved_by)
            code = lookup_key(code) if code.strip() else self._free_blind_code(conn)
            if self.get_rma(code) is not None:
                raise StoreError(_("{code} exists already; nothing recorded").format(code=code))
            at = utc_now()
            record = {
                "rma_code": code,
                "customer_name": customer_name.strip()[:200],
                "reason": note.strip()[:MAX_NOTE],
                "status": "authorized",
            }
            self.upsert_rma(conn, record, rows)
            payload = {
                "rma_code": code,
                "parcel_event": parcel.event_id,
                "scanned": parcel.scanned,
                "unexpected_at": parcel.at,
                "unexpected_station": parcel.station,
                "customer_name": record["customer_name"],
                "note": record["reason"],
                "lines": [
                    {
                        "line_no": n,
                        "sku": str(ln["sku"]).strip(),
                        "quantity": int(ln["qty"]),
                        "description": str(ln.get("description") or ""),
                        "category": str(ln.get("category") or "general"),
                    }
                    for n, ln in enumerate(rows, 1)
                ],
                "approved_by": supervisor,
            }
            _seq, event_id = self._append(
                conn, "rma.blind_created", station, operator, payload, code, refers_to=parcel.event_id, at=at
            )
            conn.execute(
                "UPDATE rmas SET stage = 'received', received_at = ?, received_station = ?, "
                "received_operator = ?, received_event = ? WHERE code = ?",
                (at, station, operator, event_id, code),
            )
            self._resolve(conn, parcel, event_id, "blind", code, supervisor, station, operator)
            return Resolved(parcel, self._rma(code), event_id, 1, supervisor, "blind")

    def _free_blind_code(self, conn: sqlite3.Connection) -> str:
        """A blind RMA code no RMA here has: time and randomness, like a license plate (no station coordination)."""
        while True:
            code = BLIND_PREFIX + new_lpn()[2:14]
            if conn.execute("SELECT 1 FROM rmas WHERE code = ?", (code,)).fetchone() is None:
                return code


class Exceptions(Parcels, Inspections):
    """Lines closed as not received, and undeclared items, at inspection."""

    def units_not_received(self, code: str) -> dict[int, int]:
        """Per line number, the units closed as not received."""
        return dict(
            self.conn.execute(
                "SELECT line_no, sum(units) FROM lines_not_received WHERE rma_code = ? GROUP BY line_no",
                (lookup_key(code),),
            ).fetchall()
        )

    def close_not_received(
        self, rma_code: str, line_no: int, station: str, operator: str, *, units: int | None = None
    ) -> LineClosed:
        """Close units of a line that never arrived as not received: ``line.not_received``, in one transaction.

        ``units`` defaults to every unit of the line not inspected or closed yet.
        When nothing of the RMA is left open, it is fully inspected: stage
        ``inspected`` and ``rma.inspected`` (not received units count as
        ``not_received`` among the line's dispositions), in the same transaction.
        Refused, nothing recorded: no such RMA or line, an RMA not received, a
        line with no open unit, more units than are open.
        """
        code = lookup_key(rma_code)
        with self.write() as conn:
            rma = self.get_rma(code)
            if rma is None:
                raise StoreError(_("No RMA {code}; nothing recorded").format(code=code))
            if rma.stage == "expected":
                raise StoreError(
                    _("{code} is not received; nothing recorded. Lines are closed at inspection.").format(code=code)
                )
            line = next((ln for ln in rma.lines if ln.line_no == line_no), None)
            if line is None:
                raise StoreError(_("{code} has no line {line}; nothing recorded").format(code=code, line=line_no))
            open_units = line.qty - len(self.inspection_progress(code).get(line_no, ()))
            units = open_units if units is None else units
            if open_units <= 0:
                raise StoreError(
                    _("Line {line} of {code} has no open unit (inspected or closed already); nothing recorded").format(
                        line=line_no, code=code
                    )
                )
            if not 1 <= units <= open_units:
                raise StoreError(
                    _(
                        "Line {line} of {code} has {open} open unit(s); {units} cannot be closed. Nothing recorded"
                    ).format(line=line_no, code=code, open=open_units, units=units)
                )
            at = utc_now()
            payload = {
                "rma_code": code,
                "line_no": line_no,
                "sku": line.sku,
                "units": units,
                "quantity": units,
                "expected": line.qty,
            }
            seq, event_id = self._append(conn, "line.not_received", station, operator, payload, code, at=at)
            conn.execute(
                "INSERT INTO lines_not_received VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, code, line_no, units, at, station, operator),
            )
            rma_done = rma.stage != "inspected" and self._finish_if_done(conn, rma, station, operator, at)
            return LineClosed(self._rma(code), line_no, units, seq, rma_done)

    # -- undeclared items -------------------------------------------------------

    def record_undeclared(
        self,
        rma_code: str,
        barcode: str,
        station: str,
        operator: str,
        *,
        note: str = "",
        photos: Iterable[dict] = (),
        gtin: str = "",
    ) -> UndeclaredItem:
        """Record an item found in a parcel that no line of the RMA declares: ``item.undeclared``, with a plate.

        ``photos`` are ``{"sha256", "path", "bytes"}`` (or ``{"exception": ...}``)
        as the photo path gives them.  The item gets a license plate and the
        ``exceptions`` channel: put away in the ``EXCEPTIONS`` bin it waits for
        the supervisor.  Refused, nothing recorded: no such RMA, no barcode.
        """
        code = lookup_key(rma_code)
        barcode = barcode.strip()
        if not barcode:
            raise StoreError(_("an undeclared item needs its barcode (or a few words instead); nothing recorded"))
        shots = [dict(p) for p in photos]
        with self.write() as conn:
            if self.get_rma(code) is None:
                raise StoreError(_("No RMA {code}; nothing recorded").format(code=code))
            lpn = self._free_exception_lpn(conn)
            at = utc_now()
            payload = {
                "rma_code": code,
                "barcode": barcode[:200],
                "gtin": gtin,
                "note": note.strip()[:MAX_NOTE],
                "photos": shots,  # as item.inspected's: sent to the server by the photo path (photo_uploads.py)
                "lpn": lpn,
                "channel": EXCEPTIONS_CHANNEL,
                "bin": EXCEPTIONS_BIN,
            }
            seq, event_id = self._append(conn, "item.undeclared", station, operator, payload, code, at=at)
            conn.execute(
                "INSERT INTO undeclared_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    code,
                    barcode[:200],
                    payload["note"],
                    json.dumps(shots, ensure_ascii=False),
                    lpn,
                    EXCEPTIONS_CHANNEL,
                    EXCEPTIONS_BIN,
                    at,
                    station,
                    operator,
                ),
            )
        return UndeclaredItem(seq, event_id, code, barcode[:200], lpn, EXCEPTIONS_BIN)

    @staticmethod
    def _free_exception_lpn(conn: sqlite3.Connection) -> str:
        """A license plate neither an inspected unit nor an undeclared item of this station has."""
        while True:
            lpn = new_lpn()
            taken = conn.execute(
                "SELECT 1 FROM inspections WHERE lpn = ? UNION ALL SELECT 1 FROM undeclared_items WHERE lpn = ?",
                (lpn, lpn),
            ).fetchone()
            if taken is None:
                return lpn

    def unit_by_lpn(self, lpn: str) -> Unit | None:
        """The inspected unit with this plate, or the undeclared item with it (line 0, channel ``exceptions``)."""
        found = super().unit_by_lpn(lpn)
        code = lookup_key(lpn)
        if found is not None or not is_lpn(code):
            return found
        row = self.conn.execute(
            "SELECT lpn, rma_code, barcode, note, channel, bin, station, at FROM undeclared_items WHERE lpn = ?",
            (code,),
        ).fetchone()
        if row is None:
            return None
        return Unit(row[0], row[1], 0, 1, row[2], row[3], "undeclared", row[4], row[5], row[6], row[7])

    def undeclared_of(self, code: str) -> list[UndeclaredItem]:
        """The undeclared items recorded on an RMA, oldest first."""
        rows = self.conn.execute(
            "SELECT u.event_id, u.rma_code, u.barcode, u.lpn, u.bin, o.seq FROM undeclared_items u "
            "JOIN outbox o ON o.id = u.event_id WHERE u.rma_code = ? ORDER BY u.at",
            (lookup_key(code),),
        )
        return [UndeclaredItem(r[5], r[0], r[1], r[2], r[3], r[4]) for r in rows]
