"""A worksheet as the text of the CSV (or TOML) file it stands for, its own problems at their cells.

Used by :mod:`revshare.data.workbook`: one physical line per sheet row, so that the CSV path's
line numbers are the sheet's rows; what a sheet can hold that a CSV cannot (formulas without a
saved value, Excel errors, dates, booleans, merged cells, hidden rows and columns, line breaks)
is reported here, and :meth:`Sheets.locate` names the cell of every problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from revshare.data.csvparse import Log
from revshare.data.schema import FileSchema, show
from revshare.errors import Problem

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


def get_column_letter(column: int) -> str:
    """A column's letters (1 -> A); openpyxl is loaded only when a workbook is read."""
    from openpyxl.utils import get_column_letter as letters

    return str(letters(column))


UNHIDE = "unhide it (Format > Hide & Unhide) and check it, or delete it"
_INVALID = "\x07"  # a cell already reported: parses as invalid (no second, derived problem)
_ROW_WORD = re.compile(r"\bline(s?) (?=\d)")


@dataclass
class Sheets:
    """What :func:`read_workbook` read: per role, the pseudo-path ``book:sheet`` and the bytes
    of the CSV (or TOML) text it stands for, and how to locate problems in the sheets."""

    book: str
    paths: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)

    def locate(self, problems: list[Problem]) -> list[Problem]:
        """Name each problem of a sheet by its cell, ``book:sheet!C7`` ("line" becomes "row");
        drop the problems that a cell's own problem already explains."""
        out = []
        for p in problems:
            letters = self.letters.get(p.file)
            if letters is None or p.line is None:
                out.append(p)
                continue
            where = f"{p.file}!{letters.get(p.column, 'A') if p.column else 'A'}{p.line}"
            if p.code == "E-TOML" and p.column:
                where, message = f"{p.file}!A{p.line}", f"{p.message} (character {p.column})"
                out.append(p._replace(file=where, line=None, column=None, message=message))
                continue
            if where in self.reported:
                continue
            message = _ROW_WORD.sub(r"row\1 ", p.message)
            out.append(p._replace(file=where, line=None, message=message))
        return out


def table_text(
    where: str,
    schema: FileSchema,
    ws: Worksheet,
    formulas: set[tuple[int, int]],
    max_rows: int,
    sheets: Sheets,
    log: Log,
) -> str | None:
    """The sheet as CSV text, row r on line r; its own problems reported at their cells."""
    grid = _grid(ws)
    if not grid:
        log.error(
            where, None, None, "E-EMPTY", "the sheet is empty", "fill it in, header row first"
        )
        return None
    if len(grid) > max_rows + 1:
        too_many_rows(where, max_rows, len(grid), log)
        return None
    header_row = next(r for r, row in enumerate(grid, 1) if any(v is not None for v in row))
    header = [str(v).strip() if v is not None else "" for v in grid[header_row - 1]]
    kinds = {c.name: c.kind for c in schema.columns}
    sheets.letters[where] = {}
    for i, name in enumerate(header, 1):
        sheets.letters[where].setdefault(name, get_column_letter(i))
    _sheet_problems(where, ws, len(grid), len(header), sheets, log)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for r, cells in enumerate(ws.iter_rows(max_row=len(grid), max_col=len(header)), 1):
        texts = []
        for c, cell in enumerate(cells, 1):
            kind = kinds.get(header[c - 1], "text") if r > header_row else "text"
            at = f"{where}!{get_column_letter(c)}{r}"
            formula = (r, c) in formulas
            if formula:
                log.notice(where, "read formulas as the values Excel saved with them", r)
            text = _cell_text(at, cell.value, kind, formula, cell, log)
            if text == _INVALID:
                sheets.reported.add(at)
            texts.append(text)
        writer.writerow(texts)
    return out.getvalue()


def too_many_rows(where: str, max_rows: int, rows: int, log: Log) -> None:
    log.error(
        where,
        None,
        None,
        "E-TOO-LARGE",
        f"the sheet has more than {max_rows} data rows ({rows} rows)",
        "split the dataset, or raise the limit `max_rows`",
    )


