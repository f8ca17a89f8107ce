"""Read and validate a dataset, reporting every problem at once.

:func:`read_dataset` reads ``fields.csv``, ``population.csv``, the optional ``regions.csv`` and
``structures.toml`` (docs/design.md#the-model), checks them against :mod:`revshare.data.schema` and against
each other, and either returns a :class:`RawDataset` or raises one
:class:`~revshare.errors.InputError` listing every problem (at most 50, then one saying how many
more were cut), in file-then-line order. ``line`` is the physical line where the record starts
(the header is line 1), ``column`` the header name. Documented normalisations are applied and
listed in ``RawDataset.notices``.

Problem codes (stable; tests pin them, not the prose):

====================  ===========================================================================
code                  meaning
====================  ===========================================================================
E-OPTION              an option is invalid (not a text encoding, delimiter, size limits); the
                      problem's file is the parameter's name (``encoding``...)
E-NO-INPUT            neither a folder nor the fields and population files were given
E-NOT-FOUND           a given folder or file does not exist
E-NOT-A-FOLDER        the dataset folder is not a directory
E-MISSING-FILE        a required file (fields.csv, population.csv) is missing
E-NOT-A-FILE          the path is a directory, FIFO, device or socket (checked before opening)
E-UNREADABLE          the operating system refused to read the file
E-SAME-FILE           one file is given for two roles
E-TOO-LARGE           more bytes than ``max_bytes``, more rows than ``max_rows``, or a huge field
E-BINARY              xlsx/xls/zip/gzip/PDF/HTML content, sniffed by its first bytes
E-ENCODING            UTF-16/32 content, or a byte invalid in the encoding (line and character)
E-EMPTY               the file is empty or holds only blank lines
E-NO-ROWS             a header but no data rows
E-NO-HEADER           line 1 has none of the file's columns (a title row above the header?)
E-DELIMITER           the header is split by ``;``, tab or ``|``, not by the delimiter
E-QUOTE               broken quoting in a record
E-FIELD-COUNT         a record has more or fewer fields than the header
E-COMMENT             a record whose first cell starts with ``#`` (CSV files have no comments)
E-BLANK-HEADER        a header cell is empty
E-DUP-COLUMN          a column name appears twice
E-MISSING-COLUMN      a required column is missing (with close-match suggestions)
E-UNKNOWN-COLUMN      a column the schema does not know (strict)
E-MISSING-VALUE       an empty cell that needs a value; a fields row without production and
                      revenue; a transit fee without production or without export_via
E-CONFLICT            a fields row gives both production_bpd and annual_revenue_usd
E-NOT-A-NUMBER        text, a date or a boolean in a number column
E-NOT-INTEGER         a period label that is not a whole number (``1.7``; never truncated)
E-FORMULA             a number cell starting with ``=``
E-THOUSANDS           a thousands separator (``1,000``)
E-DECIMAL-COMMA       a decimal comma (``1,5``)
E-UNIT-IN-VALUE       a unit, currency, scale or percent sign (``$5bn``, ``5 bn``, ``60%``)
E-NON-ASCII-DIGIT     Arabic-Indic or other non-ASCII digits (rejected, never transliterated)
E-NON-FINITE          ``inf``, ``nan`` or an overflow such as ``1e400``
E-RANGE               a number outside the column's documented range, or a dataset total
                      (population, production, revenue in USD, baseline money) above its limit
E-NOT-A-BOOL          a ``coastal`` value that is not true/false/yes/no/1/0
E-CONTROL-CHAR        a C0/C1 control character, NUL, DEL or line break in a cell
E-BIDI-CONTROL        a bidi embedding, override or isolate control (U+202A-202E, U+2066-2069)
E-INVISIBLE-CHAR      a zero-width or other invisible format character in a name (not ZWNJ/ZWJ)
E-MIXED-SCRIPT        one word of a name mixes scripts (Latin and Cyrillic look-alikes)
E-TOO-LONG            a name longer than 200 characters
E-DUPLICATE           a repeated key: (field, region), (region, faction), or region
E-NEAR-DUP            two spellings of a name in one column with one :func:`schema.name_key`:
                      they differ by case, Arabic letter variants, ZWNJ/ZWJ or other
                      default-ignorable code points, Unicode spaces or NFKC compatibility forms
E-NAME-CLASH          a bloc bears the name of a region outside it (a region without a bloc is
                      its own bloc: the two would merge)
E-SHARE-SUM           the shares of one field do not sum to 1 (tolerance 1e-9)
E-UNKNOWN-REGION      a region of fields.csv or regions.csv is not in population.csv
E-MISSING-REGION      a region of population.csv has no row in regions.csv
E-UNKNOWN-BLOC        an ``export_via`` value is not a bloc of regions.csv
E-EXPORT-OWN-BLOC     an ``export_via`` value is the row's own bloc
E-SPLIT-MISMATCH      the rows of a split field give different production_bpd (or revenue)
E-TOML                a syntax error in structures.toml (line and column)
E-TOO-MANY            more than 50 problems; the rest were cut
E-NOT-XLSX            a dataset workbook that is not an .xlsx file (CSV text, an .xls or .ods
                      renamed .xlsx, a damaged archive)
E-ENCRYPTED           a dataset workbook with a password to open
E-MISSING-SHEET       a dataset workbook without a fields or population sheet
E-UNKNOWN-SHEET       a sheet whose name is close to a dataset sheet's (``Population``)
E-HIDDEN              a hidden dataset sheet, or a hidden row or column holding values
E-MERGED              merged cells in a dataset sheet
E-NO-CACHED-VALUE     a formula cell without the value Excel saves with it
E-CELL-ERROR          a cell holding an Excel error value (``#N/A``, ``#DIV/0!``...)
E-DATE                a date or time where a name belongs (in a number column: E-NOT-A-NUMBER)
====================  ===========================================================================

A dataset can also be one Excel workbook (:mod:`revshare.data.workbook`): a ``folder`` ending in
``.xlsx``, or a folder without fields.csv and population.csv that holds exactly one ``.xlsx``
file. Its sheets ``fields``, ``population`` and ``regions`` are read as the CSV files are, with
the same codes; a problem of a sheet names its cell, ``iraq.xlsx:population!C7``, and "line"
in its message is the sheet's row.

Normalisations (each listed once per file as a notice): a UTF-8 byte-order mark is stripped; CRLF
and CR line endings, a missing final line break and column order are accepted; blank lines (and
rows of empty cells) are skipped; spaces and tabs around header names and values, and
left-to-right and right-to-left marks, are removed; names are NFC-normalised; a leading ``+`` and
scientific notation are accepted; a population that is not whole is kept as given.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import os
import re
from typing import Any, NamedTuple

import pandas as pd

from revshare.data.csvparse import (
    Log,
    Row,
    check_header,
    decode,
    did_you_mean,
    parse_row,
    read_file,
    read_records,
)
from revshare.data.schema import (
    MAX_POPULATION,
    MAX_PRODUCTION_BPD,
    MAX_REVENUE_USD,
    PERIODS,
    PRICES,
    SCHEMAS,
    SHARE_TOLERANCE,
    FileSchema,
    name_key,
    num,
    show,
)
from revshare.errors import InputError, Problem

MAX_PROBLEMS = 50
FILENAMES = {
    "fields": "fields.csv",
    "population": "population.csv",
    "regions": "regions.csv",
    "structures": "structures.toml",
}
REQUIRED_ROLES = ("fields", "population")
_DTYPES = {"text": "str", "number": "float64", "bool": "bool"}
PathLike = str | os.PathLike[str]


class RawDataset(NamedTuple):
    """A dataset as read from disk, validated but not yet interpreted.

    Attributes
    ----------
    fields, population, regions : pandas.DataFrame
        One row per data record, the columns of :mod:`revshare.data.schema` in order (absent optional
        columns filled with their defaults) plus ``_line``, the physical line where the record
        starts; ``regions`` is empty, with these columns, without regions.csv.
    structures : dict
        The parsed structures.toml, ``{}`` if there is none.
    paths : dict of str to str
        Role to the path as the user gave it.
    hashes : dict of str to str
        Role to the SHA-256 (hex) of the file's bytes.
    notices : list of str
        One line per kind of normalisation applied.
    structures_text : str
        The text of structures.toml (or of a workbook's ``structures`` sheet), "" without one:
        later checks place their problems on its lines.
    """

    fields: pd.DataFrame
    population: pd.DataFrame
    regions: pd.DataFrame
    structures: dict[str, Any]
    paths: dict[str, str]
    hashes: dict[str, str]
    notices: list[str]
    structures_text: str = ""


class _Parsed(NamedTuple):
    """One validated CSV: its path, the known columns its header has, its rows (None: invalid).

    ``complete`` is False when records were dropped or there are none: the file then cannot serve
    as the reference of a cross-file check without reporting spurious problems.
    """

    path: str
    present: frozenset[str]
    rows: list[Row]
    complete: bool


def read_dataset(
    folder: PathLike | None = None,
    *,
    fields: PathLike | None = None,
    population: PathLike | None = None,
    regions: PathLike | None = None,
    structures: PathLike | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
    max_bytes: int = 200_000_000,
    max_rows: int = 1_000_000,
) -> RawDataset:
    """Read and validate a dataset folder or explicit files.

    Parameters
    ----------
    folder : str or path, optional
        A folder holding ``fields.csv``, ``population.csv`` and optionally ``regions.csv`` and
        ``structures.toml``.
    fields, population, regions, structures : str or path, optional
        Explicit files; they override the folder's.
    encoding : str
        Encoding of the CSV files (structures.toml is always UTF-8).
    delimiter : str
        The one-character CSV delimiter.
    max_bytes, max_rows : int
        Files with more bytes or data rows are refused.

    Returns
    -------
    RawDataset

    Raises
    ------
    InputError
        With every problem found in every file, in file-then-line order.
    """
    log = Log()
    _check_options(encoding, delimiter, max_bytes, max_rows, log)
    given = {
        "fields": fields,
        "population": population,
        "regions": regions,
        "structures": structures,
    }
    book = None if log.problems else _dataset_workbook(folder)
    if book is not None:  # the sheets are CSV text in UTF-8; the file options do not apply
        from revshare.data.workbook import read_workbook

        beside = None if structures is None else os.fspath(structures)
        sheets = read_workbook(book, beside, max_bytes, max_rows, log)
        _no_files_with_a_workbook(book, given, log)
        paths, blobs, encoding, delimiter = sheets.paths, sheets.blobs, "utf-8", ","
    else:
        paths = {} if log.problems else _resolve(folder, given, log)
        seen: dict[tuple[int, int], str] = {}
        blobs = {
            role: data
            for role, path in paths.items()
            if (data := read_file(path, role, max_bytes, seen, log)) is not None
        }
    parsed: dict[str, _Parsed | None] = {role: None for role in paths if role in SCHEMAS}
    toml: dict[str, Any] = {}
    for role, data in blobs.items():
        if role == "structures":
            toml = _read_toml(paths[role], data, log)
        else:
            parsed[role] = _read_csv(
                SCHEMAS[role], paths[role], data, encoding, delimiter, max_rows, log
            )
    _cross_check(parsed, log)
    if log.problems:
        located = log.problems if book is None else sheets.locate(log.problems)
        raise InputError(cap_problems(located))
    frames = {role: _frame(schema, parsed.get(role)) for role, schema in SCHEMAS.items()}
    totals = total_problems(frames["fields"], frames["population"], frames["regions"], paths)
    if totals:
        raise InputError(totals)
    return RawDataset(
        frames["fields"],
        frames["population"],
        frames["regions"],
        toml,
        paths,
        {role: hashlib.sha256(data).hexdigest() for role, data in blobs.items()},
        log.notice_lines(),
        blobs.get("structures", b"").decode("utf-8", "replace"),
    )


def read_prices(
    path: PathLike,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    max_bytes: int = 200_000_000,
    max_rows: int = 1_000_000,
) -> pd.DataFrame:
    """Read a price-scenario CSV (``scenario, period, price``; see :data:`schema.PRICES`).

    Returns a frame with ``scenario`` (blank names become ``line-N``), ``period`` and ``price``
    in file order.

    Raises
    ------
    InputError
        With every problem, each with file, line, column, code and remedy.
    """
    log = Log()
    _check_options(encoding, delimiter, max_bytes, max_rows, log)
    name = str(path)
    data = None if log.problems else read_file(name, "prices", max_bytes, {}, log)
    parsed = (
        None if data is None else _read_csv(PRICES, name, data, encoding, delimiter, max_rows, log)
    )
    rows = parsed.rows if parsed is not None else []
    named = {(r["scenario"], r["period"]) for r in rows if r["scenario"]}
    for row in rows:
        if row["scenario"] == "":
            row["scenario"] = f"line-{row['_line']}"
            if (row["scenario"], row["period"]) in named:
                log.error(
                    name,
                    row["_line"],
                    "scenario",
                    "E-DUPLICATE",
                    f"a blank scenario is named by its line, {row['scenario']}, which another "
                    "row already uses",
                    "name this scenario or rename the other",
                )
    if parsed is not None and not rows and not log.problems:
        log.error(name, None, None, "E-EMPTY", "has no price rows", "add rows: scenario,price")
    if log.problems:
        raise InputError(cap_problems(log.problems))
    return _frame(PRICES, parsed).drop(columns="_line")


def read_periods(path: PathLike, *, encoding: str = "utf-8", delimiter: str = ",") -> pd.DataFrame:
    """Read a price path (``period, price, years``; see :data:`schema.PERIODS`), sorted by
    period, with ``_line`` kept for messages.

    Raises
    ------
    InputError
        With every problem, each with file, line, column, code and remedy.
    """
    log = Log()
    _check_options(encoding, delimiter, 200_000_000, 1_000_000, log)
    name = str(path)
    data = None if log.problems else read_file(name, "periods", 200_000_000, {}, log)
    parsed = (
        None
        if data is None
        else _read_csv(PERIODS, name, data, encoding, delimiter, 1_000_000, log)
    )
    if parsed is not None and not parsed.rows and not log.problems:
        log.error(name, None, None, "E-EMPTY", "has no periods", "add rows: period,price")
    if log.problems:
        raise InputError(cap_problems(log.problems))
    frame = _frame(PERIODS, parsed)
    # Labels are validated integers within 0..MAX_PERIOD and unique, so the cast is exact and the
    # order total: the path runs in period order whatever the file's order.
    frame["period"] = frame["period"].astype("int64")
    return frame.sort_values("period", kind="stable").reset_index(drop=True)


# Codecs that Python calls text encodings but that do not decode a file's bytes to its text: they
# interpret backslash escapes, decode domain names, or refuse everything.
_NOT_FILE_ENCODINGS = frozenset(
    {"undefined", "idna", "punycode", "unicode_escape", "raw_unicode_escape", "mbcs", "oem"}
)


def check_encoding(encoding: object) -> str | None:
    """Return why ``encoding`` cannot decode a CSV file, or None when it is a text encoding.

    Only text encodings are accepted: the bytes-to-bytes codecs (``base64``, ``hex``, ``zlib``,
    ``bz2``, ``uu``, ``quopri``), ``rot13`` (text to text), and codecs that do not decode a file's
    bytes (``idna``, ``punycode``, ``unicode_escape``, ``undefined``...) are refused.
    """
    if not isinstance(encoding, str) or not encoding.strip():
        return f"the encoding {encoding!r} is not a codec name"
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):  # ValueError: a name holding a NUL byte
        return f"unknown encoding {show(encoding)}"
    if not getattr(info, "_is_text_encoding", True):
        return f"{show(encoding)} is not a text encoding (it is the codec {info.name})"
    if info.name.replace("-", "_") in _NOT_FILE_ENCODINGS:
        return f"{show(encoding)} is not an encoding of text files (it is the codec {info.name})"
    return None


def _check_options(encoding: str, delimiter: str, max_bytes: int, max_rows: int, log: Log) -> None:
    """Check the reading options; their problems name the parameter (``encoding``...)."""
    why = check_encoding(encoding)
    if why is not None:
        log.error(
            "encoding",
            None,
            None,
            "E-OPTION",
            why,
            "name a text encoding, e.g. utf-8, cp1252 or cp1256",
        )
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        log.error(
            "delimiter",
            None,
            None,
            "E-OPTION",
            f"the delimiter {show(delimiter)} is not "
            "one character other than a quote or a line break",
            "pass e.g. ',' or ';'",
        )
    for name, value in (("max_bytes", max_bytes), ("max_rows", max_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            log.error(
                name,
                None,
                None,
                "E-OPTION",
                f"the limit {value} is not positive",
                "pass a positive number",
            )


def _dataset_workbook(folder: PathLike | None) -> str | None:
    """:func:`revshare.data.workbook.dataset_workbook`, which is imported (with the sheet
    reader) only for a path that could be a workbook: a folder of CSV files never loads it."""
    if folder is None:
        return None
    path = os.fspath(folder)
    if not path.lower().endswith(".xlsx") and (
        not os.path.isdir(path)
        or any(os.path.lexists(os.path.join(path, n)) for n in ("fields.csv", "population.csv"))
    ):
        return None
    from revshare.data.workbook import dataset_workbook

    return dataset_workbook(path)


def _no_files_with_a_workbook(book: str, given: dict[str, PathLike | None], log: Log) -> None:
    """A workbook holds the tables: explicit table files would mix two datasets."""
    for role in SCHEMAS:
        if given.get(role) is not None:
            log.error(
                role,
                None,
                None,
                "E-CONFLICT",
                f"a {role} file is given with the workbook {book}, which holds the dataset's "
                "tables",
                f"edit the workbook's {role} sheet, or give the dataset as CSV files",
            )


def _resolve(
    folder: PathLike | None, given: dict[str, PathLike | None], log: Log
) -> dict[str, str]:
    """Map each role to the path to read: explicit paths first, then the folder's files."""
    paths = {role: os.fspath(p) for role, p in given.items() if p is not None}
    if folder is None:
        if not paths:
            log.error(
                "dataset",
                None,
                None,
                "E-NO-INPUT",
                "no dataset folder and no files given",
                "pass a dataset folder, or `fields` and `population`",
            )
        for role in REQUIRED_ROLES:
            if paths and role not in paths:
                log.error(
                    role,
                    None,
                    None,
                    "E-MISSING-FILE",
                    f"no {role} file given",
                    f"pass --{role}, or a dataset folder holding {FILENAMES[role]}",
                )
        return paths
    base = os.fspath(folder)
    if not os.path.lexists(base):
        log.error(
            base, None, None, "E-NOT-FOUND", "the dataset folder does not exist", "check the path"
        )
    elif not os.path.isdir(base):
        log.error(
            base,
            None,
            None,
            "E-NOT-A-FOLDER",
            "the dataset path is not a folder",
            "pass the folder holding fields.csv and population.csv",
        )
    else:
        for role, name in FILENAMES.items():
            path = os.path.join(base, name)
            if role not in paths and os.path.lexists(path):
                paths[role] = path
            elif role not in paths and role in REQUIRED_ROLES:
                log.error(
                    path,
                    None,
                    None,
                    "E-MISSING-FILE",
                    f"the dataset folder has no {name}",
                    f"add {name}, or pass --{role}",
                )
    return {role: paths[role] for role in FILENAMES if role in paths}


def _read_toml(path: str, data: bytes, log: Log) -> dict[str, Any]:
    """Parse structures.toml; the structures module checks what it means."""
    import tomllib

    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        log.notice(path, "stripped a UTF-8 byte-order mark")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        log.error(
            path,
            data[: exc.start].count(b"\n") + 1,
            None,
            "E-ENCODING",
            f"byte 0x{data[exc.start]:02X} is not valid UTF-8",
            "save the file as UTF-8",
        )
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
        line = int(at[1]) if at else data.count(b"\n") + 1
        log.error(
            path,
            line,
            at[2] if at else None,
            "E-TOML",
            f"TOML syntax error: {reason}",
            "fix the syntax there (see https://toml.io)",
        )
    return {}


def _read_csv(
    schema: FileSchema,
    path: str,
    data: bytes,
    encoding: str,
    delimiter: str,
    max_rows: int,
    log: Log,
) -> _Parsed | None:
    """Parse one CSV file and validate it against its schema; None if nothing is usable."""
    text = decode(path, data, encoding, delimiter, log)
    table = None if text is None else read_records(path, text, schema, delimiter, max_rows, log)
    if table is None:
        return None
    index = check_header(schema, path, table, log)
    records = [rec for rec in table.rows if not rec.cells[0].strip().startswith("#")]
    for rec in table.rows:
        if rec.cells[0].strip().startswith("#"):
            log.error(
                path,
                rec.line,
                None,
                "E-COMMENT",
                f"line {rec.line} starts with '#': CSV files have no comment lines",
                "delete the line, or move the note to SOURCES.md; a name cannot start with '#'",
            )
    rows = [parse_row(schema, path, rec.line, rec.cells, index, log) for rec in records]
    if schema.role == "fields":
        _fields_rules(path, frozenset(index), rows, log)
    _duplicates(schema, path, rows, log)
    for col in schema.columns:
        if col.kind == "text" and col.name in index:
            _near_duplicates(path, col.name, rows, log)
    complete = table.complete and bool(rows) and len(records) == len(table.rows)
    return _Parsed(path, frozenset(index), rows, complete)


def _fields_rules(path: str, present: frozenset[str], rows: list[Row], log: Log) -> None:
    """Each row gives production or revenue, never both; a transit fee needs production and
    ``export_via``; the rows of one field repeat the whole field's production (or revenue)."""
    column = "production_bpd" if "production_bpd" in present else "annual_revenue_usd"
    if column not in present:
        return
    for row in rows:
        prod, revenue = row["production_bpd"], row["annual_revenue_usd"]
        fee, via = row["transit_fee_usd_per_bbl"], row["export_via"]
        if fee and via == "":
            log.error(
                path,
                row["_line"],
                "export_via",
                "E-MISSING-VALUE",
                f"the row has a transit fee of {fee:g} USD a barrel but no export_via",
                "name in export_via the bloc whose territory the exports cross, or remove the fee",
            )
        if prod is None or revenue is None:
            continue
        if not math.isnan(prod) and not math.isnan(revenue):
            log.error(
                path,
                row["_line"],
                "annual_revenue_usd",
                "E-CONFLICT",
                f"the row gives both production_bpd ({prod:.15g}) and annual_revenue_usd "
                f"({revenue:.15g}); which one is meant?",
                "empty one of the two cells",
            )
        elif math.isnan(prod) and math.isnan(revenue):
            log.error(
                path,
                row["_line"],
                column,
                "E-MISSING-VALUE",
                "the row has neither production_bpd nor annual_revenue_usd",
                "give one of them",
            )
        elif math.isnan(prod) and fee:
            log.error(
                path,
                row["_line"],
                "production_bpd",
                "E-MISSING-VALUE",
                f"the row has a transit fee of {fee:g} USD a barrel but no production_bpd",
                "give production_bpd, or remove the fee",
            )
    _split_fields(path, rows, log)


def _split_fields(path: str, rows: list[Row], log: Log) -> None:
    """The rows of a split field give the same whole-field production and revenue."""
    first: dict[tuple[str, str], tuple[float, int]] = {}
    for row in rows:
        for column in ("production_bpd", "annual_revenue_usd"):
            value = row[column]
            if row["field"] is None or value is None:
                continue
            seen, line = first.setdefault((row["field"], column), (value, row["_line"]))
            same = (math.isnan(seen) and math.isnan(value)) or seen == value
            if not same:
                log.error(
                    path,
                    row["_line"],
                    column,
                    "E-SPLIT-MISMATCH",
                    f"field {show(row['field'])} has {column} {_cell(value)} here but "
                    f"{_cell(seen)} on line {line}",
                    f"repeat the whole field's {column} on every row of the field; the share "
                    "column splits it",
                )


def _cell(value: float) -> str:
    return "empty" if math.isnan(value) else f"{value:.15g}"


def _duplicates(schema: FileSchema, path: str, rows: list[Row], log: Log) -> None:
    first: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row[k] for k in schema.key)
        if None in key or "" in key:  # invalid, or an unnamed price scenario: unique by its line
            continue
        if key in first:
            what = ", ".join(f"{k} {show(str(v))}" for k, v in zip(schema.key, key, strict=True))
            log.error(
                path,
                row["_line"],
                schema.key[0],
                "E-DUPLICATE",
                f"{what} repeats line {first[key]}",
                "delete or merge the rows; revshare never sums them",
            )
        first.setdefault(key, row["_line"])


