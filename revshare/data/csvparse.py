"""From a path to typed rows: safe file access, strict decoding, exact physical line numbers.

The stdlib :mod:`csv` module is used, never pandas' ``read_csv``: every value stays a string, so
nothing (``NA``, ``007``, ``1e400``, an extra field in the first row) is silently reinterpreted,
and ``reader.line_num`` gives the physical line where each record starts, whatever quoted line
breaks, blank lines or line endings come before it. Problem codes are listed in
:mod:`revshare.data.readers`.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple

from revshare.data.schema import CellError, FileSchema, clean_cell, show
from revshare.errors import Problem

CANDIDATE_DELIMITERS = ",;\t|"
"""Delimiters recognised in a header that the configured delimiter did not split."""

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
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
Row = dict[str, Any]
"""One parsed record: column name to value (None where the cell was invalid), plus ``_line``."""
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Log:
    """Problems and notices collected while reading a dataset (empty at first)."""

    __slots__ = ("notices", "problems")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.notices: dict[tuple[str, str], list[int]] = {}

    def error(
        self, file: str, line: int | None, column: str | None, code: str, message: str, remedy: str
    ) -> None:
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
                many = len(lines) > 1
                where = f" ({len(lines)} time{'s' * many}; line{'s' * many} {shown})"
            out.append(f"notice: {file}: {text}{where}")
        return out


class Record(NamedTuple):
    """One CSV record: the physical lines it spans and its cells."""

    line: int
    end: int
    cells: list[str]


class Table(NamedTuple):
    """A parsed CSV file: cleaned header names and the data records with the right field count."""

    header: list[str]
    header_line: int
    rows: list[Record]
    complete: bool


def read_file(
    path: str, role: str, max_bytes: int, seen: dict[tuple[int, int], str], log: Log
) -> bytes | None:
    """Read a regular file within the size limit, refusing anything else before opening it.

    Parameters
    ----------
    path : str
        The path as the user gave it.
    role : str
        What the file is for ("fields", ...), for messages.
    max_bytes : int
        Larger files are refused.
    seen : dict
        (device, inode) of the files already read, to their role; updated.
    log : Log
        Receives the problems.

    Returns
    -------
    bytes or None
        The file's bytes, or None after a problem.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        log.error(
            path, None, None, "E-NOT-FOUND", f"the {role} file does not exist", "check the path"
        )
        return None
    except OSError as exc:
        log.error(
            path,
            None,
            None,
            "E-UNREADABLE",
            f"cannot read the file: {exc.strerror}",
            "check the path and its permissions",
        )
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "special")
        log.error(
            path,
            None,
            None,
            "E-NOT-A-FILE",
            f"the path is {kind}, not a regular file",
            f"pass the {role} file itself",
        )
        return None
    if (st.st_dev, st.st_ino) in seen:
        log.error(
            path,
            None,
            None,
            "E-SAME-FILE",
            f"the same file is given as {seen[st.st_dev, st.st_ino]} and as {role}",
            "give each role its own file",
        )
        return None
    seen[st.st_dev, st.st_ino] = role
    data = b""
    try:
        if st.st_size <= max_bytes:
            with Path(path).open("rb") as handle:
                data = handle.read(max_bytes + 1)
    except OSError as exc:
        log.error(
            path,
            None,
            None,
            "E-UNREADABLE",
            f"cannot read the file: {exc.strerror}",
            "check its permissions",
        )
        return None
    if st.st_size > max_bytes or len(data) > max_bytes:
        log.error(
            path,
            None,
            None,
            "E-TOO-LARGE",
            f"the file is larger than the limit of {max_bytes} bytes",
            "split the dataset, or raise the limit `max_bytes`",
        )
        return None
    return data


def decode(path: str, data: bytes, encoding: str, delimiter: str, log: Log) -> str | None:
    """Decode a CSV file's bytes strictly, or record why they are not text (None)."""
    if not data:
        log.error(
            path,
            None,
            None,
            "E-EMPTY",
            "the file is empty (0 bytes)",
            "export the table again, with a header line and data rows",
        )
        return None
    what = next((w for magic, w in _MAGIC if data.startswith(magic)), None)
    if what is None and _MARKUP.match(data[:512]):
        what = "an HTML or XML document (a web page saved as .csv?)"
    if what is not None:
        log.error(
            path,
            None,
            None,
            "E-BINARY",
            f"the file is {what}, not CSV text",
            "open it in its application and save or export it as CSV UTF-8",
        )
        return None
    codec = codecs.lookup(encoding).name
    wide = _wide_encoding(data)
    if wide and not codec.startswith(wide.lower()):
        log.error(
            path,
            None,
            None,
            "E-ENCODING",
            f"the file is {wide}, not {encoding}",
            f"save it as CSV UTF-8, or pass `encoding={wide.lower()}`",
        )
        return None
    if data.startswith(codecs.BOM_UTF8) and codec in ("utf-8", "utf-8-sig"):
        data = data[len(codecs.BOM_UTF8) :]
        log.notice(path, "stripped a UTF-8 byte-order mark")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        _bad_byte(path, data, exc, encoding, delimiter, log)
        return None
    if text.startswith("\ufeff"):
        log.notice(path, "stripped a byte-order mark")
    return text.removeprefix("\ufeff")


