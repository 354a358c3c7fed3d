"""Reading files of expected returns (CSV or JSON) into validated RMAs.

CSV: a header row, then one row per RMA line; rows sharing an ``rma_code``
are one RMA.  Columns (see README): rma_code, order_ref, customer_name,
tracking_number, reason, status, sku, gtin, description, qty, category.
Several tracking numbers for one RMA are separated by ``|`` or given on
different rows.

JSON: a list of RMAs, each either shaped like a CSV row or with a ``lines``
list of {sku, gtin, description, qty, category}.

A bad row is reported with the line it starts on and the reason; the rest of
its RMA is still checked, and an RMA with any bad row is not loaded at all —
half an RMA would be worse than none.  A file that cannot be read reliably
(not UTF-8, a column twice in the header, a quote left open, a field of more
than ``csv.field_size_limit()`` characters, JSON that is broken or nested too
deeply) is refused as a whole: :class:`ImportFileError`, nothing imported.

Memory stays bounded by the size of one RMA, not of the file: a file is read
as a stream twice — :meth:`RmaFile.check` reads every row and notes, per RMA
code, how many good rows it has and whether any row was bad; then
:meth:`RmaFile.rmas` reads it again and hands out each good RMA as soon as its
last row was read.  Only that small note per RMA is kept between the two.
A JSON list is decoded one RMA at a time (an RMA of more than
``MAX_JSON_RMA`` characters is refused); a JSON object at the top (one RMA,
or ``{"rmas": [...]}``) is decoded whole, so it may be at most
``MAX_JSON_OBJECT`` characters — give a list for larger files.

Files of operators (CSV with a header row: id, name, role) are read by
:func:`read_operator_file`; the store checks each operator as it registers it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sync.store import ROLES
from sync.text import clean_text

REQUIRED = ("rma_code", "status", "sku", "qty")
COLUMNS = (
    "rma_code",
    "order_ref",
    "customer_name",
    "tracking_number",
    "reason",
    "status",
    "sku",
    "gtin",
    "description",
    "qty",
    "category",
)
MAX_FIELD = 500
MAX_JSON_RMA = 4 * 1024 * 1024  # characters of one RMA in a JSON list
MAX_JSON_OBJECT = 32 * 1024 * 1024  # characters of a file whose top level is one JSON object
_CHUNK = 256 * 1024
_NOTHING = "nothing imported"
_STATUSES = {status: status for status in ("authorized", "cancelled", "expired")}


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
    errors: list[tuple[int, str]]  # (line the row starts on, reason)
    rows: int = 0


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, not UTF-8, no header, broken); nothing is imported."""


# One row as the readers hand it on: (line it starts on, cleaned row or None, problem, RMA code).
Row = tuple[int, "dict | None", str, str]


@dataclass(slots=True)
class _Note:
    """What the check remembers of one RMA code until the load (kept small: one per RMA)."""

    first_row: int
    status: str = ""
    rows: int = 0  # good rows
    bad: bool = False


