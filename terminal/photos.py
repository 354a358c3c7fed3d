"""Evidence photos of defects, recorded by content hash.

A photo is taken with the station camera (:func:`save_photo` keeps the frame
as ``<sha256>.jpg`` in the station's photo folder beside its database), or is
a file the inspector names (a phone's picture, copied into the same folder as
``<sha256>.jpg|png|webp`` when it is attached), or is an explicit, recorded
"no camera at this station" exception.  The inspect screen asks a
:class:`PhotoSource` (the station camera) when the app has one.

Files are written under a temporary name and renamed, so a crash never
leaves half a JPEG under a hash that says otherwise.  No Textual here.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from dataclasses import dataclass
from gettext import gettext as _
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

# the server's limit: a photo the bench accepts is one sync can deliver
from sync.protocol import MAX_PHOTO_BYTES
from terminal.i18n import N_

NO_CAMERA = N_("no camera at this station")  # recorded in English; shown translated
JPEG_QUALITY = 90  # defects must stay legible; a 1080p photo is still only ~300-600 kB
# The first bytes of the image files cameras and phones write.
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))


class PhotoError(Exception):
    """A photo could not be taken, kept or used; the message is one line for a person."""


@dataclass(frozen=True)
class Photo:
    """A photo of one checklist item: its content hash and path, or a recorded exception."""

    item: str
    sha256: str = ""
    path: str = ""
    bytes: int = 0
    exception: str = ""

    def record(self) -> dict:
        """As stored with the inspection."""
        if self.exception:
            return {"item": self.item, "exception": self.exception}
        return {"item": self.item, "sha256": self.sha256, "path": self.path, "bytes": self.bytes}

    def shown(self) -> str:
        """One short line for the screen."""
        return f"({_(self.exception)})" if self.exception else f"{Path(self.path).name} #{self.sha256[:8]}"


class PhotoSource(Protocol):
    """Where photos can be captured from (the camera issue implements this)."""

    def capture(self, item_id: str) -> Photo:
        """Take a photo now, for ``item_id`` (runs in a thread: it may block)."""


def _image_kind(head: bytes) -> str | None:
    """The file suffix for an image's first bytes (jpg, png, webp), or None for anything else."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return {"JPEG": "jpg", "PNG": "png"}[name]
    return "webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None


def photo_from_file(item_id: str, path: str | Path, folder: str | os.PathLike) -> Photo:
    """A photo from an image file (JPEG, PNG or WebP), copied into ``folder`` as ``<sha256>.<jpg|png|webp>``.

    The copy is what the inspection records (and sync sends): the original
    may be deleted or changed afterwards without touching the evidence.
    Blocking I/O, run it in a thread.
    """
    path = Path(str(path).strip()).expanduser()
    if not str(path).strip() or str(path) == ".":
        raise PhotoError(_("type the photo's file path"))
    folder = Path(folder)
    tmp = None
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise PhotoError(_("{path} is not a file").format(path=path))
        if size == 0:
            raise PhotoError(_("{path} is empty").format(path=path))
        if size > MAX_PHOTO_BYTES:
            raise PhotoError(
                _("{path} is {size} MB; a photo may have at most {most} MB").format(
                    path=path, size=size // 1024 // 1024, most=MAX_PHOTO_BYTES // 1024 // 1024
                )
            )
        digest = hashlib.sha256()
        with path.open("rb") as f:
            head = f.read(16)
            kind = _image_kind(head)
            if kind is None:
                raise PhotoError(_("{path} is not a JPEG, PNG or WebP photo").format(path=path))
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".photo-", suffix=".part")
            with os.fdopen(fd, "wb") as out:
                copied = 0
                for block in itertools.chain([head], iter(lambda: f.read(1 << 20), b"")):
                    digest.update(block)
                    out.write(block)
                    copied += len(block)
                out.flush()
                os.fsync(out.fileno())
        kept = folder / f"{digest.hexdigest()}.{kind}"
        os.replace(tmp, kept)
        tmp = None
    except FileNotFoundError:
        raise PhotoError(_("no file {path}").format(path=path)) from None
    except PermissionError:
        raise PhotoError(_("{path} cannot be read (permissions)").format(path=path)) from None
    except OSError as exc:
        raise PhotoError(
            _("cannot keep {path} in {folder}: {problem}; nothing was recorded").format(
                path=path, folder=folder, problem=exc.strerror
            )
        ) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return Photo(item_id, digest.hexdigest(), str(kept), copied)


def no_camera(item_id: str) -> Photo:
    """The recorded exception for a station without a camera."""
    return Photo(item_id, exception=NO_CAMERA)


# --- the station camera's photos -------------------------------------------


@dataclass(frozen=True)
class StoredPhoto:
    """A camera frame kept on disk: its content hash (the name events refer to) and its file."""

    sha256: str
    path: Path


def photo_folder(db_path: str | os.PathLike) -> Path:
    """Where a station keeps its photos: ``photos/`` beside its database."""
    return Path(db_path).expanduser().parent / "photos"


def save_photo(frame: np.ndarray, folder: str | os.PathLike) -> StoredPhoto:
    """Encode ``frame`` (BGR, as from the camera) as JPEG and store it under its SHA-256."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PhotoError(_("the camera frame could not be encoded as JPEG; nothing was stored"))
    data = encoded.tobytes()
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(folder)
    path = folder / f"{digest}.jpg"
    if path.exists():
        return StoredPhoto(digest, path)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".photo-", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise PhotoError(
            _("cannot store the photo in {folder}: {problem}; nothing was recorded").format(
                folder=folder, problem=exc.strerror
            )
        ) from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return StoredPhoto(digest, path)