LOOK_ALIKE = "case, letter variants, invisible characters, spaces or character forms"
"""What two names with one :func:`~revshare.data.schema.name_key` may differ by."""


def _near_duplicates(path: str, column: str, rows: list[Row], log: Log) -> None:
    """Report spellings of one name that differ only by what :func:`name_key` folds."""
    seen: dict[str, tuple[str, int]] = {}
    reported: set[str] = set()
    for row in rows:
        name = row[column]
        if not name or name in reported:
            continue
        spelling, line = seen.setdefault(name_key(name), (name, row["_line"]))
        if spelling != name:
            reported.add(name)
            log.error(
                path,
                row["_line"],
                column,
                "E-NEAR-DUP",
                f"{show(name)} differs from {show(spelling)} (line {line}) only by {LOOK_ALIKE}",
                "spell the name one way; revshare never merges names silently",
            )


def _names(parsed: _Parsed | None, column: str) -> set[str] | None:
    """The values of a column, or None when it is unusable as a reference (absent or invalid)."""
    if parsed is None or not parsed.complete or column not in parsed.present:
        return None
    values = {row[column] for row in parsed.rows}
    return None if None in values else values


def _cross_check(parsed: dict[str, _Parsed | None], log: Log) -> None:
    """Check shares, region references both ways, and export blocs."""
    fields, population, regions = (parsed.get(r) for r in ("fields", "population", "regions"))
    known = _names(population, "region")
    if fields is not None:
        _share_sums(fields, log)
        if known is not None:
            _references(fields, "region", known, "E-UNKNOWN-REGION", "population.csv", log)
        no_blocs = regions is not None and "bloc" not in regions.present
        blocs = set() if "regions" not in parsed or no_blocs else _names(regions, "bloc")
        if blocs is not None:
            _references(
                fields, "export_via", blocs, "E-UNKNOWN-BLOC", "the blocs of regions.csv", log
            )
    listed = _names(regions, "region")
    if population is not None and regions is not None and known is not None and listed is not None:
        _references(regions, "region", known, "E-UNKNOWN-REGION", "population.csv", log)
        _references(population, "region", listed, "E-MISSING-REGION", "regions.csv", log)
    if regions is not None and "bloc" in regions.present:
        name_clashes(regions.path, regions.rows, log)
        if fields is not None:
            _export_via_own_bloc(fields, regions, log)


