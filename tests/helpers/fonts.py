"""Font files for tests that play a printer holding a font of its own."""

from __future__ import annotations

import struct
from pathlib import Path


def ttf_of_face(path: Path, index: int = 0) -> bytes:
    """One face of a font file as a stand-alone TrueType file: a .ttf as it is, a .ttc's face copied out.

    A printer takes one font per file (``~DU``); a TrueType collection shares
    tables between its faces, so the face's table directory is rewritten with
    the tables laid out after it (their contents, and so their checksums, unchanged).
    """
    data = path.read_bytes()
    if data[:4] != b"ttcf":
        return data
    (count,) = struct.unpack_from(">I", data, 8)
    if index >= count:
        raise ValueError(f"{path} has {count} faces, not {index + 1}")
    (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
    version, tables, search, selector, shift = struct.unpack_from(">IHHHH", data, start)
    records = [struct.unpack_from(">4sIII", data, start + 12 + 16 * n) for n in range(tables)]
    header = struct.pack(">IHHHH", version, tables, search, selector, shift)
    offset = 12 + 16 * tables
    directory, body = [], []
    for tag, checksum, table_offset, length in records:
        directory.append(struct.pack(">4sIII", tag, checksum, offset, length))
        chunk = data[table_offset : table_offset + length]
        chunk += b"\0" * (-len(chunk) % 4)
        body.append(chunk)
        offset += len(chunk)
    return header + b"".join(directory) + b"".join(body)
