"""Inspections: one inspected unit (or a mismatched item) with its event, in one transaction."""

from __future__ import annotations

import sqlite3
from gettext import gettext as _

from sync.clock import utc_now
from sync.lpn import is_lpn, new_lpn
from sync.store.errors import StoreError
from sync.store.operators import Operators
from sync.store.records import Inspection, InspectionSaved, Rma, Unit, lookup_key
from sync.store.replica import Replica

NOT_RECEIVED = "not_received"  # a line's unit closed as never received, among its dispositions (exceptions.py)


class Inspections(Replica, Operators):
    """Saving inspections and reading the inspection projection."""

    def save_inspection(
        self, inspection: Inspection, station: str, operator: str, *, approved_by: str = ""
    ) -> InspectionSaved:
        """Record one inspected unit: an ``item.inspected`` event and its projection, in ONE transaction.

        The unit is the next uninspected one of its line, and gets a new
        license plate number (:mod:`sync.lpn`), on the event and in the
        ``inspections`` row.  When it is the
        last unit of the RMA, the RMA moves to stage ``inspected`` and an
        ``rma.inspected`` event with the per-line dispositions is appended in
        the same transaction.  Refused (nothing written) when the RMA is not
        received, the line is done already, or an override has no reason.
        ``approved_by`` names the supervisor who approved an override (a
        registered supervisor, or nothing is saved); it is recorded on the event.
        """
        problem = inspection.problem()
        if problem:
            raise StoreError(_("inspection not saved: {problem}").format(problem=problem))
        if approved_by:
            try:
                approved_by = self._approver(approved_by)
            except StoreError as exc:
                raise StoreError(_("inspection not saved: {problem}").format(problem=exc)) from None
        code = lookup_key(inspection.rma_code)
        with self.write() as conn:
            rma = self.get_rma(code)
            if rma is None:
                raise StoreError(_("inspection not saved: no RMA {code}").format(code=code))
            if rma.stage == "expected":
                raise StoreError(
                    _("inspection not saved: {code} is not received yet; receive it first").format(code=code)
                )
            if rma.stage == "inspected":
                raise StoreError(_("inspection not saved: every item of {code} is inspected already").format(code=code))
            line = next((ln for ln in rma.lines if ln.line_no == inspection.line_no), None)
            if line is None:
                raise StoreError(
                    _("inspection not saved: {code} has no line {line}").format(code=code, line=inspection.line_no)
                )
            done = conn.execute(
                "SELECT count(*) FROM inspections WHERE rma_code = ? AND line_no = ?", (code, line.line_no)
            ).fetchone()[0]
            if done + self._closed_units(code, line.line_no) >= line.qty:  # closed: not received (exceptions.py)
                raise StoreError(
                    _("inspection not saved: line {line} of {code} ({qty} × {sku}) is inspected already").format(
                        line=line.line_no, code=code, qty=line.qty, sku=line.sku
                    )
                )
            ended = inspection.ended_at or utc_now()
            unit = done + 1
            lpn = self._free_lpn(conn)
            payload = inspection.payload(line, unit, ended, lpn)
            payload.update(station=station, inspector=operator)
            if approved_by:
                payload["approved_by"] = approved_by
            seq, event_id = self._append(conn, "item.inspected", station, operator, payload, code, at=ended)
            conn.execute(
                "INSERT INTO inspections (event_id, rma_code, line_no, unit_no, scanned, gtin, serial, lot, expiry, "
                "checklist_id, checklist_hash, suggested, final, override_reason, failed_items, station, inspector, "
                "started_at, ended_at, lpn, channel, suggested_channel, channel_reason, bin, routing_id, routing_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    code,
                    line.line_no,
                    unit,
                    inspection.scanned,
                    inspection.gtin,
                    inspection.serial,
                    inspection.lot,
                    inspection.expiry,
                    inspection.checklist_id,
                    inspection.checklist_hash,
                    inspection.suggested,
                    inspection.final,
                    inspection.override_reason,
                    " ".join(a["item"] for a in inspection.answers if a.get("failed")),
                    station,
                    operator,
                    inspection.started_at,
                    ended,
                    lpn,
                    inspection.channel,
                    inspection.suggested_channel,
                    inspection.channel_reason,
                    inspection.bin,
                    inspection.routing_id,
                    inspection.routing_hash,
                ),
            )
            rma_done = self._finish_if_done(conn, rma, station, operator, ended)
            return InspectionSaved(seq, event_id, line.line_no, unit, unit >= line.qty, rma_done, self._rma(code), lpn)

    @staticmethod
    def _free_lpn(conn: sqlite3.Connection) -> str:
        """A license plate no unit of this station has (inside the write transaction, so no one takes it meanwhile)."""
        while True:
            lpn = new_lpn()
            if conn.execute("SELECT 1 FROM inspections WHERE lpn = ?", (lpn,)).fetchone() is None:
                return lpn

    def unit_by_lpn(self, lpn: str) -> Unit | None:
        """The inspected unit with this license plate (any case), or None."""
        code = lookup_key(lpn)
        if not is_lpn(code):
            return None
        row = self.conn.execute(
            "SELECT i.lpn, i.rma_code, i.line_no, i.unit_no, l.sku, l.description, i.final, i.channel, i.bin, "
            "i.station, i.ended_at FROM inspections i "
            "LEFT JOIN rma_lines l ON l.rma_code = i.rma_code AND l.line_no = i.line_no WHERE i.lpn = ?",
            (code,),
        ).fetchone()
        if row is None:
            return None
        return Unit(row[0], row[1], row[2], row[3], row[4] or "", row[5] or "", *row[6:])

    def _finish_if_done(self, conn: sqlite3.Connection, rma: Rma, station: str, operator: str, at: str) -> bool:
        """Once every unit of every line is inspected (or closed as not received): ``rma.inspected``, True."""
        progress = self.inspection_progress(rma.code)
        if not all(len(progress.get(ln.line_no, ())) >= ln.qty for ln in rma.lines):
            return False
        lines = [
            {"line_no": ln.line_no, "sku": ln.sku, "qty": ln.qty, "dispositions": list(progress.get(ln.line_no, ()))}
            for ln in rma.lines
        ]
        self._append(conn, "rma.inspected", station, operator, {"lines": lines}, rma.code, at=at)
        conn.execute("UPDATE rmas SET stage = 'inspected', inspected_at = ? WHERE code = ?", (at, rma.code))
        return True

    def record_mismatch(
        self,
        rma_code: str,
        scanned: str,
        station: str,
        operator: str,
        *,
        gtin: str = "",
        serial: str = "",
        lot: str = "",
        expiry: str = "",
        reason: str = "",
    ) -> int:
        """Record an item that matches no line of the RMA (wrong or swapped item): ``item.mismatch``."""
        code = lookup_key(rma_code)
        reason = reason or "item matches no line of the RMA"
        with self.write() as conn:
            at = utc_now()
            seq, event_id = self._append(
                conn,
                "item.mismatch",
                station,
                operator,
                {
                    "scanned": scanned,
                    "gtin": gtin,
                    "serial": serial,
                    "lot": lot,
                    "expiry": expiry,
                    "reason": reason,
                    "expected_gtins": [
                        r[0]
                        for r in conn.execute("SELECT gtin FROM rma_lines WHERE rma_code = ? ORDER BY line_no", (code,))
                    ],
                },
                code,
                at=at,
            )
            conn.execute(
                "INSERT INTO item_mismatches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, code, scanned, gtin, serial, reason, at, station, operator),
            )
        return seq

    def inspection_progress(self, code: str) -> dict[int, tuple[str, ...]]:
        """Per line number, the final dispositions of its inspected units (in unit order), then ``not_received``
        for each unit closed as never received (see sync/store/exceptions.py)."""
        progress: dict[int, list[str]] = {}
        for line_no, final in self.conn.execute(
            "SELECT line_no, final FROM inspections WHERE rma_code = ? ORDER BY line_no, unit_no", (lookup_key(code),)
        ):
            progress.setdefault(line_no, []).append(final)
        for line_no, units in self.conn.execute(
            "SELECT line_no, sum(units) FROM lines_not_received WHERE rma_code = ? GROUP BY line_no",
            (lookup_key(code),),
        ):
            progress.setdefault(line_no, []).extend([NOT_RECEIVED] * units)
        return {k: tuple(v) for k, v in progress.items()}

    def _closed_units(self, code: str, line_no: int) -> int:
        """Units of a line closed as not received."""
        row = self.conn.execute(
            "SELECT coalesce(sum(units), 0) FROM lines_not_received WHERE rma_code = ? AND line_no = ?",
            (lookup_key(code), line_no),
        ).fetchone()
        return int(row[0])

    def inspections_of(self, code: str) -> list[dict]:
        """The inspection rows of an RMA, oldest first."""
        cur = self.conn.execute(
            "SELECT * FROM inspections WHERE rma_code = ? ORDER BY ended_at, line_no, unit_no", (lookup_key(code),)
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def serial_inspected_before(self, gtin: str, serial: str) -> str | None:
        """The RMA on which this GTIN + serial was inspected already, if any (a re-returned unit)."""
        if not serial:
            return None
        row = self.conn.execute(
            "SELECT rma_code FROM inspections WHERE gtin = ? AND serial = ? LIMIT 1", (gtin, serial)
        ).fetchone()
        return row[0] if row else None

    def waiting_for_inspection(self, limit: int = 50) -> list[Rma]:
        """Received RMAs not fully inspected, longest waiting first."""
        rows = self.conn.execute(
            "SELECT code FROM rmas WHERE stage = 'received' ORDER BY received_at LIMIT ?", (limit,)
        ).fetchall()
        return [self._rma(r[0]) for r in rows]

    def dispositions_since(self, since: str, station: str | None = None) -> dict[str, int]:
        """Inspected units per final disposition since a timestamp (the shift's figures)."""
        return self._tally("inspections", "final", "ended_at", since, station)
