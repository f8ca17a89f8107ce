"""Read and validate a dataset, reporting every problem at once.

:func:`read_dataset` reads ``fields.csv``, ``population.csv``, the optional ``regions.csv`` and
``structures.toml`` (DESIGN.md section 3), checks them against :mod:`revshare.schema` and against
each other, and either returns a :class:`RawDataset` or raises one
:class:`~revshare.errors.InputError` listing every problem (at most 50, then one saying how many
more were cut), in file-then-line order. ``line`` is the physical line where the record starts
(the header is line 1), ``column`` the header name. Documented normalisations are applied and
listed in ``RawDataset.notices``.

Problem codes (stable; tests pin them, not the prose):

====================  ===========================================================================
code                  meaning
====================  ===========================================================================
E-OPTION              an option is invalid (encoding, delimiter, size limits)
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
E-BLANK-HEADER        a header cell is empty
E-DUP-COLUMN          a column name appears twice
E-MISSING-COLUMN      a required column is missing (with close-match suggestions)
E-UNKNOWN-COLUMN      a column the schema does not know (strict)
E-MISSING-VALUE       an empty cell that needs a value; a fields row without production and
                      revenue; a transit fee without production
E-NOT-A-NUMBER        text, a date or a boolean in a number column
E-FORMULA             a number cell starting with ``=``
E-THOUSANDS           a thousands separator (``1,000``)
E-DECIMAL-COMMA       a decimal comma (``1,5``)
E-UNIT-IN-VALUE       a unit, currency, scale or percent sign (``$5bn``, ``5 bn``, ``60%``)
E-NON-ASCII-DIGIT     Arabic-Indic or other non-ASCII digits (rejected, never transliterated)
E-NON-FINITE          ``inf``, ``nan`` or an overflow such as ``1e400``
E-RANGE               a number outside the column's bounds (population must be above 0)
E-NOT-A-BOOL          a ``coastal`` value that is not true/false/yes/no/1/0
E-CONTROL-CHAR        a C0/C1 control character, NUL, DEL or line break in a cell
E-BIDI-CONTROL        a bidi embedding, override or isolate control (U+202A-202E, U+2066-2069)
E-INVISIBLE-CHAR      a zero-width or other invisible format character in a name (not ZWNJ/ZWJ)
E-MIXED-SCRIPT        one word of a name mixes scripts (Latin and Cyrillic look-alikes)
E-TOO-LONG            a name longer than 200 characters
E-DUPLICATE           a repeated key: (field, region), (region, faction), or region
E-NEAR-DUP            two spellings of a name in one column that differ by case or Arabic variants
E-SHARE-SUM           the shares of one field do not sum to 1 (tolerance 1e-9)
E-UNKNOWN-REGION      a region of fields.csv or regions.csv is not in population.csv
E-MISSING-REGION      a region of population.csv has no row in regions.csv
E-UNKNOWN-BLOC        an ``export_via`` value is not a bloc of regions.csv
E-TOML                a syntax error in structures.toml (line and column)
E-TOO-MANY            more than 50 problems; the rest were cut
====================  ===========================================================================

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
import tomllib
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from revshare.csvparse import (
    Log,
    Row,
    check_header,
    decode,
    did_you_mean,
    parse_row,
    read_file,
    read_records,
)
from revshare.errors import InputError, Problem
from revshare.schema import PERIODS, PRICES, SCHEMAS, SHARE_TOLERANCE, FileSchema, show

MAX_PROBLEMS = 50
FILENAMES = {
    "fields": "fields.csv",
    "population": "population.csv",
    "regions": "regions.csv",
    "structures": "structures.toml",
}
REQUIRED_ROLES = ("fields", "population")
_DTYPES = {"text": "str", "number": "float64", "bool": "bool"}
# Spelling variants that make two names look alike: tatweel, joiners, alef and yeh forms, teh
# marbuta and heh, Persian keheh and yeh. Used to report near-duplicates, never to merge them.
_FOLD = str.maketrans(
    {
        "\u0640": "",
        "\u200c": "",
        "\u200d": "",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "ة": "ه",
        "ۀ": "ه",
    }
)
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class RawDataset:
    """A dataset as read from disk, validated but not yet interpreted.

    Attributes
    ----------
    fields, population, regions : pandas.DataFrame
        One row per data record, the columns of :mod:`revshare.schema` in order (absent optional
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
    """

    fields: pd.DataFrame
    population: pd.DataFrame
    regions: pd.DataFrame
    structures: dict[str, Any]
    paths: dict[str, str]
    hashes: dict[str, str]
    notices: list[str]


@dataclass(frozen=True)
class _Parsed:
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
        raise InputError(_capped(log.problems))
    frames = {role: _frame(schema, parsed.get(role)) for role, schema in SCHEMAS.items()}
    return RawDataset(
        frames["fields"],
        frames["population"],
        frames["regions"],
        toml,
        paths,
        {role: hashlib.sha256(data).hexdigest() for role, data in blobs.items()},
        log.notice_lines(),
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
        raise InputError(_capped(log.problems))
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
        raise InputError(_capped(log.problems))
    frame = _frame(PERIODS, parsed)
    frame["period"] = frame["period"].astype("int64")
    return frame.sort_values("period").reset_index(drop=True)


def _check_options(encoding: str, delimiter: str, max_bytes: int, max_rows: int, log: Log) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        log.error(
            "--encoding",
            None,
            None,
            "E-OPTION",
            f"unknown encoding {show(encoding)}",
            "name a Python codec, e.g. utf-8, cp1252 or cp1256",
        )
    if len(delimiter) != 1 or delimiter in '"\r\n':
        log.error(
            "--delimiter",
            None,
            None,
            "E-OPTION",
            f"the delimiter {show(delimiter)} is not "
            "one character other than a quote or a line break",
            "pass e.g. ',' or ';'",
        )
    for name, value in (("--max-bytes", max_bytes), ("--max-rows", max_rows)):
        if value <= 0:
            log.error(
                name,
                None,
                None,
                "E-OPTION",
                f"the limit {value} is not positive",
                "pass a positive number",
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
                "pass a dataset folder, or --fields and --population",
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
    rows = [parse_row(schema, path, rec.line, rec.cells, index, log) for rec in table.rows]
    if schema.role == "fields":
        _fields_rules(path, frozenset(index), rows, log)
    _duplicates(schema, path, rows, log)
    for col in schema.columns:
        if col.kind == "text" and col.name in index:
            _near_duplicates(path, col.name, rows, log)
    return _Parsed(path, frozenset(index), rows, table.complete and bool(rows))


def _fields_rules(path: str, present: frozenset[str], rows: list[Row], log: Log) -> None:
    """Each row needs production or revenue; a per-barrel transit fee needs production."""
    column = "production_bpd" if "production_bpd" in present else "annual_revenue_usd"
    if column not in present:
        return
    for row in rows:
        prod, revenue = row["production_bpd"], row["annual_revenue_usd"]
        fee = row["transit_fee_usd_per_bbl"]
        if prod is None or revenue is None or not math.isnan(prod):
            continue
        if math.isnan(revenue):
            log.error(
                path,
                row["_line"],
                column,
                "E-MISSING-VALUE",
                "the row has neither production_bpd nor annual_revenue_usd",
                "give one of them",
            )
        elif fee:
            log.error(
                path,
                row["_line"],
                "production_bpd",
                "E-MISSING-VALUE",
                f"the row has a transit fee of {fee:g} USD a barrel but no production_bpd",
                "give production_bpd, or remove the fee",
            )


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


def _near_duplicates(path: str, column: str, rows: list[Row], log: Log) -> None:
    """Report spellings of one name that differ only by case or Arabic letter variants."""
    seen: dict[str, tuple[str, int]] = {}
    reported: set[str] = set()
    for row in rows:
        name = row[column]
        if not name or name in reported:
            continue
        folded = unicodedata.normalize("NFC", name.translate(_FOLD).casefold())
        spelling, line = seen.setdefault(folded, (name, row["_line"]))
        if spelling != name:
            reported.add(name)
            log.error(
                path,
                row["_line"],
                column,
                "E-NEAR-DUP",
                f"{show(name)} differs from "
                f"{show(spelling)} (line {line}) only by case or letter variants",
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


def _references(
    parsed: _Parsed, column: str, targets: set[str], code: str, where: str, log: Log
) -> None:
    """Report each name of ``column`` missing from ``targets`` once, at its first line."""
    lines: dict[str, list[int]] = {}
    for row in parsed.rows:
        if row[column] and row[column] not in targets:
            lines.setdefault(row[column], []).append(row["_line"])
    for name, at in lines.items():
        others = ", ".join(map(str, at[1:]))
        also = f" (also on line{'s' * (len(at) > 2)} {others})" if others else ""
        log.error(
            parsed.path,
            at[0],
            column,
            code,
            f"{show(name)} is not in {where}{also}",
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


def _frame(schema: FileSchema, parsed: _Parsed | None) -> pd.DataFrame:
    rows = parsed.rows if parsed is not None else []
    data = {
        c.name: pd.Series([r[c.name] for r in rows], dtype=_DTYPES[c.kind]) for c in schema.columns
    }
    data["_line"] = pd.Series([r["_line"] for r in rows], dtype="int64")
    return pd.DataFrame(data)


def _capped(problems: list[Problem]) -> list[Problem]:
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
