"""Photo evidence: camera frames kept as JPEG files named by their content.

A photo is stored once, as ``<sha256>.jpg`` in the station's photo folder
(beside the station database), and referred to by that hash from the
inspection event that needs it; the same picture taken twice is one file.
The file is written under a temporary name and renamed, so a crash never
leaves half a JPEG under a hash that says otherwise.  No Textual here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90  # defects must stay legible; a 1080p photo is still only ~300-600 kB


class PhotoError(Exception):
    """The photo could not be taken or kept; the message is one line for a person."""


@dataclass(frozen=True)
class Photo:
    """A stored photo: its content hash (the name events refer to) and its file."""

    sha256: str
    path: Path


def photo_folder(db_path: str | os.PathLike) -> Path:
    """Where a station keeps its photos: ``photos/`` beside its database."""
    return Path(db_path).expanduser().parent / "photos"


def save_photo(frame: np.ndarray, folder: str | os.PathLike) -> Photo:
    """Encode ``frame`` (BGR, as from the camera) as JPEG and store it under its SHA-256."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PhotoError("the camera frame could not be encoded as JPEG; nothing was stored")
    data = encoded.tobytes()
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(folder)
    path = folder / f"{digest}.jpg"
    if path.exists():
        return Photo(digest, path)
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
        raise PhotoError(f"cannot store the photo in {folder}: {exc.strerror}; nothing was recorded") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return Photo(digest, path)