class RmaFile:
    """A CSV or JSON file of expected returns, read as a stream: :meth:`check` it, then load :meth:`rmas`."""

    def __init__(self, path: str | Path | None = None, *, text: str | None = None, kind: str = "", name: str = ""):
        self.path = Path(path) if path is not None else None
        self.name = name or str(path if path is not None else f"<{kind}>")
        self._text = text
        self.cleaned = 0  # fields that had control or invisible characters removed
        self.rows = 0
        self.lines_loaded = 0
        self._notes: dict[str, _Note] | None = None
        if text is None:
            if self.path is None:
                raise TypeError("RmaFile reads a path or a text; neither was given")
            try:
                with open(self.path, "rb") as raw:
                    head = raw.read(4096)
            except OSError as exc:
                raise ImportFileError(f"cannot read {self.path}: {exc.strerror}") from exc
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise ImportFileError(
                    f"{self.name} is not UTF-8 text: it looks like UTF-16; save as UTF-8 — {_NOTHING}"
                )
            start = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
            kind = kind or ("json" if self.path.suffix.lower() == ".json" or start in (b"[", b"{") else "csv")
        self.kind = kind or "csv"

    # --- the two passes -------------------------------------------------------------------

    def check(self, on_problem: Callable[[int, str], None] | None = None) -> list[tuple[int, str]]:
        """Read every row and find every problem (also handed to ``on_problem`` as found).

        Returns the problems when no ``on_problem`` is given (else an empty
        list: a file with a million bad rows is not kept in memory).  Raises
        :class:`ImportFileError` for a file that cannot be read as a whole.
        """
        found: list[tuple[int, str]] = []
        report = on_problem or (lambda where, reason: found.append((where, reason)))
        notes: dict[str, _Note] = {}
        self.rows = 0
        for where, row, problem, code in self._rows(count_cleaned=True):
            self.rows += 1
            if row is not None and not problem:
                problem = check_row(row)
            note = notes.get(code) if code else None
            if code and note is None:
                note = notes[code] = _Note(where)
            if problem:
                report(where, problem)
                if note is not None:
                    note.bad = True
                continue
            assert row is not None and note is not None  # a row without a problem has its RMA code
            status = _STATUSES[row["status"].lower()]  # one string each, not one per row
            if not note.status:
                note.status = status
            elif note.status != status:
                report(where, f"status {row['status']!r} differs from the first row of {code} (line {note.first_row})")
                note.bad = True
                continue
            note.rows += 1
        for code, note in notes.items():
            if note.bad and note.rows:
                report(note.first_row, f"RMA {code} not loaded because of the errors above")
        self._notes = notes
        return found

    def rmas(self) -> Iterator[ParsedRma]:
        """The good RMAs, each handed out as soon as its last row was read (after :meth:`check`)."""
        if self._notes is None:
            self.check()
        notes = self._notes
        assert notes is not None  # check() keeps them
        assembling: dict[str, tuple[ParsedRma, list[int]]] = {}
        self.lines_loaded = 0
        for _where, row, problem, code in self._rows(count_cleaned=False):
            note = notes.get(code) if code else None
            if problem or row is None or note is None or note.bad:
                continue
            parsed, left = assembling.get(code) or assembling.setdefault(
                code,
                (
                    ParsedRma(
                        {
                            "rma_code": code,
                            "order_ref": row.get("order_ref", ""),
                            "customer_name": row.get("customer_name", ""),
                            "reason": row.get("reason", ""),
                            "status": note.status,
                        },
                        first_row=note.first_row,
                    ),
                    [note.rows],
                ),
            )
            parsed.lines.append(
                {
                    "sku": row["sku"],
                    "gtin": row.get("gtin", ""),
                    "description": row.get("description", ""),
                    "qty": int(row["qty"]),
                    "category": row.get("category", "") or "general",
                }
            )
            for number in row.get("tracking_number", "").split("|"):
                if number.strip() and number.strip() not in parsed.tracking:
                    parsed.tracking.append(number.strip())
            left[0] -= 1
            if left[0] == 0:
                del assembling[code]
                self.lines_loaded += len(parsed.lines)
                yield parsed
        if assembling:
            raise ImportFileError(f"{self.name} changed while it was imported; import it again")

    # --- reading rows -----------------------------------------------------------------------

    def _open(self) -> TextIO:
        if self._text is not None:
            return io.StringIO(self._text, newline="")
        assert self.path is not None  # __init__ refuses neither a path nor a text
        try:
            return open(self.path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportFileError(f"cannot read {self.path}: {exc.strerror}") from exc

    def _rows(self, *, count_cleaned: bool) -> Iterator[Row]:
        self._count_cleaned = count_cleaned
        with self._open() as stream:
            try:
                yield from (self._json_rows(stream) if self.kind == "json" else self._csv_rows(stream))
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"{self.name} is not UTF-8 text (near line {self._line}){self._encoding_hint()} — {_NOTHING}"
                ) from None

    def _clean(self, value: object) -> str:
        text = value if type(value) is str else "" if value is None else str(value)
        if text.isprintable():
            return text.strip()  # the common case, kept fast: a 70 MB file has millions of fields
        cleaned = clean_text(text)
        if cleaned != text and self._count_cleaned:
            self.cleaned += 1
        return cleaned.strip()

    def _encoding_hint(self) -> str:
        if self.path is None:
            return ""
        with open(self.path, "rb") as raw:
            sample = raw.read(256 * 1024)
        try:
            text = codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        except UnicodeDecodeError:
            return ""
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return "; it looks like GBK/GB18030; save as UTF-8 (Excel: CSV UTF-8)"
        return "; save it as UTF-8 (Excel: CSV UTF-8)"

    # CSV

    def _csv_rows(self, stream: TextIO) -> Iterator[Row]:
        reader = csv.reader(stream)
        self._line = 1
        try:
            first = next(reader, [])
        except csv.Error as exc:
            raise ImportFileError(f"{self.name}:1: the header cannot be read: {exc} — {_NOTHING}") from None
        header = [h.strip().lower() for h in first]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            hint = ""
            if len(header) == 1 and ";" in header[0]:
                hint = "; the columns seem separated by ';' — save the file as CSV with commas"
            elif len(header) == 1 and "\t" in header[0]:
                hint = "; the columns seem separated by tabs — save the file as CSV with commas"
            raise ImportFileError(
                f"{self.name}: header lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}{hint}"
            )
        seen: dict[str, int] = {}
        for number, column in enumerate(header, 1):
            if column and column in seen:
                raise ImportFileError(
                    f"{self.name}:1: column {column!r} appears twice in the header (columns "
                    f"{seen[column]} and {number}); remove one — {_NOTHING}"
                )
            seen[column] = number
        limit = csv.field_size_limit()
        while True:
            start = reader.line_num + 1
            self._line = start
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise ImportFileError(
                        f"{self.name}:{start}: a field of more than {limit} characters starts "
                        f"on this row (a quote left open?) — {_NOTHING}"
                    ) from None
                raise ImportFileError(f"{self.name}:{start}: {exc} — {_NOTHING}") from None
            if not cells:
                continue  # a blank line
            # a row over lines; a short row pairs only the cells it has (strict=False)
            for column, cell in zip(header, cells, strict=False) if reader.line_num > start else ():
                if ("\n" in cell or "\r" in cell) and ("," in cell or len(cell) > MAX_FIELD):
                    raise ImportFileError(
                        f"{self.name}:{start}: a quote opened on this line is not closed until line "
                        f"{reader.line_num} (column {column or '?'} swallows {reader.line_num - start} line(s)); "
                        f"close the quote — {_NOTHING}"
                    )
            if len(cells) > len(header):
                yield (
                    start,
                    None,
                    "more cells than the header has columns",
                    self._clean(cells[header.index("rma_code")]).upper(),
                )
                continue
            row = {column: self._clean(cell) for column, cell in zip(header, cells, strict=False)}  # short: below
            for column in header[len(cells) :]:
                row[column] = ""
            yield start, row, "", row.get("rma_code", "").upper()

    # JSON

    def _json_rows(self, stream: TextIO) -> Iterator[Row]:
        reader = _JsonReader(stream, self.name)
        self._line = 1
        first = reader.skip_space()
        if first == "{":
            line = reader.line_at()
            data = reader.value(MAX_JSON_OBJECT, "a JSON object at the top of the file")
            if reader.skip_space():
                raise reader.error("not valid JSON: extra data after the object")
            items = data.get("rmas", [data])
            if not isinstance(items, list):
                raise ImportFileError(f'{self.name}: "rmas" must be a list of RMAs — {_NOTHING}')
            for item in items:
                yield from self._json_item(item, line)
            return
        if first != "[":
            raise ImportFileError(f"{self.name}: expected a list of RMAs ([...]) — {_NOTHING}")
        reader.pos += 1
        if reader.skip_space() == "]":
            reader.pos += 1
        else:
            while True:
                line = self._line = reader.line_at()
                item = reader.value(MAX_JSON_RMA, "one RMA")
                yield from self._json_item(item, line)
                after = reader.skip_space()
                reader.pos += 1
                if after == "]":
                    break
                if after != ",":
                    raise reader.error("not valid JSON: expected ',' or ']' after an RMA")
                reader.skip_space()
        if reader.skip_space():
            raise reader.error("not valid JSON: extra data after the list")

    def _json_item(self, item: object, line: int) -> Iterator[Row]:
        if not isinstance(item, dict):
            yield line, None, "not an object (an RMA is {...})", ""
            return
        head = {k: self._clean(v) for k, v in item.items() if k != "lines"}
        if isinstance(item.get("tracking_number"), list):
            head["tracking_number"] = "|".join(self._clean(v) for v in item["tracking_number"])
        code = head.get("rma_code", "").upper()
        lines = item.get("lines")
        if lines is None:
            yield line, head, "", code
        elif not isinstance(lines, list) or not lines:
            yield line, None, "lines must be a non-empty list", code
        else:
            for number, ln in enumerate(lines, 1):
                if not isinstance(ln, dict):
                    yield line, None, f"{code or 'an RMA'}: line {number} of its lines is not an object", code
                    continue
                yield line, {**head, **{k: self._clean(v) for k, v in ln.items()}}, "", code


