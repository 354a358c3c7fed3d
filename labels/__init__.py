"""Labels: what the floor prints (RMA, disposition, command sheet, badge), in ZPL, PNG, SVG
and PDF from one layout each, and the printers it goes to (raw TCP 9100, CUPS, a file).

Imports nothing from sync or terminal; callers hand in plain values.

    >>> from labels import disposition_label, render
    >>> zpl = render([disposition_label("RESELLABLE", sku="SKU-1", rma="RMA-1", line=1)], "zpl")[0]
"""

from labels.designs import (
    DISPOSITIONS,
    badge_label,
    bin_label,
    command_sheet,
    command_sheets,
    container_label,
    disposition_label,
    manifest_labels,
    rma_label,
)
from labels.layout import Label, LabelError, Sheet, place
from labels.printers import Printer, PrinterError, PrinterNotReady, PrinterStatus, open_printer
from labels.render import FORMATS, MULTI_LABEL, SUFFIX, file_per_label, font_note, render

__all__ = [
    "DISPOSITIONS",
    "FORMATS",
    "MULTI_LABEL",
    "SUFFIX",
    "Label",
    "LabelError",
    "Printer",
    "PrinterError",
    "PrinterNotReady",
    "PrinterStatus",
    "Sheet",
    "badge_label",
    "bin_label",
    "command_sheet",
    "command_sheets",
    "container_label",
    "disposition_label",
    "file_per_label",
    "font_note",
    "manifest_labels",
    "open_printer",
    "place",
    "render",
    "rma_label",
]
