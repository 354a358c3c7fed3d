"""Which bench actions need a supervisor's badge: a site setting, applied here.

``supervisor_required`` in station.toml names the actions (``override``,
``undo_other``, ``undo_old``); ``undo_grace_minutes`` is how long a clerk may
undo their own receipt alone — a mis-scan noticed at once needs nobody.  A
signed-in supervisor approves their own action; the approver is recorded on
the event (``approved_by``), and the store refuses an approver who is not a
registered supervisor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import gettext as _
from gettext import ngettext

from sync.store import Rma
from terminal.config import Settings


def undo_needs_supervisor(settings: Settings, receipt: Rma, operator: str, now: datetime | None = None) -> str:
    """Why undoing ``receipt`` needs a supervisor's approval ("received by ben, ..."), or "" when it does not."""
    required = settings.supervisor_required
    reasons = []
    if "undo_other" in required and receipt.received_operator and receipt.received_operator != operator:
        reasons.append(_("it was received by {operator}").format(operator=receipt.received_operator))
    if "undo_old" in required and receipt.received_at:
        age = ((now or datetime.now(UTC)) - datetime.fromisoformat(receipt.received_at)).total_seconds()
        if age > settings.undo_grace_minutes * 60:
            minutes = int(age // 60)
            reasons.append(
                ngettext(
                    "it was received {minutes} minute ago (more than {grace})",
                    "it was received {minutes} minutes ago (more than {grace})",
                    minutes,
                ).format(minutes=minutes, grace=f"{settings.undo_grace_minutes:g}")
            )
    return _(" and ").join(reasons)


def override_needs_supervisor(settings: Settings) -> bool:
    """True when a disposition other than the suggested one needs a supervisor's approval."""
    return "override" in settings.supervisor_required