def name_clashes(path: str, rows: list[Row], log: Log, *, strict: bool = True) -> None:
    """Report each region whose name (up to :func:`name_key`) is another bloc's name.

    A region without a bloc is its own bloc, under its own name; were that name another bloc's,
    the two would silently become one bloc (an oil-less region receiving another bloc's oil under
    partition): always an error. With ``strict`` (files), a bloc may moreover bear a region's
    name only when that region is in it (a bloc named after its capital, or a one-region bloc).
    Frames built in memory are checked without ``strict``: there every table, message and
    parameter names its kind, and only the merge would give a wrong answer. Faction and field
    names are never compared with region or bloc names: no table keys them together.
    """
    regions = {name_key(r["region"]): r for r in rows if r["region"]}
    reported: set[str] = set()
    for row in rows:
        bloc = row["bloc"]
        region = regions.get(name_key(bloc)) if bloc else None
        if region is None or region["bloc"] is None or region["bloc"] == bloc:
            continue
        if region["bloc"] and not strict:
            continue
        if name_key(bloc) in reported:
            continue
        reported.add(name_key(bloc))
        at = f"line {row['_line']}" if row["_line"] is not None else "another row"
        how = (
            f"is in the bloc {show(region['bloc'])}: a name is a region's or a bloc's, not both"
            if region["bloc"]
            else "has no bloc: a region without a bloc is its own bloc, so the two would merge "
            "into one bloc"
        )
        log.error(
            path,
            region["_line"],
            "region",
            "E-NAME-CLASH",
            f"region {show(region['region'])} has the name of the bloc {show(bloc)} ({at}) "
            f"but {how}",
            "rename the region or the bloc, or put the region in that bloc",
        )


