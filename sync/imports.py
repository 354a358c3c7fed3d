"""Reading files of expected returns (CSV or JSON) into validated RMAs.

CSV: a header row, then one row per RMA line; rows sharing an ``rma_code``
are one RMA.  Columns (see README): rma_code, order_ref, customer_name,
tracking_number, reason, status, sku, gtin, description, qty, category, and
optionally value (the unit value, a number ≥ 0: routing rules' value thresholds),
refund_policy (``on_receipt`` or ``after_inspection``, the default: when the server decides
the refund; the station keeps nothing of it), customer (the ERP's customer id or e-mail:
the server matches returns by it and never shows it; a station does not keep it),
lot (the batch the item came from) and supplier (who made or sold it; the
return analytics group by both), at most ``MAX_TAG`` characters each, and
priority (a lower-case word like ``express``, default ``standard``: the SLA limits of
that priority apply, see :mod:`sync.sla`).
Several tracking numbers for one RMA are separated by ``|`` or given on
different rows.

JSON: a list of RMAs, each either shaped like a CSV row or with a ``lines``
list of {sku, gtin, description, qty, category, value, lot, supplier}.

A bad row is reported with the line it starts on and the reason; the rest of
its RMA is still checked, and an RMA with any bad row is not loaded at all —
half an RMA would be worse than none.  A file that cannot be read reliably
(text in none of the encodings tried, a column twice in the header, a quote
left open, a field of more than ``csv.field_size_limit()`` characters, JSON
that is broken or nested too deeply) is refused as a whole:
:class:`ImportFileError`, nothing imported.

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

Encodings (:func:`detect_encoding`, the one place both readers decode): a
byte-order mark decides (UTF-8, or UTF-16LE/BE — Excel's "Unicode text", whose
columns are tabs); ``--encoding`` names any other; else the whole file is run
through a strict UTF-8 decoder and, if that fails, a strict GB18030 decoder
(GB18030 reads every GBK and GB2312 file), and the first that decodes every
byte is used.  The order is what makes this safe: strict UTF-8 rarely accepts
GBK text — of the 6,763 GB2312 hanzi, 13.8% encoded alone in GBK are valid
UTF-8, two together 2%, four 0.05%, eight never in 200,000 samples — while
GB18030 accepts UTF-8 Chinese almost always (97% of two-hanzi words), so
GB18030 first would turn most UTF-8 files into nonsense.  What is left is a
file whose only Chinese is a few hanzi (谢伟 in GBK is valid UTF-8, "лΰ"):
``--encoding gbk`` settles it.  The whole file is checked, not its head: a
GBK file may be ASCII for a million rows before the first name in Chinese.
The check streams (one chunk of ``_CHUNK`` bytes at a time), so it costs one
more read of the file, never its size in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from gettext import gettext as _
from pathlib import Path
from typing import TextIO

from sync.protocol import DEFAULT_PRIORITY, PRIORITY_PATTERN
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
    "value",
    "customer",
    "refund_policy",
    "lot",
    "supplier",
    "priority",
)
MAX_FIELD = 500
MAX_TAG = 64  # characters of a lot or supplier (the server's reports group by them)
MAX_JSON_RMA = 4 * 1024 * 1024  # characters of one RMA in a JSON list
MAX_JSON_OBJECT = 32 * 1024 * 1024  # characters of a file whose top level is one JSON object
_CHUNK = 256 * 1024
_NOTHING = "nothing imported"
_STATUSES = {status: status for status in ("authorized", "cancelled", "expired")}
REFUND_POLICIES = ("on_receipt", "after_inspection")


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
    """The file as a whole cannot be read (missing, undecodable, no header, broken); nothing is imported."""


# Tried in this order when the file has no byte-order mark and no encoding is named (see the module's doc).
DETECTED = ("utf-8", "gb18030")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_SHOWN = {"utf-8": "UTF-8", "gb18030": "GB18030", "gbk": "GBK", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}


@dataclass(frozen=True)
class TextEncoding:
    """How a file's bytes are read: the codec, the bytes of byte-order mark skipped, the name shown."""

    codec: str
    skip: int = 0

    @property
    def name(self) -> str:
        """The encoding as a person reads it: UTF-8, GB18030, UTF-16LE, ..."""
        return _SHOWN.get(self.codec, self.codec.upper())

    @property
    def is_utf8(self) -> bool:
        """True for UTF-8 (the default, not worth mentioning in a summary)."""
        return self.codec == "utf-8"

    def open(self, path: str | Path) -> TextIO:
        """The file as text in this encoding (strict), past its byte-order mark, newlines as they are."""
        raw = open(path, "rb")  # noqa: SIM115 - handed to the wrapper, which closes it
        try:
            raw.seek(self.skip)
            return io.TextIOWrapper(raw, encoding=self.codec, errors="strict", newline="")
        except Exception:
            raw.close()
            raise


