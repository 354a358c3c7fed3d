"""Text measured as the terminal draws it: a Chinese character takes two cells, a Latin letter one.

``len()`` counts characters, so columns padded or cut with it drift apart
as soon as a line holds Chinese; these measure with :func:`rich.cells.cell_len`.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size


def width(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    return cell_len(text)


def pad(text: str, cells: int) -> str:
    """``text`` padded with spaces to ``cells`` cells (left as it is when it is wider)."""
    return text + " " * max(0, cells - cell_len(text))


def cut(text: str, cells: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``cells`` cells, ending in ``ellipsis`` when something was cut."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - cell_len(ellipsis))).rstrip() + ellipsis