def _export_via_own_bloc(fields: _Parsed, regions: _Parsed, log: Log) -> None:
    """``export_via`` names a bloc other than the row's own: a fee to oneself is no fee."""
    bloc_of = {r["region"]: r["bloc"] for r in regions.rows if r["region"]}
    for row in fields.rows:
        via, own = row["export_via"], bloc_of.get(row["region"])
        if via and own and via == own:
            log.error(
                fields.path,
                row["_line"],
                "export_via",
                "E-EXPORT-OWN-BLOC",
                f"export_via names {show(via)}, the bloc of the row's own region "
                f"{show(row['region'])}",
                "name the other bloc whose territory the exports cross, or empty the cell",
            )


def _references(
    parsed: _Parsed, column: str, targets: set[str], code: str, where: str, log: Log
) -> None:
    """Report each name of ``column`` missing from ``targets`` once, at its first line."""
    lines: dict[str, list[int]] = {}
    for row in parsed.rows:
        if row[column] and row[column] not in targets:
            lines.setdefault(row[column], []).append(row["_line"])
    keys = {name_key(t): t for t in targets}
    for name, at in lines.items():
        others = ", ".join(map(str, at[1:]))
        also = f" (also on line{'s' * (len(at) > 2)} {others})" if others else ""
        twin = keys.get(name_key(name))
        alike = f"; it differs from {show(twin)} only by {LOOK_ALIKE}" if twin else ""
        log.error(
            parsed.path,
            at[0],
            column,
            code,
            f"{show(name)} is not in {where}{also}{alike}",
            f"correct the name{did_you_mean(name, sorted(targets))} or add it to {where}",
        )