class _JsonReader:
    """A JSON text read in chunks: whitespace skipped, one value decoded at a time, lines counted."""

    _decoder = json.JSONDecoder()

    def __init__(self, stream: TextIO, name: str):
        self.stream, self.name = stream, name
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False  # self.line: the line buf[0] is on
        self._mark, self._mark_line = 0, 1  # a place in buf whose line is known, so lines are counted once

    def _more(self, want: int = _CHUNK) -> bool:
        if self.eof:
            return False
        if self.pos:  # drop what was read, counting its lines
            self.line = self.line_at()
            self.buf, self.pos = self.buf[self.pos :], 0
            self._mark, self._mark_line = 0, self.line
        chunk = self.stream.read(max(want, len(self.buf)))  # doubling: a long value is decoded O(n log n)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def skip_space(self) -> str:
        """The next character that is not whitespace ("" at the end), without taking it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def line_at(self) -> int:
        """The line of the current position."""
        if self.pos < self._mark:
            self._mark, self._mark_line = 0, self.line
        self._mark_line += self.buf.count("\n", self._mark, self.pos)
        self._mark = self.pos
        return self._mark_line

    def error(self, reason: str) -> ImportFileError:
        return ImportFileError(f"{self.name}:{self.line_at()}: {reason} — {_NOTHING}")

    def value(self, limit: int, what: str):
        """Decode the value at the current position, reading more of the file as it needs."""
        start_line = self.line_at()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > limit:
                    raise ImportFileError(
                        f"{self.name}:{start_line}: {what} of more than {limit} characters "
                        f"starts here (or the JSON is broken from here) — {_NOTHING}"
                    ) from None
                where = self.line + exc.lineno - 1  # before _more() moves the buffer
                if self._more():
                    continue
                raise ImportFileError(f"{self.name}:{where}: not valid JSON: {exc.msg} — {_NOTHING}") from None
            except RecursionError:
                raise ImportFileError(
                    f"{self.name}:{start_line}: JSON nested too deeply to be an RMA — {_NOTHING}"
                ) from None
            if end == len(self.buf) and self._more():
                continue  # a number or literal at the end of the chunk may go on in the next one
            self.pos = end
            return value


@dataclass(frozen=True)
class OperatorRow:
    """One row of an operators file: the line it ends on, the id, the name and the role (None: not given).

    ``problem`` is why the row cannot be registered as it is (a role that is not one of ``ROLES``), or "".
    ``language`` is the optional column of that name ("zh-CN"), as written (None: not given); the
    station checks it is one it speaks.
    """

    line: int
    id: str
    name: str
    role: str | None
    problem: str = ""
    language: str | None = None


def read_operator_file(path: str | Path) -> list[OperatorRow]:
    """Read a CSV file of operators with a header row: id, name, role.

    Raises :class:`ImportFileError` when the file cannot be read or its header names no ``id`` column.
    """
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "id" not in reader.fieldnames:
                raise ImportFileError(f"{name}:1: the header row must name the columns id, name, role")
            return [_operator_row(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise ImportFileError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"{name}: cannot read operators: {exc}") from exc


def _operator_row(line: int, row: dict) -> OperatorRow:
    role = (row.get("role") or "").strip().lower() or None
    problem = f"role {role!r} is not one of {', '.join(ROLES)}" if role is not None and role not in ROLES else ""
    language = (row.get("language") or "").strip() or None
    return OperatorRow(line, row.get("id") or "", (row.get("name") or "").strip(), role, problem, language)


def read_rma_file(
    path: str | Path | None = None, *, text: str | None = None, kind: str = "", name: str = ""
) -> ParsedFile:
    """Read and check a whole CSV or JSON file of expected returns, or its ``text`` (all in memory: small files).

    ``kind`` ("csv" or "json") and ``name`` (for messages) as for :class:`RmaFile`.
    """
    source = RmaFile(path, text=text, kind=kind, name=name)
    errors = source.check()
    return ParsedFile(list(source.rmas()), sorted(errors), rows=source.rows)


def check_row(row: dict) -> str:
    """The reason a row is refused, or "" when it is good."""
    for column in REQUIRED:
        if not row.get(column):
            return f"{column} is empty"
    for column, value in row.items():
        if len(value) > MAX_FIELD:
            return f"{column} is longer than {MAX_FIELD} characters"
    if row["status"].lower() not in _STATUSES:
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
