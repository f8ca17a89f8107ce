"""A dataset as one Excel workbook: its sheets read as the CSV files are, and written from them.

:func:`read_workbook` turns each sheet of ``fields``, ``population``, ``regions`` (optional) into
the text rows of the CSV it stands for, one physical line per sheet row, so that every column
rule, range and code of :mod:`revshare.data.schema` applies unchanged; ``Sheets.locate`` then
names each problem's cell, ``iraq.xlsx:population!C7``. The optional ``structures`` sheet holds the
text of structures.toml, one line a row in column A; without it a ``structures.toml`` beside the
workbook is read. Other sheets are ignored (a notice), unless their name is close to a dataset
sheet's (``Population``): that is an error, never a silently ignored table.

What a workbook can hold that a CSV cannot is checked cell by cell (:mod:`revshare.data.sheets`)
and every problem is reported at once: a formula is read as the value Excel saved with it (``E-NO-CACHED-VALUE``
when there is none: a workbook written by a program that does not compute formulas), an Excel
error value (``E-CELL-ERROR``), a date or a boolean in a number column (``E-NOT-A-NUMBER``), a
date where a name belongs (``E-DATE``), merged cells (``E-MERGED``), a hidden dataset sheet, or
a hidden row or column holding values (``E-HIDDEN``), a line break in a cell
(``E-CONTROL-CHAR``). The file itself must be an .xlsx workbook (``E-NOT-XLSX``: CSV text, an
old .xls or an .ods renamed .xlsx) that is not encrypted (``E-ENCRYPTED``: a password to open).

:func:`write_dataset_workbook` writes a CSV dataset folder as such a workbook (numbers typed,
text kept as text), which reads back to the same dataset.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revshare.data.csvparse import Log, read_file
from revshare.data.schema import FIELDS, POPULATION, REGIONS, FileSchema, show
from revshare.errors import Problem

if TYPE_CHECKING:
    from revshare.data.sheets import Sheets

# openpyxl and the sheet reader (revshare.data.sheets) are imported where a workbook is read or
# written: commands on CSV data, which need only toml_cells of this module, never load them

SUFFIX = ".xlsx"
TABLES: dict[str, FileSchema] = {"fields": FIELDS, "population": POPULATION, "regions": REGIONS}
"""The dataset sheets read as CSV tables, by sheet name (the sheet names are the roles)."""
TOML_SHEET = "structures"
SHEETS = (*TABLES, TOML_SHEET)
UNZIPPED_FACTOR = 20
"""A workbook may unpack to this many times the byte limit (a ZIP bomb is refused unread)."""

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file: an .xls, or an encrypted .xlsx
_ENCRYPTED = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0"  # the name in UTF-16-LE


def toml_cells(problems: list[Problem]) -> list[Problem]:
    """Name the cell of each problem placed on a line of a workbook's ``structures`` sheet
    (``iraq.xlsx:structures!A18``); other problems are returned as they are."""
    return [
        p._replace(file=f"{p.file}!A{p.line}", line=None)
        if p.line is not None and p.file.lower().endswith(f"{SUFFIX}:{TOML_SHEET}")
        else p
        for p in problems
    ]


def is_workbook(path: str | os.PathLike[str]) -> bool:
    """Whether a dataset path names a workbook (by its suffix, in any case)."""
    return os.fspath(path).lower().endswith(SUFFIX)


def dataset_workbook(folder: str | os.PathLike[str] | None) -> str | None:
    """The workbook a dataset path stands for: the path itself when it ends in ``.xlsx``, or the
    one ``.xlsx`` file of a folder that has neither fields.csv nor population.csv (Excel's
    ``~$`` lock files and a report's ``report.xlsx`` are not datasets); else None."""
    if folder is None:
        return None
    path = os.fspath(folder)
    if is_workbook(path):
        return path
    if not os.path.isdir(path) or any(
        os.path.lexists(os.path.join(path, n)) for n in ("fields.csv", "population.csv")
    ):
        return None
    books = [
        n
        for n in sorted(os.listdir(path))
        if is_workbook(n) and not n.startswith("~$") and n != "report.xlsx"
    ]
    return os.path.join(path, books[0]) if len(books) == 1 else None


def read_workbook(
    book: str, structures: str | None, max_bytes: int, max_rows: int, log: Log
) -> Sheets:
    """Read the dataset sheets of ``book`` as CSV (and TOML) text; problems go to ``log``.

    ``structures`` is an explicit structures.toml; without it, and without a ``structures``
    sheet, a ``structures.toml`` beside the workbook is read if there is one.
    """
    from revshare.data.sheets import UNHIDE, Sheets, table_text, toml_text, too_many_rows

    sheets = Sheets(book)
    data = read_file(book, "workbook", max_bytes, {}, log)
    wb = None if data is None else _open(book, data, max_bytes, max_rows, log)
    for name, rows in (wb[2] if wb is not None else {}).items():
        too_many_rows(f"{book}:{name}", max_rows, rows, log)
    if wb is not None and wb[0] is not None:
        values, formulas, _ = wb
        names = list(values.sheetnames)
        _missing_sheets(book, names, log)
        for name in names:
            ws = values[name]
            if name not in SHEETS or not isinstance(ws, _worksheet()):
                log.notice(book, f"ignored the sheet {show(name)} (not a dataset sheet)")
                continue
            where = f"{book}:{name}"
            if ws.sheet_state != "visible":
                log.error(where, None, None, "E-HIDDEN", "the sheet is hidden", UNHIDE)
                continue
            if name == TOML_SHEET and structures is None:
                text = toml_text(where, ws, formulas[name], sheets, log)
            elif name in TABLES:
                text = table_text(where, TABLES[name], ws, formulas[name], max_rows, sheets, log)
            else:
                continue
            if text is not None:
                sheets.paths[name], sheets.blobs[name] = where, text.encode("utf-8")
    beside = structures or os.path.join(os.path.dirname(book) or ".", "structures.toml")
    if TOML_SHEET not in sheets.paths and (structures or os.path.lexists(beside)):
        toml = read_file(beside, "structures", max_bytes, {}, log)
        if toml is not None:
            sheets.paths[TOML_SHEET], sheets.blobs[TOML_SHEET] = beside, toml
    return sheets


Formulas = dict[str, set[tuple[int, int]]]
"""Sheet name to the (row, column) of its formula cells."""


def _open(
    book: str, data: bytes, max_bytes: int, max_rows: int, log: Log
) -> tuple[Any, Formulas, dict[str, int]] | None:
    """The workbook's cached values, where its formulas are, and the row counts of the sheets
    whose declared size is beyond ``max_rows`` (their cells are never loaded); None after a
    problem."""
    what = _not_xlsx(data)
    if what is None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(i.file_size for i in archive.infolist())
                if unpacked > UNZIPPED_FACTOR * max_bytes:
                    _too_large(book, unpacked, max_bytes, log)
                    return None
                # Most dataset workbooks hold no formula: then no second pass looks for them.
                any_formula = any(
                    _FORMULA_TAG.search(archive.read(n))
                    for n in archive.namelist()
                    if n.startswith("xl/worksheets/")
                )
            return _load(data, max_rows, any_formula)
        except (zipfile.BadZipFile, OSError) as exc:
            what = f"a damaged ZIP archive ({exc})"
        except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors...
            what = f"a ZIP archive that openpyxl cannot read as a workbook ({type(exc).__name__})"
    if what.startswith("encrypted"):
        log.error(
            book,
            None,
            None,
            "E-ENCRYPTED",
            "the workbook is encrypted (it has a password to open)",
            "save a copy without the password (File > Info > Protect Workbook > Encrypt with "
            "Password: clear it)",
        )
    else:
        log.error(
            book,
            None,
            None,
            "E-NOT-XLSX",
            f"the file is {what}, not an Excel workbook (.xlsx)",
            "open it in its application and save it as an Excel Workbook (.xlsx), or give the "
            "dataset as CSV files",
        )
    return None


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _too_large(book: str, unpacked: int, max_bytes: int, log: Log) -> None:
    log.error(
        book,
        None,
        None,
        "E-TOO-LARGE",
        f"the workbook unpacks to {unpacked} bytes, more than {UNZIPPED_FACTOR} times the "
        f"limit of {max_bytes} bytes",
        "split the dataset, or raise the limit `max_bytes`",
    )


def _worksheet() -> Any:
    """openpyxl's worksheet class (a chart sheet is not one)."""
    from openpyxl.worksheet.worksheet import Worksheet

    return Worksheet


def _load(data: bytes, max_rows: int, any_formula: bool) -> tuple[Any, Formulas, dict[str, int]]:
    """A read-only pass (streamed) finds the sheets' sizes and the formulas' cells; the full
    load of the cached values then sees merged cells and hidden rows, which streaming does not.
    A workbook with a sheet beyond ``max_rows`` is not loaded (its values are None): only the
    size is reported."""
    from openpyxl import load_workbook

    lazy = load_workbook(io.BytesIO(data), read_only=True)
    sizes = {n: lazy[n].max_row or 0 for n in lazy.sheetnames if n in SHEETS}
    huge = {n: rows for n, rows in sizes.items() if rows > max_rows + 1}
    formulas = {
        n: _formula_cells(lazy[n]) if any_formula else set() for n in sizes if n not in huge
    }
    lazy.close()
    values = None if huge else load_workbook(io.BytesIO(data), data_only=True)
    return values, formulas, huge


def _formula_cells(ws: Any) -> set[tuple[int, int]]:
    return {
        (cell.row, cell.column) for row in ws.iter_rows() for cell in row if cell.data_type == "f"
    }


def _not_xlsx(data: bytes) -> str | None:
    """What the bytes are when they cannot be an .xlsx workbook; None when they may be."""
    if data.startswith(_OLE):
        return "encrypted" if _ENCRYPTED in data else "an Excel 97-2003 workbook (.xls)"
    if not data:
        return "empty (0 bytes)"
    if not data.startswith(b"PK\x03\x04"):
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError:
            return "not a ZIP archive"
        return "text (a CSV file renamed .xlsx?)"
    head = data[:200]
    if b"mimetypeapplication/vnd.oasis.opendocument" in head:
        return "an OpenDocument file (.ods)"
    return None


def _missing_sheets(book: str, names: list[str], log: Log) -> None:
    """A required sheet missing, and a sheet whose name is close to a dataset sheet's."""
    import difflib

    for name in names:
        if name in SHEETS:
            continue
        close = [s for s in SHEETS if s.lower() == name.strip().lower()]
        close = close or difflib.get_close_matches(name.strip().lower(), SHEETS, 1, 0.75)
        if close:
            log.error(
                f"{book}:{name}",
                None,
                None,
                "E-UNKNOWN-SHEET",
                f"the sheet {show(name)} is not a dataset sheet (did you mean {show(close[0])}?)",
                f"rename it {close[0]}; the dataset sheets are {', '.join(SHEETS)}",
            )
    for role in ("fields", "population"):
        if role not in names:
            log.error(
                book,
                None,
                None,
                "E-MISSING-SHEET",
                f"the workbook has no sheet {role}; its sheets are "
                f"{', '.join(map(show, names)) or 'none'}",
                f"add a sheet named {role} holding {TABLES[role].filename}'s columns",
            )


def write_dataset_workbook(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write the CSV dataset folder ``source`` as the workbook ``path`` and return its path.

    Sheets ``fields``, ``population`` and ``regions`` (if the folder has regions.csv) hold the
    CSVs' cells, numbers of number columns typed as numbers and every other cell as text (a
    name that looks like a number or a formula stays text); ``structures`` holds
    structures.toml, one line a row in column A. The dataset's other files (SOURCES.md, price
    paths) are not copied. Reading the workbook gives the same dataset as reading the folder.
    The CSVs are expected to be valid (``revshare validate`` them first): a cell of a number
    column that is not a number is written as text, and reading reports it.
    """
    from openpyxl import Workbook

    folder = Path(source)
    wb = Workbook()
    wb.remove(wb.active)
    for role, schema in TABLES.items():
        csv_path = folder / schema.filename
        if not csv_path.is_file():
            continue
        ws = wb.create_sheet(role)
        kinds = {c.name: c.kind for c in schema.columns}
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        header = [h.strip() for h in rows[0]] if rows else []
        for r, row in enumerate(rows, 1):
            for c, text in enumerate(row, 1):
                kind = kinds.get(header[c - 1], "text") if r > 1 and c <= len(header) else "text"
                _put(ws.cell(r, c), text, kind)
        ws.freeze_panes = "A2"
    toml = folder / "structures.toml"
    if toml.is_file():
        ws = wb.create_sheet(TOML_SHEET)
        for r, line in enumerate(toml.read_text(encoding="utf-8-sig").splitlines(), 1):
            if line:
                _put(ws.cell(r, 1), line, "text")
    out = Path(path)
    wb.save(out)
    return out


def _put(cell: Any, text: str, kind: str) -> None:
    """Store a CSV cell: a number column's number as a number, anything else as text.

    openpyxl writes a number with 16 significant digits; the rare value that needs 17 to be
    the same double is kept as text (the reader parses it exactly as the CSV's).
    """
    if text.strip() == "":
        return
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number) and float(f"{number:.16g}") == number:
                cell.value = int(number) if number.is_integer() and abs(number) < 2**53 else number
                return
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever the text starts with
