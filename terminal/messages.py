"""The small messages the station's threads and widgets post to the app.

Every source of scans (keyboard wedge, scan field, camera) posts one
:class:`Scanned`; the app takes badges and app-wide commands and hands the
rest to the active screen's ``on_scanned``.  Threads (sync worker, camera
reader, printing thread) never touch a widget: they post one of these, and
``post_message`` is thread-safe.  Frequent ones replace a queued one of the
same kind (``can_replace``), so a fast source cannot flood the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from gettext import gettext as _
from gettext import ngettext
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.message import Message

from terminal.scanning import Scan
from terminal.widgets.status_bar import SyncState

if TYPE_CHECKING:
    from terminal.scanning.camera import CameraState
    from terminal.today import Totals


@dataclass
class Scanned(Message, bubble=False):
    """One scan, from whichever source; ``read`` is the camera's read (for the preview), else None.

    It does not bubble: the app posts it on to the active screen, and a screen
    without ``on_scanned`` lets it go.
    """

    scan: Scan
    read: Any = None


@dataclass
class Recorded(Message, bubble=False):
    """A write went into the station database: what the header shows now, and the outbox has news."""

    totals: Totals


@dataclass
class CameraStateChanged(Message, bubble=False):
    """The camera went live, was lost, ended..."""

    state: CameraState


@dataclass
class PrinterChanged(Message, bubble=False):
    """The printer's state line for the header (from the printing thread)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PrinterChanged)


class SyncStatus(Message, bubble=False):
    """How sync stands: online or not, events waiting, last success, last error, conflicts."""

    def __init__(
        self,
        online: bool,
        waiting: int,
        last_success: str,
        last_error: str,
        conflicts: int,
        photos_waiting: int = 0,
        photo_problem: str = "",
        photo_problems: int = 0,
        restored: str = "",
        sla_changed: bool = False,
    ):
        super().__init__()
        self.online, self.waiting, self.last_success = online, waiting, last_success
        self.last_error, self.conflicts = last_error, conflicts
        self.photos_waiting, self.photo_problem, self.photo_problems = photos_waiting, photo_problem, photo_problems
        self.restored = restored  # the database was found older than the server's copy (recently): one line
        self.sla_changed = sla_changed  # the server's SLA limits kept this round differ: the backlog is read again

    def can_replace(self, message: Message) -> bool:
        # only the newest round matters, but not at the cost of the news that the SLA limits changed
        return isinstance(message, SyncStatus) and (message.sla_changed or not self.sla_changed)

    @property
    def state(self) -> SyncState:
        """The report as the header keeps it."""
        return SyncState(
            self.online,
            self.waiting,
            self.last_success,
            self.last_error,
            self.conflicts,
            self.photos_waiting,
            self.photo_problems,
            self.restored,
        )

    @property
    def text(self) -> Content:
        """The header's sync part, read from a step away (the server's words as text, never markup)."""
        state = (
            Content.styled(_("ONLINE"), "bold green")
            if self.online
            else Content.styled(" " + _("OFFLINE") + " ", "bold reverse red")
        )
        parts = [
            Content(_("SYNC") + " ") + state,
            Content.from_markup(_("waiting [b]$n[/b]"), n=str(self.waiting)),
            Content(_("last ok {time}").format(time=self.last_success or _("never"))),
        ]
        if self.photos_waiting:
            parts.append(Content.from_markup(_("photos waiting [b]$n[/b]"), n=str(self.photos_waiting)))
        if self.photo_problems:
            n = self.photo_problems
            problems = ngettext("{n} PHOTO PROBLEM", "{n} PHOTO PROBLEMS", n).format(n=n)
            parts.append(Content.styled(f" {problems} ", "bold reverse yellow"))
        if self.conflicts:
            n = self.conflicts
            parts.append(
                Content.styled(
                    " " + ngettext("{n} CONFLICT", "{n} CONFLICTS", n).format(n=n) + " ", "bold reverse yellow"
                )
            )
        if self.restored:
            parts.append(Content.styled(" " + _("DATABASE RESTORED: see rma conflicts") + " ", "bold reverse yellow"))
        # what the server, the network or a file said is text, never markup (Content.styled takes it as text)
        if self.last_error:
            parts.append(Content.styled(self.last_error[:80], "red"))
        elif self.photo_problem:
            parts.append(Content.styled(self.photo_problem[:80], "yellow"))
        elif self.restored:
            parts.append(Content.styled(self.restored[:80], "yellow"))
        return Content(" · ").join(parts)
