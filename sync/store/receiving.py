"""Receiving: a parcel scan becomes a receipt (or a refusal) with its event, in one transaction."""

from __future__ import annotations

from gettext import gettext as _

from sync.clock import utc_now
from sync.store.errors import StoreError
from sync.store.exceptions import Parcels, parcel_key
from sync.store.operators import Operators
from sync.store.records import Outcome, Receipt, Rma, lookup_key
from sync.store.replica import Replica


class Receiving(Parcels, Replica, Operators):
    """Receiving parcels and undoing a receipt."""

    def receive(self, scanned: str, station: str, operator: str, *, item_barcode: bool = False) -> Receipt:
        """Receive the parcel a scan names, in one transaction with its event.

        ``item_barcode`` says the scan looks like a product barcode: if it
        matches no RMA, the answer is NOT AN RMA and nothing is recorded,
        instead of an unexpected parcel.
        """
        with self.write() as conn:
            found = self.find_rma(scanned)
            if found is None:
                if item_barcode:
                    return Receipt(Outcome.NOT_AN_RMA, scanned)
                seq, event_id = self._append(conn, "parcel.unexpected", station, operator, {"scanned": scanned})
                conn.execute(
                    "INSERT INTO unexpected_parcels VALUES (?, ?, ?, ?, ?)",
                    (event_id, scanned, utc_now(), station, operator),
                )
                return Receipt(Outcome.NOT_EXPECTED, scanned, event_seq=seq)
            rma, matched_by = found
            if rma.stage != "expected":  # the same parcel again, or another parcel of the RMA (exceptions.py)
                return self._already_or_another(conn, scanned, rma, matched_by, station, operator)
            if rma.status in ("cancelled", "expired"):
                outcome = Outcome.CANCELLED if rma.status == "cancelled" else Outcome.EXPIRED
                seq, _ = self._append(
                    conn, "parcel.refused", station, operator, {"scanned": scanned, "status": rma.status}, rma.code
                )
                return Receipt(outcome, scanned, rma, matched_by, seq)
            at = utc_now()
            # parcel_key: which parcel this is, when the scan says (exceptions.py); the server tells parcels apart by it
            key = parcel_key(scanned, rma, matched_by)
            payload = {"scanned": scanned, "matched_by": matched_by} | ({"parcel_key": key} if key else {})
            seq, event_id = self._append(conn, "rma.received", station, operator, payload, rma.code, at=at)
            conn.execute(
                "UPDATE rmas SET stage = 'received', received_at = ?, received_station = ?, "
                "received_operator = ?, received_event = ? WHERE code = ?",
                (at, station, operator, event_id, rma.code),
            )
            return Receipt(Outcome.RECEIVED, scanned, self._rma(rma.code), matched_by, seq)

    def last_receipt(self, station: str) -> Rma | None:
        """The RMA this station received most recently and has not undone."""
        row = self.conn.execute(
            "SELECT code FROM rmas WHERE stage = 'received' AND received_station = ? ORDER BY received_at DESC LIMIT 1",
            (station,),
        ).fetchone()
        return self.get_rma(row[0]) if row else None

    def undo_receive(
        self, code: str, station: str, operator: str, reason: str = "undo", *, approved_by: str = ""
    ) -> Rma:
        """Reverse a receipt with a compensating ``rma.receive_undone`` event.

        ``approved_by`` names the supervisor who approved it (someone else's or an older receipt);
        it must be a registered supervisor, and is recorded on the event.
        """
        payload: dict = {"reason": reason}
        if approved_by:
            payload["approved_by"] = self._approver(approved_by)
        with self.write() as conn:
            row = conn.execute("SELECT stage, received_event FROM rmas WHERE code = ?", (lookup_key(code),)).fetchone()
            if row is None or row[0] != "received":
                raise StoreError(_("{code} is not received (or already inspected); nothing to undo").format(code=code))
            if conn.execute("SELECT 1 FROM inspections WHERE rma_code = ? LIMIT 1", (lookup_key(code),)).fetchone():
                raise StoreError(
                    _("{code} has inspected items; a receipt with inspections cannot be undone").format(code=code)
                )
            self._append(conn, "rma.receive_undone", station, operator, payload, lookup_key(code), refers_to=row[1])
            conn.execute(
                "UPDATE rmas SET stage = 'expected', received_at = NULL, received_station = NULL, "
                "received_operator = NULL, received_event = NULL WHERE code = ?",
                (lookup_key(code),),
            )
        return self._rma(code)