def codec_name(encoding: str) -> str:
    """The codec Python knows by ``encoding`` ("GBK", "utf8", "cp936"...); ValueError when it is none."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):
        raise ValueError(
            _("{encoding!r} is not an encoding Python knows (e.g. utf-8, gbk, gb18030, utf-16)").format(
                encoding=encoding
            )
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(_("{encoding!r} is not a text encoding").format(encoding=encoding))
    return info.name


def detect_encoding(path: str | Path, encoding: str = "", *, name: str = "") -> TextEncoding:
    """How to read the text file ``path``: its byte-order mark, else ``encoding``, else UTF-8 or GB18030.

    Every byte is decoded once, as a stream (see the module's doc for why this order is safe).
    Raises :class:`ImportFileError` (one line: each encoding tried, with the byte and line where it
    failed) when no candidate decodes the whole file, or when the file cannot be read.
    """
    shown = name or str(path)
    try:
        with open(path, "rb") as raw:
            head = raw.read(4)
    except OSError as exc:
        raise ImportFileError(_("cannot read {path}: {reason}").format(path=path, reason=exc.strerror)) from exc
    bom = next(((len(mark), codec) for mark, codec in _BOMS if head.startswith(mark)), None)
    if encoding:
        try:
            named = codec_name(encoding)
        except ValueError as exc:
            raise ImportFileError(f"{shown}: {exc}") from None
        if named == "utf-8-sig":  # UTF-8 whose mark, if any, is skipped: what is done for UTF-8 anyway
            named = "utf-8"
        if named == "utf-16" and bom:  # its own mark says which byte order
            named = bom[1]
        skip = bom[0] if bom and bom[1] == named else 0
        candidates = [TextEncoding(named, skip)]
    elif bom:
        candidates = [TextEncoding(bom[1], bom[0])]
    else:
        candidates = [TextEncoding(codec) for codec in DETECTED]
    failures = []
    for candidate in candidates:
        where = _first_undecodable(path, candidate)
        if where is None:
            return candidate
        failures.append(
            _("not {encoding} (byte {byte}, line {line})").format(encoding=candidate.name, byte=where[0], line=where[1])
        )
    hint = (
        _("name its encoding with --encoding")
        if encoding
        else _("save it as UTF-8 (Excel: CSV UTF-8) or name its encoding with --encoding")
    )
    raise ImportFileError(
        _("{file} cannot be read as text: {failures}; {hint} — {nothing}").format(
            file=shown, failures=", ".join(failures), hint=hint, nothing=_NOTHING
        )
    )


def _first_undecodable(path: str | Path, encoding: TextEncoding) -> tuple[int, int] | None:
    """The byte offset and line of the first byte ``encoding`` cannot decode, or None when all decode."""
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="strict")
    offset, lines = encoding.skip, 1  # bytes fed to the decoder so far, and lines in what it gave back
    try:
        with open(path, "rb") as raw:
            raw.seek(encoding.skip)
            while True:
                chunk = raw.read(_CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    # exc.object is what the decoder held back from the last chunk, then this chunk
                    start = offset - (len(exc.object) - len(chunk))
                    before = exc.object[: exc.start].decode(encoding.codec, errors="replace")
                    return start + exc.start, lines + before.count("\n")
                if not chunk:
                    return None
                offset += len(chunk)
                lines += text.count("\n")
    except OSError as exc:
        raise ImportFileError(_("cannot read {path}: {reason}").format(path=path, reason=exc.strerror)) from exc


# One row as the readers hand it on: (line it starts on, cleaned row or None, problem, RMA code).
Row = tuple[int, "dict | None", str, str]


@dataclass(slots=True)
class _Note:
    """What the check remembers of one RMA code until the load (kept small: one per RMA)."""

    first_row: int
    status: str = ""
    policy: str = ""  # the refund policy of its first row that names one
    priority: str = ""  # the priority of its first row that names one
    rows: int = 0  # good rows
    bad: bool = False

    def agrees(self, field: str, value: str) -> bool:
        """Keep an RMA-wide ``value`` of the first row that gives one; False when a later row gives another."""
        if value and not getattr(self, field):
            setattr(self, field, value)
        return not value or getattr(self, field) == value


class RmaFile:
    """A CSV or JSON file of expected returns, read as a stream: :meth:`check` it, then load :meth:`rmas`."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        text: str | None = None,
        kind: str = "",
        name: str = "",
        encoding: str = "",
    ):
        """``encoding`` names the file's encoding; without it, it is found (:func:`detect_encoding`)."""
        self.path = Path(path) if path is not None else None
        self.name = name or str(path if path is not None else f"<{kind}>")
        self._text = text
        self.cleaned = 0  # fields that had control or invisible characters removed
        self.rows = 0
        self.lines_loaded = 0
        self._notes: dict[str, _Note] | None = None
        self.encoding = TextEncoding("utf-8")  # a text given is text already
        self.delimiter = ","
        if text is None:
            if self.path is None:
                raise TypeError("RmaFile reads a path or a text; neither was given")
            self.encoding = detect_encoding(self.path, encoding, name=self.name)
            with self._open() as stream:
                head = stream.read(4096)
            start = head.lstrip()[:1]
            kind = kind or ("json" if self.path.suffix.lower() == ".json" or start in ("[", "{") else "csv")
            first_line = head.split("\n", 1)[0]
            if self.encoding.codec.startswith("utf-16") and "\t" in first_line and "," not in first_line:
                self.delimiter = "\t"  # Excel's "Unicode text": UTF-16 with tabs between the columns
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
                report(
                    where,
                    _("status {status!r} differs from the first row of {code} (line {line})").format(
                        status=row["status"], code=code, line=note.first_row
                    ),
                )
                note.bad = True
                continue
            if not note.agrees("policy", refund_policy(row.get("refund_policy", ""))):
                report(
                    where,
                    _("refund_policy {policy!r} differs from the one given before for {code}").format(
                        policy=row["refund_policy"], code=code
                    ),
                )
                note.bad = True
                continue
            if not note.agrees("priority", priority_name(row.get("priority", ""))):
                report(
                    where,
                    _("priority {priority!r} differs from the one given before for {code}").format(
                        priority=row["priority"], code=code
                    ),
                )
                note.bad = True
                continue
            note.rows += 1
        for code, note in notes.items():
            if note.bad and note.rows:
                report(note.first_row, _("RMA {code} not loaded because of the errors above").format(code=code))
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
                            **({"customer": row["customer"]} if row.get("customer") else {}),
                            **({"refund_policy": note.policy} if note.policy else {}),
                            **({"priority": note.priority} if note.priority not in ("", DEFAULT_PRIORITY) else {}),
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
                    "value": unit_value(row.get("value", "")),
                    # only when given: a line without them is the record it always was
                    **{tag: row[tag] for tag in ("lot", "supplier") if row.get(tag)},
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
            raise ImportFileError(_("{file} changed while it was imported; import it again").format(file=self.name))

    # --- reading rows -----------------------------------------------------------------------

    def _open(self) -> TextIO:
        if self._text is not None:
            return io.StringIO(self._text, newline="")
        assert self.path is not None  # __init__ refuses neither a path nor a text
        try:
            return self.encoding.open(self.path)
        except OSError as exc:
            raise ImportFileError(_("cannot read {file}: {error}").format(file=self.path, error=exc.strerror)) from exc

    def _rows(self, *, count_cleaned: bool) -> Iterator[Row]:
        self._count_cleaned = count_cleaned
        with self._open() as stream:
            try:
                yield from (self._json_rows(stream) if self.kind == "json" else self._csv_rows(stream))
            except UnicodeDecodeError:  # it decoded when it was detected: it was changed since
                raise ImportFileError(
                    _(
                        "{file} is no longer {encoding} text (near line {line}); it changed while it was imported; "
                        "import it again — {nothing}"
                    ).format(file=self.name, encoding=self.encoding.name, line=self._line, nothing=_NOTHING)
                ) from None

    def _clean(self, value: object) -> str:
        text = value if type(value) is str else "" if value is None else str(value)
        if text.isprintable():
            return text.strip()  # the common case, kept fast: a 70 MB file has millions of fields
        cleaned = clean_text(text)
        if cleaned != text and self._count_cleaned:
            self.cleaned += 1
        return cleaned.strip()

    # CSV

    def _csv_rows(self, stream: TextIO) -> Iterator[Row]:
        reader = csv.reader(stream, delimiter=self.delimiter)
        self._line = 1
        try:
            first = next(reader, [])
        except csv.Error as exc:
            raise ImportFileError(
                _("{file}:1: the header cannot be read: {error} — nothing imported").format(file=self.name, error=exc)
            ) from None
        header = [h.strip().lower() for h in first]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            hint = ""
            if len(header) == 1 and ";" in header[0]:
                hint = _("; the columns seem separated by ';' — save the file as CSV with commas")
            elif len(header) == 1 and "\t" in header[0]:
                hint = _("; the columns seem separated by tabs — save the file as CSV with commas")
            if not self.encoding.is_utf8:  # a file misread shows as a header of nonsense
                hint += _("; read as {encoding} (name another with --encoding)").format(encoding=self.encoding.name)
            raise ImportFileError(
                _("{file}: header lacks column(s) {missing}; expected {columns}{hint}").format(
                    file=self.name, missing=", ".join(missing), columns=", ".join(COLUMNS), hint=hint
                )
            )
        seen: dict[str, int] = {}
        for number, column in enumerate(header, 1):
            if column and column in seen:
                raise ImportFileError(
                    _(
                        "{file}:1: column {column!r} appears twice in the header (columns {first} and {second}); "
                        "remove one — nothing imported"
                    ).format(file=self.name, column=column, first=seen[column], second=number)
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
                        _(
                            "{file}:{line}: a field of more than {limit} characters starts on this row "
                            "(a quote left open?) — nothing imported"
                        ).format(file=self.name, line=start, limit=limit)
                    ) from None
                raise ImportFileError(
                    _("{file}:{line}: {error} — nothing imported").format(file=self.name, line=start, error=exc)
                ) from None
            if not cells:
                continue  # a blank line
            # a row over lines; a short row pairs only the cells it has (strict=False)
            for column, cell in zip(header, cells, strict=False) if reader.line_num > start else ():
                if ("\n" in cell or "\r" in cell) and ("," in cell or len(cell) > MAX_FIELD):
                    raise ImportFileError(
                        _(
                            "{file}:{line}: a quote opened on this line is not closed until line {end} "
                            "(column {column} swallows {count} line(s)); close the quote — nothing imported"
                        ).format(
                            file=self.name,
                            line=start,
                            end=reader.line_num,
                            column=column or "?",
                            count=reader.line_num - start,
                        )
                    )
            if len(cells) > len(header):
                yield (
                    start,
                    None,
                    _("more cells than the header has columns"),
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
            data = reader.value(MAX_JSON_OBJECT, _("a JSON object at the top of the file"))
            if reader.skip_space():
                raise reader.error(_("not valid JSON: extra data after the object"))
            items = data.get("rmas", [data])
            if not isinstance(items, list):
                raise ImportFileError(
                    _('{file}: "rmas" must be a list of RMAs — nothing imported').format(file=self.name)
                )
            for item in items:
                yield from self._json_item(item, line)
            return
        if first != "[":
            raise ImportFileError(
                _("{file}: expected a list of RMAs ([...]) — nothing imported").format(file=self.name)
            )
        reader.pos += 1
        if reader.skip_space() == "]":
            reader.pos += 1
        else:
            while True:
                line = self._line = reader.line_at()
                item = reader.value(MAX_JSON_RMA, _("one RMA"))
                yield from self._json_item(item, line)
                after = reader.skip_space()
                reader.pos += 1
                if after == "]":
                    break
                if after != ",":
                    raise reader.error(_("not valid JSON: expected ',' or ']' after an RMA"))
                reader.skip_space()
        if reader.skip_space():
            raise reader.error(_("not valid JSON: extra data after the list"))

    def _json_item(self, item: object, line: int) -> Iterator[Row]:
        if not isinstance(item, dict):
            yield line, None, _("not an object (an RMA is {...})"), ""
            return
        head = {k: self._clean(v) for k, v in item.items() if k != "lines"}
        if isinstance(item.get("tracking_number"), list):
            head["tracking_number"] = "|".join(self._clean(v) for v in item["tracking_number"])
        code = head.get("rma_code", "").upper()
        lines = item.get("lines")
        if lines is None:
            yield line, head, "", code
        elif not isinstance(lines, list) or not lines:
            yield line, None, _("lines must be a non-empty list"), code
        else:
            for number, ln in enumerate(lines, 1):
                if not isinstance(ln, dict):
                    problem = (
                        _("{code}: line {number} of its lines is not an object")
                        if code
                        else _("an RMA: line {number} of its lines is not an object")
                    )
                    yield line, None, problem.format(code=code, number=number), code
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
        return ImportFileError(
            _("{file}:{line}: {problem} — nothing imported").format(file=self.name, line=self.line_at(), problem=reason)
        )

    def value(self, limit: int, what: str):
        """Decode the value at the current position, reading more of the file as it needs."""
        start_line = self.line_at()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > limit:
                    raise ImportFileError(
                        _(
                            "{file}:{line}: {what} of more than {limit} characters starts here "
                            "(or the JSON is broken from here) — nothing imported"
                        ).format(file=self.name, line=start_line, what=what, limit=limit)
                    ) from None
                where = self.line + exc.lineno - 1  # before _more() moves the buffer
                if self._more():
                    continue
                raise ImportFileError(
                    _("{file}:{line}: not valid JSON: {error} — nothing imported").format(
                        file=self.name, line=where, error=exc.msg
                    )
                ) from None
            except RecursionError:
                raise ImportFileError(
                    _("{file}:{line}: JSON nested too deeply to be an RMA — nothing imported").format(
                        file=self.name, line=start_line
                    )
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


def read_operator_file(path: str | Path, encoding: str = "") -> list[OperatorRow]:
    """Read a CSV file of operators with a header row: id, name, role (encodings as for RMA files).

    Raises :class:`ImportFileError` when the file cannot be read or its header names no ``id`` column.
    """
    name = str(path)
    try:
        if not Path(path).exists():
            raise FileNotFoundError(path)
        found = detect_encoding(path, encoding, name=name)
        with found.open(path) as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "id" not in reader.fieldnames:
                raise ImportFileError(
                    _("{file}:1: the header row must name the columns id, name, role").format(file=name)
                )
            return [_operator_row(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise ImportFileError(_("{file}: no such file").format(file=name)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(_("{file}: cannot read operators: {error}").format(file=name, error=exc)) from exc


def _operator_row(line: int, row: dict) -> OperatorRow:
    # here, not at the top: the central server reads RMA files with this module and has no station store
    from sync.store import ROLES

    role = (row.get("role") or "").strip().lower() or None
    problem = (
        _("role {role!r} is not one of {roles}").format(role=role, roles=", ".join(ROLES))
        if role is not None and role not in ROLES
        else ""
    )
    language = (row.get("language") or "").strip() or None
    return OperatorRow(line, row.get("id") or "", (row.get("name") or "").strip(), role, problem, language)


def read_rma_file(
    path: str | Path | None = None, *, text: str | None = None, kind: str = "", name: str = "", encoding: str = ""
) -> ParsedFile:
    """Read and check a whole CSV or JSON file of expected returns, or its ``text`` (all in memory: small files).

    ``kind`` ("csv" or "json"), ``name`` (for messages) and ``encoding`` as for :class:`RmaFile`.
    """
    source = RmaFile(path, text=text, kind=kind, name=name, encoding=encoding)
    errors = source.check()
    return ParsedFile(list(source.rmas()), sorted(errors), rows=source.rows)


def check_row(row: dict) -> str:
    """The reason a row is refused, or "" when it is good."""
    for column in REQUIRED:
        if not row.get(column):
            return _("{column} is empty").format(column=column)
    for column, value in row.items():
        if len(value) > MAX_FIELD:
            return _("{column} is longer than {most} characters").format(column=column, most=MAX_FIELD)
    if row["status"].lower() not in _STATUSES:
        return _("status {status!r} is not authorized, cancelled or expired").format(status=row["status"])
    try:
        qty = int(row["qty"])
    except ValueError:
        return _("qty {qty!r} is not a whole number").format(qty=row["qty"])
    if qty < 1:
        return _("qty {qty} must be at least 1").format(qty=qty)
    value = (row.get("value") or "").strip()
    if value and unit_value(value) is None:
        return _("value {value!r} is not a number ≥ 0 (the unit value, e.g. 129.90)").format(value=value)
    policy = (row.get("refund_policy") or "").strip()
    if policy and not refund_policy(policy):
        return _("refund_policy {policy!r} is not on_receipt or after_inspection").format(policy=policy)
    priority = (row.get("priority") or "").strip()
    if priority and not priority_name(priority):
        return _("priority {priority!r} is not one word like express (letters, digits, - or _; at most 32)").format(
            priority=priority
        )
    for tag in ("lot", "supplier"):
        if len(row.get(tag) or "") > MAX_TAG:
            return _("{column} is longer than {most} characters").format(column=tag, most=MAX_TAG)
    gtin = row.get("gtin", "")
    if gtin and not (gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and _gtin_ok(gtin)):
        return _("gtin {gtin!r} is not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)").format(
            gtin=gtin
        )
    return ""


def refund_policy(text: str) -> str:
    """A refund policy as written ("On receipt", "after-inspection") as its name, "" when empty or none."""
    name = "_".join(str(text).strip().lower().replace("-", " ").split())
    return name if name in REFUND_POLICIES else ""


def priority_name(text: str) -> str:
    """A priority as written ("Express", " vip ") as its name, "" when it is empty or not one short word."""
    name = str(text).strip().lower()
    return name if re.fullmatch(PRIORITY_PATTERN, name) else ""


def unit_value(text: str) -> float | None:
    """A line's unit value as a number ("12.50" or "12,50"), None when it is empty or not a number ≥ 0."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None


def _gtin_ok(gtin: str) -> bool:
    digits = [int(d) for d in gtin]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]
