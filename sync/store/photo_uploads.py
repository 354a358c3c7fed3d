"""Which evidence photos the server holds.

Photos go after the events that refer to them: only events the server
acknowledged are read for photos (:meth:`PhotoUploads.note_photos`); each
noted photo is asked about, sent, and marked held (in which server epoch) or
given a problem for a person.
"""

from __future__ import annotations

import json
import sqlite3

from sync.clock import utc_now
from sync.store.base import StoreBase
from sync.store.records import PhotoUpload


class PhotoUploads(StoreBase):
    """The ``photo_uploads`` bookkeeping that ``sync.client`` keeps while sending photos."""

    def note_photos(self, conn: sqlite3.Connection, acked_seq: int) -> int:
        """Record the photos of ``item.inspected`` and ``item.undeclared`` events acknowledged since the last call;
        returns how many.

        Inside the caller's transaction.  An event the server refused brings no
        photos: nothing there refers to them.
        """
        after = int(self.get_state("photos_noted_seq", "0"))
        if acked_seq <= after:
            return 0
        rows = []
        for seq, payload in conn.execute(
            "SELECT seq, payload FROM outbox WHERE seq > ? AND seq <= ? "
            "AND type IN ('item.inspected', 'item.undeclared') AND seq NOT IN (SELECT seq FROM sync_rejections) "
            "ORDER BY seq",
            (after, acked_seq),
        ):
            for photo in json.loads(payload).get("photos") or ():
                if isinstance(photo, dict) and photo.get("sha256"):
                    rows.append((str(photo["sha256"]).lower(), str(photo.get("path") or ""), seq))
        conn.executemany("INSERT OR IGNORE INTO photo_uploads (sha256, path, event_seq) VALUES (?, ?, ?)", rows)
        self.set_state(conn, "photos_noted_seq", str(acked_seq))
        return len(rows)

    def photos_due(self, epoch: str, checked_before: str) -> list[PhotoUpload]:
        """Photos of acknowledged events to ask the server about: never confirmed in this server epoch,
        failed here, or last confirmed before ``checked_before`` (a server can lose what it had)."""
        rows = self.conn.execute(
            "SELECT sha256, path, event_seq FROM photo_uploads WHERE event_seq <= ? AND "
            "(held_epoch IS NULL OR held_epoch != ? OR checked_at IS NULL OR checked_at < ?) AND "
            "(problem = '' OR checked_at IS NULL OR checked_at < ?) ORDER BY event_seq, sha256",
            (self.acked_seq(), epoch, checked_before, checked_before),
        )
        return [PhotoUpload(*r) for r in rows]

    def photo_held(self, conn: sqlite3.Connection, sha256: str, epoch: str, *, sent: bool = False) -> None:
        """The server holds this photo (in ``epoch``); clears any earlier problem.  Inside the caller's transaction."""
        now = utc_now()
        conn.execute(
            "UPDATE photo_uploads SET held_epoch = ?, checked_at = ?, problem = '', "
            "sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE sha256 = ?",
            (epoch, now, sent, now, sha256),
        )

    def photo_problem(self, conn: sqlite3.Connection, sha256: str, problem: str) -> None:
        """This photo cannot be sent now, and why (tried again after the recheck interval); inside the caller's
        transaction."""
        conn.execute(
            "UPDATE photo_uploads SET held_epoch = NULL, checked_at = ?, problem = ? WHERE sha256 = ?",
            (utc_now(), problem, sha256),
        )

    def photo_uploads(self) -> dict[str, int]:
        """How many noted photos the server holds, are waiting to be sent, or have a problem."""
        held, waiting, problems = self.conn.execute(
            "SELECT count(held_epoch), count(*) FILTER (WHERE held_epoch IS NULL AND problem = ''), "
            "count(*) FILTER (WHERE problem != '') FROM photo_uploads"
        ).fetchone()
        return {"held": held, "waiting": waiting, "problems": problems}

    def photo_problems(self) -> list[dict]:
        """Photos that cannot be sent, with the reason, oldest event first."""
        return [
            {"sha256": r[0], "path": r[1], "event_seq": r[2], "problem": r[3], "at": r[4]}
            for r in self.conn.execute(
                "SELECT sha256, path, event_seq, problem, checked_at FROM photo_uploads "
                "WHERE problem != '' ORDER BY event_seq, sha256"
            )
        ]
