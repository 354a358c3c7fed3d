"""The labels the floor prints, each laid out once (in millimetres).

- :func:`rma_label` — stuck on a parcel that arrived without one (4×6 in, or 4×2 in).
- :func:`disposition_label` — stuck on an inspected item: its grade, channel, bin and license plate (4×3 in).
- :func:`command_sheet` — barcodes an inspector scans instead of pressing keys (4×6 in);
  :func:`command_sheets` spreads any number of commands over as few sheets as hold them.
- :func:`badge_label` — an operator's sign-in badge (4×2 in).
- :func:`bin_label`, :func:`container_label` — a bin, tote, gaylord or pallet: `BIN:<name>` (4×2 in);
  :func:`manifest_labels` — a closed container's contents and counts, on as many 4×6 in pages as they need.

Everything a customer or an upstream system typed (names, reasons) goes in
as plain text; the renderers make it safe for the printer.  Nothing here
knows the database or the screens: callers hand in plain values.

The captions ("CUSTOMER", "RETURN REASON", the disposition in big letters) are in the station's
language at the moment the label is made (``gettext``; the terminal binds the catalog); what a
barcode says never changes with the language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date as Date
from gettext import gettext as _

from labels.layout import Barcode, Box, Label, LabelError, Text, clean_text, text_width

INCH = 25.4
MARGIN = 4.0
SIZES = {"4x6": (4 * INCH, 6 * INCH), "4x2": (4 * INCH, 2 * INCH), "4x3": (4 * INCH, 3 * INCH)}
# qc_checklists.Disposition's values, in capitals as printed (labels may not import qc_checklists;
# tests/test_dispositions.py pins every copy of the vocabulary to that enum)
DISPOSITIONS = ("RESELLABLE", "DISCOUNTED", "SCRAPPED")
COMMAND_PREFIX = "CMD:"
BADGE_PREFIX = "OP:"
BIN_PREFIX = "BIN:"  # a bin's label, as the station's scan router reads it (terminal/scanning/scan.py)
COMMANDS_PER_SHEET = 10  # the most one 4×6 in sheet holds, each barcode still tall enough to scan


def _when(day: Date | str | None) -> str:
    if day is None:
        return Date.today().isoformat()
    return day.isoformat() if isinstance(day, Date) else clean_text(day)


def _fitting(text: str, size: float, room: float) -> float:
    """The largest bold text size up to ``size`` mm at which ``text`` fits in ``room`` mm (a code is never cut)."""
    per_mm = text_width(text, 1000, True) / 1000  # text width in mm per mm of size
    return min(size, room * 0.97 / per_mm) if per_mm else size


def rma_label(
    code: str,
    *,
    customer: str = "",
    order: str = "",
    reason: str = "",
    day: Date | str | None = None,
    size: str = "4x6",
) -> Label:
    """The RMA label: the code as Code 128 with its text, customer, order, reason, date."""
    if size not in ("4x6", "4x2"):
        raise LabelError(_("an RMA label is 4x6 or 4x2, not {size}").format(size=size))
    width, height = SIZES[size]
    inner = width - 2 * MARGIN
    code = (code or "").strip().upper()  # the barcode says exactly this: checked, never cleaned
    when = _when(day)
    elements: tuple[Text | Barcode | Box, ...]
    if size == "4x2":
        elements = (
            Barcode(MARGIN, 3, code, height=20, width=inner),
            Text(MARGIN, 25, code, size=6, bold=True),
            Text(MARGIN, 33, customer, size=3.5, width=inner),
            Text(
                MARGIN,
                39,
                _("Order {order} / {date}").format(order=clean_text(order) or "-", date=when),
                size=3.5,
                width=inner,
            ),
            Text(MARGIN, 44.5, reason, size=3, width=inner),
        )
    else:
        # Laid out as a carrier label is: who and why at the top, then the code in big text and a
        # large barcode across the lower half (module up to 0.5 mm, quiet zones reaching into the
        # margins), readable by a handheld scanner or the bench camera from a metre.
        half = inner / 2
        elements = (
            Text(MARGIN, MARGIN, _("RMA RETURN"), size=5, bold=True),
            Box(MARGIN, 11, inner, 0, line=0.5),
            Text(MARGIN, 14, _("CUSTOMER"), size=3),
            Text(MARGIN, 18.5, clean_text(customer) or "-", size=5, width=inner, lines=2),
            Text(MARGIN, 32, _("ORDER"), size=3),
            Text(MARGIN, 36.5, clean_text(order) or "-", size=5, width=half - 2),
            Text(MARGIN + half, 32, _("DATE"), size=3),
            Text(MARGIN + half, 36.5, when, size=5, width=half),
            Text(MARGIN, 45, _("RETURN REASON"), size=3),
            Text(MARGIN, 49.5, clean_text(reason) or "-", size=4.5, width=inner, lines=3),
            Box(MARGIN, 67, inner, 0, line=0.5),
            Text(MARGIN, 71, code, size=_fitting(code, 11, inner), bold=True, width=inner),
            Barcode(0, 86, code, height=44, width=width, module=0.5),
            Box(MARGIN, height - 12, inner, 0, line=0.5),
            Text(MARGIN, height - 9.5, _("Returned goods: receive at the RMA station"), size=3),
        )
    return Label("rma", code, width, height, elements)


def disposition_label(
    disposition: str,
    *,
    sku: str,
    rma: str,
    line: int | str,
    grade: str = "",
    defect: str = "",
    inspector: str = "",
    day: Date | str | None = None,
    channel: str = "",
    bin: str = "",
    lpn: str = "",
) -> Label:
    """The disposition label: the outcome in big letters, SKU and its barcode, RMA and line,
    grade or main defect, inspector and date (4×3 in).

    With the unit's license plate (``lpn``) the label is the unit's own: the
    outcome, its channel and bin, and the plate as the one barcode on it (the
    SKU is printed as text), so a put-away clerk cannot scan the wrong code.
    """
    outcome = clean_text(disposition).upper()
    if outcome not in DISPOSITIONS:
        raise LabelError(
            _("disposition must be one of {dispositions}, not {given!r}").format(
                dispositions=", ".join(DISPOSITIONS), given=disposition
            )
        )
    width, height = SIZES["4x3"]
    inner = width - 2 * MARGIN
    sku = (sku or "").strip()  # the barcode says exactly this: checked, never cleaned
    # an empty field is left out, not printed as a lone "-"
    finding = " / ".join(
        p
        for p in (_("Grade {grade}").format(grade=clean_text(grade)) if clean_text(grade) else "", clean_text(defect))
        if p
    )
    inspector = clean_text(inspector)
    signed = (
        _("Inspector {inspector} / {date}").format(inspector=inspector, date=_when(day))
        if inspector
        else _("Inspected {date}").format(date=_when(day))
    )
    shown = {"RESELLABLE": _("RESELLABLE"), "DISCOUNTED": _("DISCOUNTED"), "SCRAPPED": _("SCRAPPED")}[outcome]
    lpn = (lpn or "").strip().upper()  # the barcode says exactly this: checked, never cleaned
    if lpn:
        where = " / ".join(
            p
            for p in (
                _("Channel {channel}").format(channel=clean_text(channel).upper()) if clean_text(channel) else "",
                _("Bin {bin}").format(bin=clean_text(bin).upper()) if clean_text(bin) else "",
            )
            if p
        )
        unit: tuple[Text | Barcode | Box, ...] = (
            Box(MARGIN, MARGIN - 1, inner, 14, line=0.8),
            Text(MARGIN + 3, MARGIN + 1.5, shown, size=9, bold=True, width=inner - 6),
            *([Text(MARGIN, 19.5, where, size=4.5, bold=True, width=inner)] if where else []),
            Barcode(0, 26, lpn, height=16, width=width, module=0.33),
            Text(MARGIN, 43.5, f"LPN {lpn}", size=4, bold=True, width=inner),
            Text(
                MARGIN,
                49,
                _("SKU {sku} / RMA {rma} / line {line}").format(
                    sku=clean_text(sku), rma=clean_text(rma).upper(), line=clean_text(line)
                ),
                size=3.5,
                width=inner,
            ),
            *([Text(MARGIN, 54.5, finding, size=3.5, width=inner, lines=2)] if finding else []),
            Text(MARGIN, height - 10, signed, size=3.5, width=inner),
        )
        return Label("disposition", f"{outcome}-{lpn}", width, height, unit)
    elements: tuple[Text | Barcode | Box, ...] = (
        Box(MARGIN, MARGIN - 1, inner, 14, line=0.8),
        Text(MARGIN + 3, MARGIN + 1.5, shown, size=9, bold=True, width=inner - 6),
        Text(MARGIN, 20, f"SKU {sku}", size=4.5, bold=True, width=inner),
        Barcode(MARGIN, 26, sku, height=14, width=inner),
        Text(
            MARGIN,
            42.5,
            _("RMA {rma} / line {line}").format(rma=clean_text(rma).upper(), line=clean_text(line)),
            size=4,
            width=inner,
        ),
        *([Text(MARGIN, 49, finding, size=4, width=inner, lines=2)] if finding else []),
        Text(MARGIN, height - 10, signed, size=3.5, width=inner),
    )
    return Label("disposition", f"{outcome}-{sku}", width, height, elements)


def command_sheet(commands: Sequence[str]) -> Label:
    """A sheet of command barcodes (``CMD:<NAME>``), each with its caption, one per row.

    The names come from the caller (the station's scan reader owns the list),
    so the sheet always matches what the scan router understands.
    """
    names = [clean_text(c).upper() for c in commands]
    if not names:
        raise LabelError(_("a command sheet needs at least one command"))
    width, height = SIZES["4x6"]
    inner = width - 2 * MARGIN
    if len(names) > COMMANDS_PER_SHEET:
        raise LabelError(
            _("a command sheet holds at most {most} commands, not {count}").format(
                most=COMMANDS_PER_SHEET, count=len(names)
            )
        )
    pitch = (height - 2 * MARGIN - 6) / max(len(names), 1)
    elements: list = [Text(MARGIN, MARGIN - 1.5, _("COMMANDS - scan instead of pressing keys"), size=3.5, bold=True)]
    for n, name in enumerate(names):
        y = MARGIN + 4 + n * pitch
        elements.append(Text(MARGIN, y, name.replace("-", " "), size=3.5, bold=True))
        elements.append(Barcode(MARGIN, y + 4, COMMAND_PREFIX + name, height=pitch - 6, width=inner))
    return Label("commands", "commands", width, height, tuple(elements))


def command_sheets(commands: Sequence[str]) -> list[Label]:
    """Every command on as few sheets as hold them, the sheets evenly filled (11 commands: 6 and 5)."""
    if not commands:
        return [command_sheet(commands)]  # says a sheet needs a command
    sheets = -(-len(commands) // COMMANDS_PER_SHEET)
    per_sheet = -(-len(commands) // sheets)
    return [command_sheet(commands[i : i + per_sheet]) for i in range(0, len(commands), per_sheet)]


def badge_label(operator_id: str, name: str = "") -> Label:
    """An operator's badge: the name in big letters and ``OP:<id>`` as Code 128 (4×2 in)."""
    operator_id = (operator_id or "").strip()
    if not operator_id:
        raise LabelError(_("a badge needs an operator id"))
    width, height = SIZES["4x2"]
    inner = width - 2 * MARGIN
    elements = (
        Text(MARGIN, 3, clean_text(name) or operator_id, size=7, bold=True, width=inner),
        Barcode(MARGIN, 13, BADGE_PREFIX + operator_id, height=24, width=inner),
        Text(MARGIN, 40, BADGE_PREFIX + operator_id, size=4, width=inner),
    )
    return Label("badge", operator_id, width, height, elements)


def bin_label(name: str, takes: Sequence[str] = ()) -> Label:
    """A bin's label: its name in big letters, ``BIN:<name>`` as Code 128, and the channels it takes (4×2 in)."""
    name = " ".join((name or "").split()).upper()
    if not name:
        raise LabelError(_("a bin label needs the bin's name"))
    width, height = SIZES["4x2"]
    inner = width - 2 * MARGIN
    caption = BIN_PREFIX + name
    if takes:
        caption += "  ·  " + _("takes {channels}").format(channels=", ".join(takes))
    elements = (
        Text(MARGIN, 3, name, size=_fitting(name, 9, inner), bold=True, width=inner),
        Barcode(MARGIN, 15, BIN_PREFIX + name, height=22, width=inner),
        Text(MARGIN, 40, caption, size=4, width=inner),
    )
    return Label("bin", name, width, height, elements)


def _kind_word(kind: str) -> str:
    """A container's kind as printed, in the station's language."""
    words = {"bin": _("BIN"), "tote": _("TOTE"), "gaylord": _("GAYLORD"), "pallet": _("PALLET")}
    return words.get(kind, clean_text(kind).upper())


def container_label(name: str, kind: str = "bin", takes: Sequence[str] = ()) -> Label:
    """A container's label (bin, tote, gaylord, pallet): as a bin's, ``BIN:<name>``, with its kind printed (4×2 in).

    Put-away scans every container as a bin, so the barcode is the bin's; a
    plain bin's label is :func:`bin_label` itself.
    """
    if kind in ("", "bin"):
        return bin_label(name, takes)
    name = " ".join((name or "").split()).upper()
    if not name:
        raise LabelError(_("a container label needs the container's name"))
    width, height = SIZES["4x2"]
    inner = width - 2 * MARGIN
    word = _kind_word(kind)
    caption = BIN_PREFIX + name
    if takes:
        caption += "  ·  " + _("takes {channels}").format(channels=", ".join(takes))
    title = f"{word} {name}"
    elements = (
        Text(MARGIN, 3, title, size=_fitting(title, 9, inner), bold=True, width=inner),
        Barcode(MARGIN, 15, BIN_PREFIX + name, height=22, width=inner),
        Text(MARGIN, 40, caption, size=4, width=inner),
    )
    return Label("container", name, width, height, elements)


MANIFEST_FIRST_ROWS = 16  # unit rows on a manifest's first 4×6 in page (below its barcode and counts)
MANIFEST_MORE_ROWS = 32  # unit rows on each page after it


def manifest_labels(
    name: str,
    *,
    kind: str = "bin",
    units: Sequence[tuple[str, str, str, str]] = (),
    channel_counts: Sequence[tuple[str, int]] = (),
    grade_counts: Sequence[tuple[str, int]] = (),
    closed: str = "",
    location: str = "",
) -> list[Label]:
    """A closed container's manifest (4×6 in pages): its barcode ``BIN:<name>``, counts per channel and grade,
    and its contents, one row per unit (plate, SKU, grade, channel).

    The first page carries the barcode and counts and the first rows; the
    rest follow on as many pages as they need, each numbered.  ``closed`` is
    who closed it and when, as one line the caller wrote.
    """
    name = " ".join((name or "").split()).upper()
    if not name:
        raise LabelError(_("a manifest needs the container's name"))
    width, height = SIZES["4x6"]
    inner = width - 2 * MARGIN
    pitch = 3.8
    size = 2.5
    columns = (0.0, 36.5, 60.0)  # plate, SKU, grade and channel (mm from the margin)
    room = (35.5, 22.5, inner - 60.0)
    rest = list(units[MANIFEST_FIRST_ROWS:])
    pages = 1 + -(-len(rest) // MANIFEST_MORE_ROWS)
    word = _kind_word(kind)

    def rows(chunk: Sequence[tuple[str, str, str, str]], top: float) -> list[Text | Barcode | Box]:
        placed: list[Text | Barcode | Box] = []
        for x, head in zip(columns, (_("LPN"), _("SKU"), _("GRADE / CHANNEL")), strict=True):
            placed.append(Text(MARGIN + x, top, head, size=size, bold=True))
        for n, (lpn, sku, grade, channel) in enumerate(chunk):
            y = top + 4.2 + n * pitch
            cells = (lpn, sku, f"{clean_text(grade).upper() or '-'} {clean_text(channel).upper() or '-'}")
            for x, text, w in zip(columns, cells, room, strict=True):
                placed.append(Text(MARGIN + x, y, clean_text(text).upper() or "-", size=size, width=w))
        return placed

    def footer(page: int) -> Text:
        return Text(
            MARGIN,
            height - 7,
            _("Manifest {name} / page {page} of {pages}").format(name=name, page=page, pages=pages),
            size=3,
            width=inner,
        )

    def counted(pairs: Sequence[tuple[str, int]]) -> str:
        return ", ".join(f"{clean_text(key).upper() or '-'} {count}" for key, count in pairs) or "-"

    title = _("MANIFEST {kind} {name}").format(kind=word, name=name)
    first: list[Text | Barcode | Box] = [
        Text(MARGIN, MARGIN, title, size=_fitting(title, 7, inner), bold=True, width=inner),
        Barcode(MARGIN, 14, BIN_PREFIX + name, height=22, width=inner),
        Text(MARGIN, 38, BIN_PREFIX + name, size=3, width=inner),
        Box(MARGIN, 43, inner, 0, line=0.5),
        Text(MARGIN, 46, _("Units: {count}").format(count=len(units)), size=4.5, bold=True, width=inner),
        Text(MARGIN, 53, _("By channel: {counts}").format(counts=counted(channel_counts)), size=3.2, width=inner),
        Text(MARGIN, 58, _("By grade: {counts}").format(counts=counted(grade_counts)), size=3.2, width=inner),
        Text(MARGIN, 63, clean_text(closed), size=3, width=inner),
        *(
            [Text(MARGIN, 67.5, _("At {location}").format(location=clean_text(location).upper()), size=3)]
            if clean_text(location)
            else []
        ),
        Box(MARGIN, 72, inner, 0, line=0.5),
        *rows(units[:MANIFEST_FIRST_ROWS], 75),
        footer(1),
    ]
    made = [Label("manifest", name, width, height, tuple(first))]
    for page in range(2, pages + 1):
        chunk = rest[(page - 2) * MANIFEST_MORE_ROWS : (page - 1) * MANIFEST_MORE_ROWS]
        more: list[Text | Barcode | Box] = [
            Text(MARGIN, MARGIN, title, size=_fitting(title, 5, inner), bold=True, width=inner),
            Box(MARGIN, 11, inner, 0, line=0.5),
            *rows(chunk, 14),
            footer(page),
        ]
        made.append(Label("manifest", f"{name}-{page}", width, height, tuple(more)))
    return made
