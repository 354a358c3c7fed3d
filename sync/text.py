"""Text that came from outside (a scan, an import file) made safe to store and show on one line.

Shared by the station's scan reader and the importers, so a code is cleaned
the same way whether it was scanned or imported (sync may not import
terminal; terminal may import sync).
"""

from __future__ import annotations


def clean_text(text: str, keep: str = "") -> str:
    """``text`` without control or invisible characters; line breaks, tabs and odd spaces become a space.

    Removed: C0 and C1 controls (U+009B is a terminal's CSI), bidi overrides
    and isolates (U+202E turns text around), zero-width characters, and every
    other character Python does not call printable; whitespace among them
    (tab, line and paragraph separators, no-break and ideographic spaces)
    becomes one ordinary space each.  Characters in ``keep`` stay as they are
    (a scan keeps the GS1 group separator).
    """
    if text.isprintable() and not keep:
        return text  # the common case: nothing to do
    return "".join(ch if ch in keep or ch.isprintable() else (" " if ch.isspace() else "") for ch in text)