def _wide_encoding(data: bytes) -> str | None:
    """Name the UTF-16/32 encoding that a byte-order mark or a pattern of NUL bytes reveals."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    head = data[:1024]
    nuls = max(head[0::2].count(0), head[1::2].count(0))
    return "UTF-16" if nuls > 0.4 * max(len(head) // 2, 1) else None


def _bad_byte(
    path: str, data: bytes, exc: UnicodeDecodeError, encoding: str, delimiter: str, log: Log
) -> None:
    """Report the first byte ``encoding`` cannot decode: its line, character and column."""
    prefix = data[: exc.start].decode(encoding, "replace")
    breaks = list(_EOL.finditer(prefix))
    line, char = len(breaks) + 1, len(prefix) - (breaks[-1].end() if breaks else 0) + 1
    column = None
    try:
        reader = csv.reader(
            io.StringIO(data.decode(encoding, "surrogateescape"), newline=""), delimiter=delimiter
        )
        header = next(reader)
        if not _SURROGATE.search("".join(header)):
            column = next(
                (
                    header[i].strip()
                    for cells in reader
                    for i, c in enumerate(cells)
                    if i < len(header) and _SURROGATE.search(c)
                ),
                None,
            )
    except (StopIteration, csv.Error, UnicodeDecodeError):
        pass
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        # Arabic words in cp1256 are runs of high bytes; accents in cp1252 stand alone in words.
        run = _HIGH_RUN.match(data, exc.start)
        before = data[exc.start - 1] if exc.start else 0
        arabic = run is not None and (run.end() - exc.start > 1 or before >= 0x80)
        hint = f"or pass `encoding={'cp1256' if arabic else 'cp1252'!r}`"
    else:
        hint = "or pass the file's real encoding as `encoding`"
    log.error(
        path,
        line,
        column,
        "E-ENCODING",
        f"byte 0x{data[exc.start]:02X} at character "
        f"{char} of line {line} is not valid {encoding}; nothing of the file was read",
        f"save the file as CSV UTF-8, {hint}",
    )


def read_records(
    path: str, text: str, schema: FileSchema, delimiter: str, max_rows: int, log: Log
) -> Table | None:
    """Split ``text`` into a header and records, reporting shape problems.

    Returns
    -------
    Table or None
        None when the file is unusable (no header, wrong delimiter, too large); the table's
        ``complete`` is False when records were dropped (broken quoting, wrong field count).
    """
    kinds = {_EOL_NAMES[m] for m in _EOL.findall(text)}
    if kinds - {"LF"}:
        log.notice(path, f"read {'+'.join(sorted(kinds))} line endings")
    if text[-1:] not in ("\r", "\n"):
        log.notice(path, "the last line has no line break")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[Record] = []
    complete = True
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if _csv_error(path, start, reader.line_num, str(exc), log):
                return None
            complete = False
            continue
        if all(not c.strip() for c in cells):
            log.notice(path, "skipped a blank line", start)
        elif len(records) > max_rows:
            log.error(
                path,
                start,
                None,
                "E-TOO-LARGE",
                f"the file has more than {max_rows} data rows",
                "split the dataset, or raise `max_rows`",
            )
            return None
        else:
            records.append(Record(start, reader.line_num, cells))
    if not records:
        log.error(
            path,
            None,
            None,
            "E-EMPTY",
            "the file holds only blank lines",
            "export the table again, with a header line and data rows",
        )
        return None
    head, rows = records[0], records[1:]
    seen = [d for d in CANDIDATE_DELIMITERS if d != delimiter and d in head.cells[0]]
    if len(head.cells) == 1 and seen:
        log.error(
            path,
            head.line,
            None,
            "E-DELIMITER",
            f"expected {delimiter!r} between columns but the header is split by {seen[0]!r}",
            f"save the file as comma-separated CSV, or pass `delimiter={seen[0]!r}`",
        )
        return None
    known = schema.names
    if not any(c.strip() in known for c in head.cells) and not any(
        _close(c.strip(), known) for c in head.cells
    ):
        log.error(
            path,
            head.line,
            None,
            "E-NO-HEADER",
            f"line {head.line} has none of the "
            f"columns of {schema.filename}; found {', '.join(map(show, head.cells))}",
            f"make the header ({', '.join(known)}) the first line; delete lines above it",
        )
        return None
    if not rows:
        log.error(
            path,
            None,
            None,
            "E-NO-ROWS",
            "the file has a header line but no data rows",
            "add one row per record below the header",
        )
    width = len(head.cells)
    for rec in rows:
        if len(rec.cells) != width:
            span = f" (it spans lines {rec.line}-{rec.end}: an unclosed quote?)"
            span *= rec.end > rec.line
            log.error(
                path,
                rec.line,
                None,
                "E-FIELD-COUNT",
                f"line {rec.line} has {len(rec.cells)} fields but the header has {width}{span}",
                f"give every row {width} fields; quote values that contain {delimiter!r}",
            )
    kept = [r for r in rows if len(r.cells) == width]
    return Table(_header(path, head, log), head.line, kept, complete and len(kept) == len(rows))


def _csv_error(path: str, start: int, end: int, error: str, log: Log) -> bool:
    """Report a csv module error; return whether the rest of the file is unusable."""
    if "field limit" in error:
        log.error(
            path,
            start,
            None,
            "E-TOO-LARGE",
            f"a field starting on line {start} is longer "
            f"than {csv.field_size_limit()} characters (an unclosed quote?)",
            "close the quote, or shorten the value",
        )
        return True
    log.error(
        path,
        start,
        None,
        "E-QUOTE",
        f"the quoting of the record starting on line {start} is broken ({error}, line {end})",
        'close each quote; write a quote inside a quoted value as ""',
    )
    return False


def _header(path: str, head: Record, log: Log) -> list[str]:
    """Clean the header names; report blank and duplicated ones."""
    names: list[str] = []
    for i, raw in enumerate(head.cells, 1):
        try:
            name = clean_cell(raw, [])
        except CellError as exc:
            log.error(
                path,
                head.line,
                None,
                exc.code,
                f"column {i} of the header: {exc.message}",
                exc.remedy,
            )
            name = raw.strip()
        if name != raw:
            log.notice(path, f"stripped whitespace or marks around the column name {show(name)}")
        if not name:
            log.error(
                path,
                head.line,
                None,
                "E-BLANK-HEADER",
                f"column {i} of the header has no name",
                "name the column, or delete it (a trailing delimiter?)",
            )
        elif name in names:
            log.error(
                path,
                head.line,
                name,
                "E-DUP-COLUMN",
                f"column {show(name)} appears twice, at positions {names.index(name) + 1} and {i}",
                "delete or rename one",
            )
        names.append(name)
    return names


def check_header(schema: FileSchema, path: str, table: Table, log: Log) -> dict[str, int]:
    """Map each known column to its position (first occurrence); report unknown and missing ones."""
    known, line, header = schema.names, table.header_line, table.header
    found = ", ".join(map(show, header))
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in known:
            index.setdefault(name, i)
    unknown = [h for h in header if h and h not in known]
    for name in unknown:
        log.error(
            path,
            line,
            name,
            "E-UNKNOWN-COLUMN",
            f"{show(name)} is not a column of {schema.filename}",
            f"rename it{did_you_mean(name, known)} or delete it; "
            f"the columns are {', '.join(known)}",
        )
    for col in schema.columns:
        if col.required and col.name not in index and col.required_unless not in index:
            alt = f" (or {col.required_unless})" * bool(col.required_unless)
            log.error(
                path,
                line,
                col.name,
                "E-MISSING-COLUMN",
                f"the required column {show(col.name)}{alt} is missing; found {found}",
                f"add the column{did_you_mean(col.name, unknown)}",
            )
    if sorted(index, key=index.__getitem__) != [n for n in known if n in index]:
        log.notice(path, "read the columns by name; their order differs from the documented one")
    return index


def _close(name: str, choices: list[str] | tuple[str, ...]) -> list[str]:
    """The closest of ``choices`` to ``name`` as a list of one, or none: difflib is imported
    only when a name is not one of the choices (a header or a name to correct)."""
    import difflib

    return difflib.get_close_matches(name, choices, 1)


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest of ``choices``, or "" if none is close."""
    close = _close(name, choices)
    return f" (did you mean {show(close[0])}?)" if close else ""


def parse_row(
    schema: FileSchema, path: str, line: int, cells: list[str], index: dict[str, int], log: Log
) -> Row:
    """Parse one record into a row keyed by column name, plus ``_line``.

    Absent columns take their default; an invalid cell is reported and becomes None.
    """
    row: Row = {"_line": line}
    for col in schema.columns:
        if col.name not in index:  # a missing required column is reported; its cells are invalid
            missing = col.required and col.required_unless not in index
            row[col.name] = None if missing else col.default
            continue
        notes: list[str] = []
        try:
            row[col.name] = col.parse(cells[index[col.name]], notes)
        except CellError as exc:
            log.error(path, line, col.name, exc.code, exc.message, exc.remedy)
            row[col.name] = None
        for note in notes:
            log.notice(path, note, line)
    return row
