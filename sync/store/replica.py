"""The replica: the returns the station expects (by import or by sync), and what the server says back.

``upsert_rma`` and ``import_rmas`` load expected RMAs; ``get_rma`` and
``find_rma`` look them up.  What sync pulls (RMAs, checklists, conflicts) is
applied by :meth:`Replica.apply_changes` inside the transaction that also
moves the pull cursor, and the events the server refused are kept by
:meth:`Replica.record_rejections` with the acknowledgement.  The outbox is
never touched (acknowledgement is the ``acked_seq`` in ``sync_state``).
The server's SLA limits (``GET /api/v1/sla``) are kept in ``sync_state`` too
(:meth:`Replica.keep_sla_policy`), so the backlog counts with them offline and
after a restart (:meth:`Replica.sla_policy`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from gettext import gettext as _

from sync.clock import utc_now
from sync.protocol import DEFAULT_PRIORITY, SlaPolicy
from sync.sla import DEFAULT_POLICY, Policy, policy_from_wire
from sync.store.base import StoreBase
from sync.store.errors import StoreError
from sync.store.records import MIN_TRACKING_LENGTH, TRACKING_TAIL, Line, Risk, Rma, lookup_key, tracking_key

SLA_POLICY_STATE = "sla_policy"  # the sync_state key of the server's SLA limits (sync.protocol.SlaPolicy's JSON)


class Replica(StoreBase):
    """Expected RMAs, their lookup, and what sync pulled or was refused."""

    def upsert_rma(
        self, conn: sqlite3.Connection, rma: dict, lines: list[dict], tracking_numbers: Iterable[str] = ()
    ) -> None:
        """Insert or update one expected RMA with its lines, inside the caller's transaction.

        The RMA's local stage (received, inspected) is kept: the replica says
        what was authorised, the station says what it has done with it.
        ``rma["reason_code"]`` is the code the importer found for the reason
        text (sync may not import qc_checklists' vocabulary; the caller maps);
        a record without one keeps the code stored for the same reason text.
        """
        code = lookup_key(rma["rma_code"])
        order_ref = (rma.get("order_ref") or "").strip()
        conn.execute(
            "INSERT INTO rmas (code, order_ref, order_key, customer_name, reason, reason_code, status, priority, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET "
            "order_ref = excluded.order_ref, order_key = excluded.order_key, "
            "customer_name = excluded.customer_name, reason = excluded.reason, "
            # a record without a code (pulled from a server that sends none) keeps the code of the same reason text
            "reason_code = CASE WHEN excluded.reason_code = '' AND excluded.reason = rmas.reason "
            "THEN rmas.reason_code ELSE excluded.reason_code END, "
            "status = excluded.status, priority = excluded.priority, updated_at = excluded.updated_at",
            (
                code,
                order_ref,
                lookup_key(order_ref),
                (rma.get("customer_name") or "").strip(),
                (rma.get("reason") or "").strip(),
                (rma.get("reason_code") or "").strip(),
                rma["status"],
                (rma.get("priority") or DEFAULT_PRIORITY).strip().lower(),
                utc_now(),
            ),
        )
        if "risk" in rma:  # the server's say (a file imported here has none: what the server said stays)
            conn.execute("DELETE FROM rma_risk WHERE rma_code = ?", (code,))
            if rma["risk"]:
                conn.execute(
                    "INSERT INTO rma_risk VALUES (?, ?, ?)",
                    (code, int(rma["risk"]["returns_30d"]), int(rma["risk"]["mismatches"])),
                )
        conn.execute("DELETE FROM rma_lines WHERE rma_code = ?", (code,))
        conn.executemany(
            "INSERT INTO rma_lines (rma_code, line_no, sku, gtin, description, qty, category, value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    code,
                    n,
                    ln["sku"],
                    ln.get("gtin") or "",
                    ln.get("description") or "",
                    int(ln["qty"]),
                    (ln.get("category") or "general").strip().lower(),
                    None if ln.get("value") is None else float(ln["value"]),
                )
                for n, ln in enumerate(lines, 1)
            ],
        )
        for number in tracking_numbers:
            key = tracking_key(number)
            if key:
                conn.execute(
                    "INSERT INTO tracking_numbers VALUES (?, ?, ?) "
                    "ON CONFLICT(number) DO UPDATE SET rma_code = excluded.rma_code",
                    (key, key[-TRACKING_TAIL:], code),
                )

    def import_rmas(
        self,
        rmas: Iterable[tuple[dict, list[dict], list[str]]],
        *,
        station: str,
        operator: str,
        source: str,
        batch: int = 5000,
    ) -> int:
        """Load validated RMAs in large transactions; one ``rmas.imported`` event per call.

        Expected RMAs are a replica of what was authorised upstream, not work
        done at this bench, so one event records the import itself (what file,
        how many) rather than one event per RMA.
        """
        count = 0
        pending: list[tuple[dict, list[dict], list[str]]] = []

        def flush(final: bool) -> None:
            with self.write() as conn:
                for rma, lines, tracking in pending:
                    self.upsert_rma(conn, rma, lines, tracking)
                if final:
                    self._append(conn, "rmas.imported", station, operator, {"source": source, "rmas": count})
            pending.clear()

        for item in rmas:
            pending.append(item)
            count += 1
            if len(pending) >= batch:
                flush(final=False)
        flush(final=True)
        return count

    def get_rma(self, code: str) -> Rma | None:
        """The RMA with this code (any case), with its lines and tracking numbers."""
        row = self.conn.execute(
            "SELECT code, order_ref, customer_name, reason, status, stage, received_at, "
            "received_station, received_operator, reason_code, priority FROM rmas WHERE code = ?",
            (lookup_key(code),),
        ).fetchone()
        if row is None:
            return None
        lines = tuple(
            Line(*r)
            for r in self.conn.execute(
                "SELECT line_no, sku, gtin, description, qty, category, value FROM rma_lines "
                "WHERE rma_code = ? ORDER BY line_no",
                (row[0],),
            )
        )
        tracking = tuple(
            r[0]
            for r in self.conn.execute(
                "SELECT number FROM tracking_numbers WHERE rma_code = ? ORDER BY number", (row[0],)
            )
        )
        (code, order_ref, customer_name, reason, status, stage, received_at, received_station, received_operator) = row[
            :9
        ]
        risk = self.conn.execute("SELECT returns_30d, mismatches FROM rma_risk WHERE rma_code = ?", (code,)).fetchone()
        return Rma(
            code,
            order_ref,
            customer_name,
            reason,
            status,
            stage,
            received_at,
            received_station,
            received_operator,
            lines=lines,
            tracking_numbers=tracking,
            reason_code=row[9],
            risk=Risk(*risk) if risk else None,
            priority=row[10],
        )

    def _rma(self, code: str) -> Rma:
        """The RMA a row just read or written names (it exists: the foreign keys say so)."""
        rma = self.get_rma(code)
        if rma is None:
            raise StoreError(
                _("RMA {code} vanished from the database while it was read; nothing was changed").format(code=code)
            )
        return rma

    def find_rma(self, scanned: str) -> tuple[Rma, str] | None:
        """Find the RMA a parcel scan refers to, and by what it matched.

        Looked up by RMA code, then by carrier tracking number (the scan may
        carry the carrier's routing prefix in front of the number, so the
        number is matched as the scan's rightmost characters), then by order
        reference.
        """
        key = lookup_key(scanned)
        if not key:
            return None
        rma = self.get_rma(key)
        if rma:
            return rma, "rma code"
        compact = tracking_key(key)
        if len(compact) >= MIN_TRACKING_LENGTH:
            for number, code in self.conn.execute(
                "SELECT number, rma_code FROM tracking_numbers WHERE tail = ?", (compact[-TRACKING_TAIL:],)
            ):
                if compact.endswith(number):
                    return self._rma(code), "tracking number"
            # a number shorter than the tail: its full length must match exactly
            row = self.conn.execute("SELECT rma_code FROM tracking_numbers WHERE number = ?", (compact,)).fetchone()
            if row:
                return self._rma(row[0]), "tracking number"
        row = self.conn.execute("SELECT code FROM rmas WHERE order_key = ? LIMIT 1", (key,)).fetchone()
        if row:
            return self._rma(row[0]), "order reference"
        return None

    # -- what sync writes and reads -----------------------------------------

    def apply_changes(self, conn: sqlite3.Connection, changes: Iterable[dict]) -> None:
        """Apply pulled changes (``sync.protocol.Change`` as dicts) inside the caller's transaction."""
        for change in changes:
            kind = change["kind"]
            if kind == "rma":
                rma = {"risk": None} | change["rma"]  # the server leaves out no risk: the flag is gone
                self.upsert_rma(conn, rma, rma["lines"], rma.get("tracking_numbers") or ())
            elif kind == "checklist":
                doc = change["checklist"]
                conn.execute(
                    "INSERT INTO synced_checklists VALUES (?, ?, ?, ?) ON CONFLICT(category) DO UPDATE SET "
                    "document = excluded.document, cursor = excluded.cursor, "
                    "received_at = excluded.received_at",
                    (doc["category"], doc["document"], change["cursor"], utc_now()),
                )
            elif kind == "conflict":
                c = change["conflict"]
                conn.execute(
                    "INSERT OR REPLACE INTO sync_conflicts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        c["id"],
                        c["kind"],
                        c["rma_code"],
                        json.dumps(c["event_ids"]),
                        json.dumps(c["stations"]),
                        c["detail"],
                        c["at"],
                    ),
                )

    def keep_sla_policy(self, conn: sqlite3.Connection, policy: SlaPolicy) -> bool:
        """Keep the server's SLA limits inside the caller's transaction; True when they differ from those kept."""
        text = policy.model_dump_json()
        if self.get_state(SLA_POLICY_STATE) == text:
            return False
        self.set_state(conn, SLA_POLICY_STATE, text)
        return True

    def sla_policy(self) -> Policy:
        """The SLA limits the server last sent; :data:`sync.sla.DEFAULT_POLICY` before it sent any."""
        text = self.get_state(SLA_POLICY_STATE)
        if not text:
            return DEFAULT_POLICY
        try:
            return policy_from_wire(SlaPolicy.model_validate_json(text))
        except ValueError:  # unreadable, or a time zone this machine lacks: the built-in limits
            return DEFAULT_POLICY

    def record_rejections(self, conn: sqlite3.Connection, rejected: Iterable[dict]) -> None:
        """Keep what the server refused (seq, id, reason), once each, inside the caller's transaction."""
        conn.executemany(
            "INSERT OR IGNORE INTO sync_rejections VALUES (?, ?, ?, ?)",
            [(r["seq"], r.get("id", ""), r["reason"], utc_now()) for r in rejected],
        )

    def sync_conflicts(self, rma_code: str | None = None) -> list[dict]:
        """Conflicts the server reported (all, or one RMA's), oldest first."""
        sql = "SELECT id, kind, rma_code, event_ids, stations, detail, at FROM sync_conflicts"
        args: tuple = ()
        if rma_code:
            sql, args = sql + " WHERE rma_code = ?", (lookup_key(rma_code),)
        return [
            {
                "id": r[0],
                "kind": r[1],
                "rma_code": r[2],
                "event_ids": json.loads(r[3]),
                "stations": json.loads(r[4]),
                "detail": r[5],
                "at": r[6],
            }
            for r in self.conn.execute(sql + " ORDER BY id", args)
        ]

    def sync_rejections(self) -> list[dict]:
        """Events the server refused, with its reasons."""
        return [
            {"seq": r[0], "event_id": r[1], "reason": r[2], "at": r[3]}
            for r in self.conn.execute("SELECT seq, event_id, reason, at FROM sync_rejections ORDER BY seq")
        ]
