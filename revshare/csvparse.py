"""CSV parsing with exact physical line numbers, and the parsers of single cells.

The stdlib :mod:`csv` module is used, never pandas' ``read_csv``: it keeps every value a string, so
nothing (``NA``, ``007``, ``1e400``, an extra field in the first row) is silently reinterpreted, and
``reader.line_num`` gives the physical line where each record starts and ends.

The readers' error codes are listed in :mod:`revshare.readers`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from revshare.errors import Problem
from revshare.schema import MAX_NAME_LENGTH

CANDIDATE_DELIMITERS = ",;\t|"
"""Delimiters recognised in a header that was not split by the configured one."""

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx or .ods workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"%PDF", "a PDF document"),
)
_MARKUP = re.compile(rb"\s*<(?:!doctype html|html|\?xml)", re.IGNORECASE)
_EOL = re.compile(r"\r\n|\r|\n")
_EOL_NAMES = {"\r\n": "CRLF", "\r": "CR", "\n": "LF"}
_SURROGATE = re.compile("[\udc80-\udcff]")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKS = re.compile("[\u200e\u200f\u061c]")  # LRM, RLM, ALM: invisible direction marks
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ are part of Persian and Indic spelling
_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "ARMENIAN", "GEORGIAN"})
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_THOUSANDS = re.compile("[+-]?[0-9]{1,3}([, '\u00a0\u202f])[0-9]{3}(?:\\1[0-9]{3})*(?:\\.[0-9]*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]*),[0-9]+")
_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_UNIT = re.compile(r"[^\W\d_]|[$€£¥%]")
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})


@dataclass
class Log:
    """Problems and notices collected while reading a dataset."""

    problems: list[Problem] = field(default_factory=list)
    notices: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def error(self, file: str, line: int | None, column: str | None, code: str, message: str,
              remedy: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(file, line, column, code, message, remedy))

    def notice(self, file: str, text: str, line: int | None = None) -> None:
        """Record one normalisation; repeats of ``text`` in ``file`` are counted, not repeated."""
        lines = self.notices.setdefault((file, text), [])
        if line is not None:
            lines.append(line)

    def notice_lines(self) -> list[str]:
        """Return one ``notice: FILE: TEXT`` line per kind of normalisation, in order of arrival."""
        out = []
        for (file, text), lines in self.notices.items():
            where = ""
            if lines:
                shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
                where = f" ({len(lines)} {'time' if len(lines) == 1 else 'times'}: line {shown})"
            out.append(f"notice: {file}: {text}{where}")
        return out


@dataclass(frozen=True)
class Record:
    """One CSV record: the physical lines it spans and its cells."""

    line: int
    end: int
    cells: list[str]


@dataclass(frozen=True)
class Table:
    """A parsed CSV file: cleaned header names and the data records with the right field count."""

    header: list[str]
    header_line: int
    rows: list[Record]


class CellError(Exception):
    """A cell cannot be read; carries the problem's code, message and remedy."""

    def __init__(self, code: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.code, self.message, self.remedy = code, message, remedy


def show(value: str, limit: int = 60) -> str:
    """Quote ``value`` for a message, escaping invisible characters and shortening long values."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return "'" + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text) + "'"


def _codepoint(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'CONTROL CHARACTER')}"


def decode(path: str, data: bytes, encoding: str, log: Log) -> str | None:
    """Decode a CSV file's bytes strictly, or record why they are not text (None)."""
    if not data:
        log.error(path, None, None, "E-EMPTY", "the file is empty (0 bytes)",
                  "export the table again, with a header line and data rows")
        return None
    what = next((w for magic, w in _MAGIC if data.startswith(magic)), None)
    if what is None and _MARKUP.match(data[:512]):
        what = "an HTML or XML document (a web page saved as .csv?)"
    if what is not None:
        log.error(path, None, None, "E-BINARY", f"the file is {what}, not CSV text",
                  "open it in its application and save or export it as CSV UTF-8")
        return None
    codec = codecs.lookup(encoding).name
    wide = _wide_encoding(data)
    if wide and not codec.startswith(wide.lower()):
        log.error(path, None, None, "E-ENCODING", f"the file is {wide}, not {encoding}",
                  f"save it as CSV UTF-8, or pass --encoding {wide.lower()}")
        return None
    if data.startswith(codecs.BOM_UTF8) and codec in ("utf-8", "utf-8-sig"):
        data = data[len(codecs.BOM_UTF8):]
        log.notice(path, "stripped a UTF-8 byte-order mark")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        _bad_byte(path, data, exc, encoding, log)
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
        log.notice(path, "stripped a byte-order mark")
    return text


def _wide_encoding(data: bytes) -> str | None:
    """Name the UTF-16/32 encoding that a byte-order mark or a pattern of NUL bytes reveals."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    head = data[:1024]
    nul_share = max(head[0::2].count(0), head[1::2].count(0)) / max(len(head) // 2, 1)
    return "UTF-16" if nul_share > 0.4 else None


def _bad_byte(path: str, data: bytes, exc: UnicodeDecodeError, encoding: str, log: Log) -> None:
    """Report the first byte that ``encoding`` cannot decode, by line, character and column."""
    prefix = data[: exc.start].decode(encoding, "replace")
    breaks = list(_EOL.finditer(prefix))
    line = len(breaks) + 1
    char = len(prefix) - (breaks[-1].end() if breaks else 0) + 1
    column = None
    reader = csv.reader(io.StringIO(data.decode(encoding, "surrogateescape"), newline=""))
    try:
        header = next(reader)
        column = next((header[i].strip() for cells in reader for i, c in enumerate(cells)
                       if _SURROGATE.search(c) and i < len(header)), None)
    except (StopIteration, csv.Error):
        pass
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        high = bytes(b for b in data if b >= 0x80).decode("cp1256")
        arabic = sum(unicodedata.name(c, "").startswith("ARABIC") for c in high)
        hint = f"or pass --encoding {'cp1256' if 2 * arabic > len(high) else 'cp1252'}"
    else:
        hint = "or pass the file's real encoding with --encoding"
    log.error(path, line, column, "E-ENCODING",
              f"byte 0x{data[exc.start]:02X} at character {char} of line {line} is not valid "
              f"{encoding}; the file was not read", f"save the file as CSV UTF-8, {hint}")


def read_records(path: str, text: str, delimiter: str, max_rows: int, log: Log) -> Table | None:
    """Split ``text`` into a header and records, reporting shape problems; None if unusable."""
    kinds = {_EOL_NAMES[m] for m in _EOL.findall(text)}
    if kinds - {"LF"}:
        log.notice(path, f"read {'+'.join(sorted(kinds))} line endings")
    if text[-1:] not in ("\r", "\n"):
        log.notice(path, "the last line has no line break")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[Record] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if _csv_error(path, start, reader.line_num, str(exc), log):
                return None
            continue
        if all(not c.strip() for c in cells):
            log.notice(path, "skipped a blank line", start)
        elif len(records) > max_rows:
            log.error(path, start, None, "E-TOO-LARGE", f"the file has more than {max_rows} "
                      "data rows", "split the dataset, or raise the limit with --max-rows")
            return None
        else:
            records.append(Record(start, reader.line_num, cells))
    if not records:
        log.error(path, None, None, "E-EMPTY", "the file holds only blank lines",
                  "export the table again, with a header line and data rows")
        return None
    head, rows = records[0], records[1:]
    if len(head.cells) == 1:
        seen = [d for d in CANDIDATE_DELIMITERS if d != delimiter and d in head.cells[0]]
        if seen:
            log.error(path, head.line, None, "E-DELIMITER", f"expected {delimiter!r} between "
                      f"columns but the header is split by {seen[0]!r}",
                      f"save as comma-separated CSV, or pass --delimiter {seen[0]!r}")
            return None
    if not rows:
        log.error(path, None, None, "E-NO-ROWS", "the file has a header line but no data rows",
                  "add one row per record below the header")
    width = len(head.cells)
    for rec in rows:
        if len(rec.cells) != width:
            span = f" (the record spans lines {rec.line}-{rec.end}: an unclosed quote?)" \
                if rec.end > rec.line else ""
            log.error(path, rec.line, None, "E-FIELD-COUNT", f"line {rec.line} has "
                      f"{len(rec.cells)} fields but the header has {width}{span}",
                      f"give every row {width} fields; quote values that contain {delimiter!r}")
    return Table(_header(path, head, log), head.line,
                 [rec for rec in rows if len(rec.cells) == width])


def _csv_error(path: str, start: int, end: int, error: str, log: Log) -> bool:
    """Report a csv module error; return whether the rest of the file is unusable."""
    if "field limit" in error:
        log.error(path, start, None, "E-TOO-LARGE", f"a field starting on line {start} is "
                  f"longer than {csv.field_size_limit()} characters (an unclosed quote?)",
                  "close the quote, or shorten the value")
        return True
    log.error(path, start, None, "E-QUOTE", f"the quoting of the record starting on line {start} "
              f"is broken ({error}, line {end})", 'close each quote; write a quote inside a '
              'quoted value as ""')
    return False


def _header(path: str, head: Record, log: Log) -> list[str]:
    """Clean the header names and report blank and duplicated ones."""
    names = []
    for i, raw in enumerate(head.cells, 1):
        notes: list[str] = []
        try:
            name = clean_cell(raw, notes)
        except CellError as exc:
            log.error(path, head.line, None, exc.code, f"column {i} of the header: {exc.message}",
                      exc.remedy)
            name = raw.strip()
        if name != raw:
            log.notice(path, f"stripped whitespace or marks around the column name {show(name)}")
        if not name:
            log.error(path, head.line, None, "E-BLANK-HEADER", f"column {i} of the header has "
                      "no name", "name the column, or delete it (a trailing delimiter?)")
        elif name in names:
            log.error(path, head.line, name, "E-DUP-COLUMN", f"column {show(name)} appears "
                      f"twice, at positions {names.index(name) + 1} and {i}",
                      "delete or rename one of them")
        names.append(name)
    return names


def clean_cell(raw: str, notes: list[str]) -> str:
    """Reject control and bidi-override characters; strip direction marks and whitespace.

    Parameters
    ----------
    raw : str
        The cell as the CSV holds it.
    notes : list of str
        Receives one text per normalisation applied.

    Returns
    -------
    str
        The cleaned cell.

    Raises
    ------
    CellError
        ``E-CONTROL-CHAR`` or ``E-BIDI-CONTROL``.
    """
    for i, ch in enumerate(raw, 1):
        if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            raise CellError("E-CONTROL-CHAR", f"{show(raw)} holds the control character "
                            f"{_codepoint(ch)} at character {i}",
                            "delete it; values cannot hold control characters or line breaks")
        if ch in _BIDI:
            raise CellError("E-BIDI-CONTROL", f"{show(raw)} holds the bidi control "
                            f"{_codepoint(ch)} at character {i}",
                            "delete it; embedding and override controls can reorder text on screen")
    text = _MARKS.sub("", raw)
    if text != raw:
        notes.append("removed left-to-right or right-to-left marks from a value")
    if text.strip() != text:
        notes.append("stripped whitespace around a value")
    return text.strip()


def parse_name(text: str, notes: list[str]) -> str:
    """Check and NFC-normalise a cleaned, non-empty name (region, faction, field or bloc).

    Raises
    ------
    CellError
        ``E-INVISIBLE-CHAR``, ``E-TOO-LONG`` or ``E-MIXED-SCRIPT``.
    """
    for i, ch in enumerate(text, 1):
        if unicodedata.category(ch) == "Cf" and ch not in _JOINERS:
            raise CellError("E-INVISIBLE-CHAR", f"{show(text)} holds the invisible character "
                            f"{_codepoint(ch)} at character {i}",
                            "delete it; names that look alike must be alike")
    name = unicodedata.normalize("NFC", text)
    if name != text:
        notes.append("NFC-normalised a name")
    if len(name) > MAX_NAME_LENGTH:
        raise CellError("E-TOO-LONG", f"the name {show(name)} is {len(name)} characters long",
                        f"shorten it to at most {MAX_NAME_LENGTH} characters")
    for word in _WORD.findall(name):
        scripts = {s for c in word if (s := unicodedata.name(c, "").split(" ")[0]) in _SCRIPTS}
        if len(scripts) > 1:
            raise CellError("E-MIXED-SCRIPT", f"the word {show(word)} in {show(name)} mixes "
                            f"{' and '.join(sorted(s.title() for s in scripts))} letters",
                            "retype it in one script (a look-alike letter was pasted in?)")
    return name


def parse_number(text: str, notes: list[str]) -> float:
    """Parse a cleaned, non-empty number strictly.

    Raises
    ------
    CellError
        ``E-FORMULA``, ``E-NON-ASCII-DIGIT``, ``E-NON-FINITE``, ``E-THOUSANDS``,
        ``E-DECIMAL-COMMA``, ``E-UNIT-IN-VALUE`` or ``E-NOT-A-NUMBER``.
    """
    if _NUMBER.fullmatch(text):
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise CellError("E-NON-FINITE", f"{show(text)} overflows a 64-bit float",
                            "check the value; it is far beyond any plausible magnitude")
        if text.startswith("+"):
            notes.append("removed a leading '+' from a number")
        if "e" in text.lower():
            notes.append("read a number in scientific notation")
        return value
    if text.startswith("="):
        raise CellError("E-FORMULA", f"{show(text)} is a spreadsheet formula, not a number",
                        "paste the value instead of the formula")
    if any(c.isdecimal() and not c.isascii() for c in text):
        ascii_ = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
        raise CellError("E-NON-ASCII-DIGIT", f"{show(text)} is written with non-ASCII digits",
                        f"write it with ASCII digits: {show(ascii_)}")
    if _NON_FINITE.fullmatch(text):
        raise CellError("E-NON-FINITE", f"{show(text)} is not a finite number",
                        "give the actual value")
    if _THOUSANDS.fullmatch(text):
        raise CellError("E-THOUSANDS", f"{show(text)} has a thousands separator",
                        "remove the separators (write 1000, not 1,000); if the comma is a "
                        "decimal comma, write a point")
    if _DECIMAL_COMMA.fullmatch(text):
        raise CellError("E-DECIMAL-COMMA", f"{show(text)} has a decimal comma",
                        "use a point as the decimal separator (write 1.5, not 1,5)")
    if any(c.isdigit() for c in text) and _UNIT.search(text):
        raise CellError("E-UNIT-IN-VALUE", f"{show(text)} carries a unit, currency or scale",
                        "write the plain number in the column's unit (see the column dictionary)")
    raise CellError("E-NOT-A-NUMBER", f"{show(text)} is not a number", "write a decimal number")


def parse_bool(text: str) -> bool:
    """Parse a cleaned, non-empty yes/no value (``CellError`` ``E-NOT-A-BOOL`` if it is not)."""
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise CellError("E-NOT-A-BOOL", f"{show(text)} is not a yes/no value",
                    "write true or false (yes/no and 1/0 are accepted too)")