def _share_sums(fields: _Parsed, log: Log) -> None:
    groups: dict[str, list[Row]] = {}
    for row in fields.rows:
        if row["field"] is not None:
            groups.setdefault(row["field"], []).append(row)
    for name, rows in groups.items():
        shares = [row["share"] for row in rows]
        if None in shares or abs(math.fsum(shares) - 1) <= SHARE_TOLERANCE:
            continue
        log.error(
            fields.path,
            rows[0]["_line"],
            "share",
            "E-SHARE-SUM",
            f"the shares of field "
            f"{show(name)} sum to {math.fsum(shares):.10g} (lines "
            f"{', '.join(str(row['_line']) for row in rows)})",
            "make them sum to 1; a field in several regions needs a share column",
        )


def total_problems(
    fields: pd.DataFrame,
    population: pd.DataFrame,
    regions: pd.DataFrame | None,
    where: dict[str, str],
) -> list[Problem]:
    """Dataset totals beyond their documented limits (data/README.md, "Ranges"): population,
    production (barrels a day), revenue given in USD and baseline money (USD a year).

    The frames are validated cell by cell already; absent optional columns take their defaults.
    """

    def column(frame: pd.DataFrame | None, name: str, default: float) -> pd.Series:
        if frame is None or name not in frame.columns:
            return pd.Series(default, index=[] if frame is None else frame.index, dtype=float)
        return pd.to_numeric(frame[name], errors="coerce").astype(float).fillna(default)

    share, take = column(fields, "share", 1.0), column(fields, "government_take", 1.0)
    people = column(population, "population", 0.0).groupby(population["region"]).sum()
    baseline = 0.0
    if regions is not None and not regions.empty:
        per_head = column(regions, "baseline_usd_per_capita", 0.0)
        heads = regions["region"].map(people).astype(float).fillna(0.0)
        baseline = float((per_head * heads).sum())
    checks = (
        ("population", "population", float(people.sum()), MAX_POPULATION, "people"),
        (
            "fields",
            "production_bpd",
            float((column(fields, "production_bpd", 0.0) * share).sum()),
            MAX_PRODUCTION_BPD,
            "barrels a day",
        ),
        (
            "fields",
            "annual_revenue_usd",
            float((column(fields, "annual_revenue_usd", 0.0) * share * take).sum()),
            MAX_REVENUE_USD,
            "USD a year",
        ),
        (
            "regions",
            "baseline_usd_per_capita",
            baseline,
            MAX_REVENUE_USD,
            "USD a year (baseline times population)",
        ),
    )
    return [
        Problem(
            where.get(role, role),
            None,
            name,
            "E-RANGE",
            f"the dataset's total {name} is {total:.4g} {unit}, above the documented "
            f"limit of {num(limit)}",
            "check the units (thousands? millions?); whole-dollar totals would not be exact",
        )
        for role, name, total, limit, unit in checks
        if not total <= limit
    ]


def _frame(schema: FileSchema, parsed: _Parsed | None) -> pd.DataFrame:
    rows = parsed.rows if parsed is not None else []
    data = {
        c.name: pd.Series([r[c.name] for r in rows], dtype=_DTYPES[c.kind]) for c in schema.columns
    }
    data["_line"] = pd.Series([r["_line"] for r in rows], dtype="int64")
    return pd.DataFrame(data)


def cap_problems(problems: list[Problem]) -> list[Problem]:
    """Keep the first problems in report order; a last one, with the same sort key, counts the rest.

    ``InputError`` sorts stably, so the counting problem stays last.
    """
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    last = ordered[MAX_PROBLEMS - 1]
    return [
        *ordered[:MAX_PROBLEMS],
        Problem(
            last.file,
            last.line,
            last.column,
            "E-TOO-MANY",
            f"{len(ordered) - MAX_PROBLEMS} more problems were cut after the first {MAX_PROBLEMS}",
            "fix these and run again to see the rest",
        ),
    ]