def _grid(ws: Worksheet) -> list[list[Any]]:
    """The sheet's values up to its last row and column holding one (formatting alone is not
    data)."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    last_row = max((i for i, r in enumerate(rows, 1) if any(v is not None for v in r)), default=0)
    rows = rows[:last_row]
    width = max(
        (max((j for j, v in enumerate(r, 1) if v is not None), default=0) for r in rows),
        default=0,
    )
    return [r[:width] + [None] * (width - len(r)) for r in rows]


def _sheet_problems(
    where: str, ws: Worksheet, height: int, width: int, sheets: Sheets, log: Log
) -> None:
    """Merged cells, and hidden rows and columns holding values."""
    cols = range(1, width + 1)
    for merged in ws.merged_cells.ranges:
        at = f"{where}!{get_column_letter(merged.min_col)}{merged.min_row}"
        sheets.reported.update(  # the other cells are empty: that is the merge's problem
            f"{where}!{get_column_letter(c)}{r}" for r, c in merged.cells
        )
        log.error(
            at,
            None,
            None,
            "E-MERGED",
            f"the cells {merged.coord} are merged: a merged cell holds one value for several "
            "rows or columns",
            "unmerge them and give every cell its own value",
        )
    for r, dim in sorted(ws.row_dimensions.items()):
        if dim.hidden and r <= height and any(ws.cell(r, c).value is not None for c in cols):
            log.error(f"{where}!A{r}", None, None, "E-HIDDEN", f"row {r} is hidden", UNHIDE)
    spans = [(d.min, d.max) for d in ws.column_dimensions.values() if d.hidden and d.min]
    for c in cols:
        if any(low <= c <= (high or low) for low, high in spans):
            letter = get_column_letter(c)
            log.error(
                f"{where}!{letter}1", None, None, "E-HIDDEN", f"column {letter} is hidden", UNHIDE
            )


def _cell_text(at: str, value: Any, kind: str, formula: bool, cell: Any, log: Log) -> str:
    """One cell as the CSV would hold it; what a CSV cannot hold is reported here (then the
    cell reads as :data:`_INVALID`)."""
    if cell.data_type == "e":
        log.error(
            at,
            None,
            None,
            "E-CELL-ERROR",
            f"the cell holds the Excel error {value}",
            "fix the formula or the value that causes it",
        )
        return _INVALID
    if value is None:
        if not formula:
            return ""
        log.error(
            at,
            None,
            None,
            "E-NO-CACHED-VALUE",
            "the cell holds a formula without a saved value (the workbook was written by a "
            "program that does not compute formulas)",
            "open and save the workbook in Excel or LibreOffice, or type the value",
        )
        return _INVALID
    if isinstance(value, bool):
        if kind == "number":
            return _own(at, "E-NOT-A-NUMBER", f"the boolean {value} is not a number", log)
        return str(value).lower()
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        shown = value.isoformat() if not isinstance(value, dt.timedelta) else str(value)
        if kind == "number":
            return _own(at, "E-NOT-A-NUMBER", f"the date or time {shown} is not a number", log)
        log.error(
            at,
            None,
            None,
            "E-DATE",
            f"the cell holds the date or time {shown}: Excel may have turned a name into a date",
            "format the column as Text and type the name again",
        )
        return _INVALID
    text = str(value)
    if "\n" in text or "\r" in text:
        return _own(at, "E-CONTROL-CHAR", f"{show(text)} holds a line break", log)
    return text


def _own(at: str, code: str, message: str, log: Log) -> str:
    remedy = {
        "E-NOT-A-NUMBER": "type the number itself, in a cell formatted as Number or General",
        "E-CONTROL-CHAR": "delete the line break; values cannot hold line breaks",
    }[code]
    log.error(at, None, None, code, message, remedy)
    return _INVALID


def _number(value: float) -> str:
    """A number as text that parses back to the same float (whole numbers without ``.0``)."""
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def toml_text(
    where: str, ws: Worksheet, formulas: set[tuple[int, int]], sheets: Sheets, log: Log
) -> str | None:
    """The ``structures`` sheet's column A, one TOML line a row (its other columns are empty)."""
    grid = _grid(ws)
    sheets.letters[where] = {}
    lines = []
    for r, row in enumerate(grid, 1):
        for c, value in enumerate(row[1:], 2):
            if value is not None:
                log.error(
                    f"{where}!{get_column_letter(c)}{r}",
                    None,
                    None,
                    "E-UNKNOWN-COLUMN",
                    "the structures sheet holds structures.toml one line a row in column A only",
                    "move the text to column A, or delete it",
                )
        value = row[0] if row else None
        if (r, 1) in formulas:
            value = _cell_text(f"{where}!A{r}", value, "text", True, ws.cell(r, 1), log)
        lines.append("" if value is None else _number(value) if _is_number(value) else str(value))
    return "\n".join(lines) + "\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
