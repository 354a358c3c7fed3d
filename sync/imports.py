"""Reading files of expected returns (CSV or JSON) into validated RMAs.

CSV: a header row, then one row per RMA line; rows sharing an ``rma_code``
are one RMA.  Columns (see README): rma_code, order_ref, customer_name,
tracking_number, reason, status, sku, gtin, description, qty, category.
Several tracking numbers for one RMA are separated by ``|`` or given on
different rows.

JSON: a list of RMAs, each either shaped like a CSV row or with a ``lines``
list of {sku, gtin, description, qty, category}.

A bad row is reported with its line (CSV) or position (JSON) and reason; the
rest of its RMA is still checked, and an RMA with any bad row is not loaded
at all — half an RMA would be worse than none.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from sync.text import clean_text

REQUIRED = ("rma_code", "status", "sku", "qty")
COLUMNS = ("rma_code", "order_ref", "customer_name", "tracking_number", "reason", "status",
           "sku", "gtin", "description", "qty", "category")
MAX_FIELD = 500


@dataclass
class ParsedRma:
    """One RMA assembled from its rows."""

    rma: dict
    lines: list[dict] = field(default_factory=list)
    tracking: list[str] = field(default_factory=list)
    first_row: int = 0


@dataclass
class ParsedFile:
    """The RMAs a file holds and the rows that were refused."""

    rmas: list[ParsedRma]
    errors: list[tuple[int, str]]  # (CSV line number or JSON position, reason)
    rows: int = 0


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, not CSV/JSON, no header)."""


def read_rma_file(path: str | Path) -> ParsedFile:
    """Read and check a CSV or JSON file of expected returns."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return parse_json(text, str(path))
    return parse_csv(text, str(path))


def parse_csv(text: str, name: str = "<csv>") -> ParsedFile:
    """Check CSV rows (header first) and group them into RMAs."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"{name}: header lacks column(s) {', '.join(missing)}; "
                              f"expected {', '.join(COLUMNS)}")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:  # more cells than the header has
            rows.append((reader.line_num, None, "more cells than the header has columns"))
            continue
        rows.append((reader.line_num, {k: clean_text(v or "").strip() for k, v in row.items()}, ""))
    return _assemble(rows)


def parse_json(text: str, name: str = "<json>") -> ParsedFile:
    """Check a JSON list of RMAs (flat rows or with ``lines``) and group them."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(data, dict):
        data = data.get("rmas", [data])
    if not isinstance(data, list):
        raise ImportFileError(f"{name}: expected a list of RMAs")
    rows = []
    for pos, item in enumerate(data, 1):
        if not isinstance(item, dict):
            rows.append((pos, None, "not an object"))
            continue
        head = {k: _text(v) for k, v in item.items() if k != "lines"}
        if isinstance(item.get("tracking_number"), list):
            head["tracking_number"] = "|".join(_text(v) for v in item["tracking_number"])
        lines = item.get("lines")
        if lines is None:
            rows.append((pos, head, ""))
        elif not isinstance(lines, list) or not lines:
            rows.append((pos, None, "lines must be a non-empty list"))
        else:
            for ln in lines:
                if not isinstance(ln, dict):
                    rows.append((pos, None, "a line is not an object"))
                    continue
                rows.append((pos, {**head, **{k: _text(v) for k, v in ln.items()}}, ""))
    return _assemble(rows)


def _text(value) -> str:
    return "" if value is None else clean_text(str(value)).strip()


def check_row(row: dict) -> str:
    """The reason a row is refused, or "" when it is good."""
    for column in REQUIRED:
        if not row.get(column):
            return f"{column} is empty"
    for column, value in row.items():
        if len(value) > MAX_FIELD:
            return f"{column} is longer than {MAX_FIELD} characters"
    if row["status"].lower() not in ("authorized", "cancelled", "expired"):
        return f"status {row['status']!r} is not authorized, cancelled or expired"
    try:
        qty = int(row["qty"])
    except ValueError:
        return f"qty {row['qty']!r} is not a whole number"
    if qty < 1:
        return f"qty {qty} must be at least 1"
    gtin = row.get("gtin", "")
    if gtin and not (gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and _gtin_ok(gtin)):
        return f"gtin {gtin!r} is not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)"
    return ""


def _gtin_ok(gtin: str) -> bool:
    digits = [int(d) for d in gtin]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _assemble(rows: list[tuple[int, dict | None, str]]) -> ParsedFile:
    by_code: dict[str, ParsedRma] = {}
    bad_codes: set[str] = set()
    errors: list[tuple[int, str]] = []
    for where, row, problem in rows:
        if row is not None and not problem:
            problem = check_row(row)
        code = (row or {}).get("rma_code", "").upper()
        if problem:
            errors.append((where, problem))
            if code:
                bad_codes.add(code)
            continue
        parsed = by_code.get(code)
        if parsed is None:
            parsed = by_code[code] = ParsedRma(
                {"rma_code": code, "order_ref": row.get("order_ref", ""),
                 "customer_name": row.get("customer_name", ""), "reason": row.get("reason", ""),
                 "status": row["status"].lower()}, first_row=where)
        elif parsed.rma["status"] != row["status"].lower():
            errors.append((where, f"status {row['status']!r} differs from the first row of {code} "
                                  f"(line {parsed.first_row})"))
            bad_codes.add(code)
            continue
        parsed.lines.append({"sku": row["sku"], "gtin": row.get("gtin", ""),
                             "description": row.get("description", ""), "qty": int(row["qty"]),
                             "category": row.get("category", "") or "general"})
        for number in row.get("tracking_number", "").split("|"):
            if number.strip() and number.strip() not in parsed.tracking:
                parsed.tracking.append(number.strip())
    good = [p for code, p in by_code.items() if code not in bad_codes]
    for code in sorted(bad_codes & set(by_code)):
        errors.append((by_code[code].first_row, f"RMA {code} not loaded because of the errors above"))
    return ParsedFile(good, sorted(errors), rows=len(rows))
