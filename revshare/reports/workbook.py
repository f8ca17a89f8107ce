"""``report.xlsx``: every CSV table of a report folder as one sheet of a workbook.

:func:`write_report_bundle` is how every report folder is written: it adds ``report.xlsx``,
built from the bundle's CSV members, to the files :func:`revshare.atomic.write_bundle` writes
(the manifest lists it). The workbook has a cover sheet (``about``: revshare's version, the
dataset, the structure and the files it came from) and one sheet per CSV, named after the file;
numbers are typed numbers (openpyxl writes 16 significant digits, within 5e-16 of the CSV's
value; the CSVs are the record), text stays text and is never a formula (the CSVs' text is already
neutralised by :func:`revshare.reports.safe.neutralise`, and every text cell is stored as a
string), headers are frozen and columns are as wide as their widest value (up to a limit).

The bytes depend on the bundle only (fixed timestamps inside and in the ZIP), so a report
written twice is the same file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..atomic import write_bundle
from .documents import envelope_of
from .safe import neutralise

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

WORKBOOK = "report.xlsx"
MAX_WIDTH = 60
"""Widest column, in characters; longer text wraps nowhere but is cut on screen only."""
MAX_CELLS = 200_000
"""A larger table (a sweep's every scenario) stays in its CSV file alone, named on the cover
sheet: openpyxl writes about 50,000 cells a second, so 10,000 scenarios of every preset would
add a minute to the sweep."""
_FIXED_TIME = "2000-01-01T00:00:00Z"  # the workbook's created/modified times: no clock in it
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,\r\n]*)')
_INT = re.compile(r"[+-]?[0-9]+")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def write_report_bundle(
    outdir: str | Path, files: Mapping[str, bytes], *, force: bool = False
) -> Path:
    """:func:`revshare.atomic.write_bundle` of ``files`` plus ``report.xlsx`` built from them;
    ``manifest.json`` opens with the envelope of the report's JSON (kind ``manifest``)."""
    head = manifest_head(files)
    return write_bundle(outdir, {**files, WORKBOOK: report_workbook(files)}, force=force, head=head)


def manifest_head(files: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The envelope of ``manifest.json``: kind ``manifest``, and the schema version and dataset
    of the bundle's JSON (``summary.json`` first); None when no member is an enveloped document."""
    for name in ("summary.json", *sorted(n for n in files if n.endswith(".json"))):
        found = envelope_of(files[name]) if name in files else None
        if found is not None:
            return {**found, "kind": "manifest"}
    return None


def report_workbook(files: Mapping[str, bytes]) -> bytes:
    """The bytes of ``report.xlsx`` for a bundle: a cover sheet, then one sheet per CSV member
    (in name order)."""
    from openpyxl import Workbook  # here: a command that writes no report never loads it

    wb = Workbook(write_only=True)  # streamed: no cell objects kept
    texts = {n: files[n].decode("utf-8") for n in sorted(files) if n.endswith(".csv")}
    tables = [n for n, text in texts.items() if _cells(text) <= MAX_CELLS]
    left_out = [f"{n} ({_cells(t):,} cells)" for n, t in texts.items() if n not in tables]
    cover = [list(row) for row in _provenance(files, tables)]
    if left_out:
        cover.append(["not in this workbook", f"{', '.join(left_out)}: open the CSV file"])
    _sheet(wb, "about", cover, bold="column")
    used = {"about"}
    for name in tables:
        _sheet(wb, _sheet_name(name, used), parse_csv(texts[name]), bold="row")
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic(buf.getvalue())


def _cells(text: str) -> int:
    """A CSV's cells, counted without parsing it: its lines times its header's fields (a
    quoted line break, which reports do not write, would count one line more)."""
    return text.count("\n") * (text.split("\n", 1)[0].count(",") + 1)


def parse_csv(text: str) -> list[list[Any]]:
    """Rows of a report CSV (RFC 4180, minimal quoting: :func:`safe.csv_bytes`): a quoted
    field is text (the writer quotes text that would read as a number), an unquoted one a
    number (int or float) or a boolean; an empty field or an unquoted ``nan`` is None (an
    empty cell); other unquoted text stays text."""
    rows: list[list[Any]] = []
    row: list[Any] = []
    pos = 0
    while pos < len(text):
        match = _FIELD.match(text, pos)
        assert match is not None  # the pattern matches the empty string
        quoted, plain = match.groups()
        row.append(quoted.replace('""', '"') or None if quoted is not None else _value(plain))
        pos = match.end()
        if text.startswith("\r\n", pos) or text.startswith("\n", pos) or pos >= len(text):
            pos += 2 if text.startswith("\r\n", pos) else 1
            rows.append(row)
            row = []
        else:
            pos += 1  # the comma
    return rows


def _value(text: str) -> Any:
    if text in ("", "nan"):  # a missing number (NaN) is an empty cell
        return None
    if text in ("True", "False"):
        return text == "True"
    if _INT.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


def _sheet(wb: Workbook, title: str, rows: list[list[Any]], bold: str) -> None:
    """Append a sheet of ``rows``: the first row (``bold="row"``, frozen) or column in bold,
    each column as wide as its widest value, between 8 and :data:`MAX_WIDTH` characters."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    widths: dict[int, int] = {}
    for row in rows:
        for c, value in enumerate(row, 1):
            if value is not None:
                widths[c] = max(widths.get(c, 0), len(str(value)))
    for c, size in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = min(max(size + 2, 8), MAX_WIDTH)
    if bold == "row":
        ws.freeze_panes = "A2"
    for r, row in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(row, 1):
            cell = _cell(ws, value)
            if (bold == "row" and r == 1) or (bold == "column" and c == 1):
                cell.font = Font(bold=True)
            cells.append(cell)
        ws.append(cells)


def _cell(ws: Any, value: Any) -> WriteOnlyCell:
    """A number as a number; text as a string Excel never runs as a formula."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        cell = WriteOnlyCell(ws, neutralise(value))
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(ws, value)


def _provenance(files: Mapping[str, bytes], tables: list[str]) -> list[tuple[str, Any]]:
    """The cover sheet's rows, from the bundle's ``summary.json`` (or first JSON) if any."""
    doc: dict[str, Any] = {}
    for name in ("summary.json", *sorted(n for n in files if n.endswith(".json"))):
        if name in files:
            try:
                loaded = json.loads(files[name])
            except ValueError:
                continue
            if isinstance(loaded, dict):
                doc = loaded
                break
    prov = _mapping(doc.get("provenance"))
    versions = _mapping(prov.get("versions"))
    rows: list[tuple[str, Any]] = [
        ("written by", f"revshare {__version__}"),
        ("results computed by", f"revshare {versions.get('revshare', __version__)}"),
        ("report", doc.get("kind")),
        ("dataset", prov.get("dataset", doc.get("dataset"))),
        ("structure", _names(doc.get("structure", doc.get("structures")))),
        ("status", doc.get("status")),
        ("oil price (USD a barrel)", doc.get("price_usd_per_bbl")),
        ("date", prov.get("generated_at", prov.get("date"))),
        ("tables", ", ".join(tables)),
        ("files", ", ".join(sorted(files))),
        ("note", "one sheet per CSV file of the report folder; the CSV files are the record"),
    ]
    return [(k, v if isinstance(v, str | int | float) else None) for k, v in rows if v is not None]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> Any:
    """A structure's name, or the names of a list of structures, from a report's JSON."""
    if isinstance(value, dict):
        return value.get("name", value.get("structure"))
    if isinstance(value, list):
        names = [_names(v) for v in value]
        return ", ".join(str(n) for n in names if n is not None) or None
    return value


def _sheet_name(filename: str, used: set[str]) -> str:
    """The file's name without ``.csv``, made a valid, unique sheet name (31 characters)."""
    base = _BAD_SHEET_CHARS.sub("_", filename.removesuffix(".csv"))[:31] or "table"
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(name.lower())
    return name


def _deterministic(data: bytes) -> bytes:
    """The workbook with fixed times (document properties and ZIP entries)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + _FIXED_TIME.encode() + rb"\g<3>",
                    body,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()
