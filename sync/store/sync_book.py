"""Sync bookkeeping beyond ``acked_seq``: a database restored from an older copy.

When the server holds more of this station's sequence than this database has
(the file was put back from an older copy), the server keeps what it holds
and this station's later events follow it: each outbox event after the
restore point is sent under a seq shifted past the server's
(``restored_stream`` rows, read as a :class:`SeqMap`).  Outbox seqs stay as
they are.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sync.clock import utc_now
from sync.store.base import StoreBase


@dataclass(frozen=True)
class SeqMap:
    """Outbox seq <-> the seq the server knows an event by: equal, unless the database was restored.

    ``steps`` are ``(after_seq, shift)`` pairs in order: every outbox event
    above ``after_seq`` is sent ``shift`` higher (on top of earlier steps).
    """

    steps: tuple[tuple[int, int], ...] = ()

    def wire(self, seq: int) -> int:
        """The seq the server knows outbox event ``seq`` by."""
        return seq + sum(shift for after, shift in self.steps if after < seq)

    def wire_after(self, seq: int) -> int:
        """The server's seq just before the event that follows outbox event ``seq`` (a push's ``after_seq``)."""
        return self.wire(seq + 1) - 1

    def local(self, wire: int) -> int:
        """The newest outbox seq the server holds when it holds this station's events through ``wire``."""
        total = sum(shift for _, shift in self.steps)
        for after, shift in reversed(self.steps):
            if wire - total > after:
                return wire - total
            total -= shift
            if wire - total > after:  # inside the server's part: the events this database lacks
                return after
        return wire

    def boundary(self, seq: int) -> int | None:
        """The first step above outbox seq ``seq``: one push must not cross it (the server's seqs jump there)."""
        return next((after for after, _ in self.steps if after > seq), None)


class SyncBook(StoreBase):
    """The restored-stream steps: recorded once each, read as a :class:`SeqMap`."""

    def seq_map(self) -> SeqMap:
        """How outbox seqs map to the seqs the server knows the events by (see :class:`SeqMap`)."""
        return SeqMap(
            tuple(
                self.conn.execute(
                    "SELECT after_seq, sum(shift) FROM restored_stream GROUP BY after_seq ORDER BY after_seq"
                )
            )
        )

    def record_restored_stream(
        self, conn: sqlite3.Connection, after_seq: int, shift: int, server_seq: int, detail: str
    ) -> None:
        """Events after ``after_seq`` go ``shift`` higher from now on (inside the caller's transaction)."""
        conn.execute(
            "INSERT INTO restored_stream (after_seq, shift, server_seq, found_at, detail) VALUES (?, ?, ?, ?, ?)",
            (after_seq, shift, server_seq, utc_now(), detail),
        )

    def restored_streams(self) -> list[dict]:
        """Each time this database was found older than the server's copy of the station, oldest first."""
        return [
            {"after_seq": r[0], "shift": r[1], "server_seq": r[2], "found_at": r[3], "detail": r[4]}
            for r in self.conn.execute(
                "SELECT after_seq, shift, server_seq, found_at, detail FROM restored_stream ORDER BY id"
            )
        ]
