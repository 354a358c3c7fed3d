"""What goes wrong with a station database, in words a clerk or a script can act on.

::

    StoreError                 the database cannot do what was asked; the message is for a person
     ├── DatabaseBusy          another program holds the write lock for longer than we wait
     └── DatabaseUnavailable   the file cannot be opened or written (missing folder, read-only,
          │                    not SQLite, another program's or a newer station's database)
          └── DiskFull         no space left on its disk; nothing was recorded, the next write may work

A refusal the store makes on purpose (an RMA not received, an override with
no reason, an unknown badge) is a plain :class:`StoreError`.
"""

from __future__ import annotations

import shutil
import sqlite3
from gettext import gettext as _
from pathlib import Path


class StoreError(Exception):
    """The database cannot do what was asked; the message is for a person."""


class DatabaseBusy(StoreError):
    """Another program holds the write lock for longer than we wait."""


class DatabaseUnavailable(StoreError):
    """The database file cannot be opened or written (missing folder, read-only, not SQLite)."""


class DiskFull(DatabaseUnavailable):
    """The disk holding the database has no space left; nothing was recorded, the next write may work."""


def _no_space_left(path: Path) -> bool:
    """True when the disk holding ``path`` is (nearly) full: SQLite reports that as an I/O error on open."""
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def explain(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    """Turn SQLite's message into one a clerk or a script can act on."""
    text = str(exc).lower()
    if "full" in text or ("disk i/o" in text and _no_space_left(path)):
        return DiskFull(
            _("disk full: database {path} cannot grow; nothing was recorded — free space on its disk").format(path=path)
        )
    if "locked" in text or "busy" in text:
        return DatabaseBusy(
            _("database {path} is locked by another program; nothing was recorded — try again").format(path=path)
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseUnavailable(
            _("database {path} is read-only; nothing was recorded — check its permissions").format(path=path)
        )
    if "unable to open" in text:
        return DatabaseUnavailable(
            _("cannot open database {path}; check the path and its folder's permissions").format(path=path)
        )
    if "not a database" in text or "malformed" in text:
        return DatabaseUnavailable(_("{path} is not a usable SQLite database ({error})").format(path=path, error=exc))
    return DatabaseUnavailable(_("database {path}: {error}").format(path=path, error=exc))
