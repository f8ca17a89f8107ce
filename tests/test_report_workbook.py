"""``report.xlsx``: in every report folder and its manifest, one typed sheet per CSV, never a
formula, and a real spreadsheet program (LibreOffice) reads the same numbers as the CSVs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import cli
import revshare
from revshare.reports import write_reports
from revshare.reports.safe import FORMULA_TRIGGERS, csv_bytes, neutralise
from revshare.reports.workbook import WORKBOOK, parse_csv, report_workbook

IRAQ = str(Path(__file__).resolve().parent.parent / "data" / "iraq")

COMMANDS = {
    "optimize": ["optimize", IRAQ, "--structure", "iraq-2005"],
    "compare": ["compare", IRAQ, "--structures", "federation,partition"],
    "convention": ["convention", IRAQ, "--seats", "100"],
    "ratify": [
        "ratify",
        IRAQ,
        "--structure",
        "confederation",
        "--status-quo",
        "unified",
        "--rule",
        "iraq-2005",
    ],
    "guarantees": ["guarantees", IRAQ],
    "sweep": ["sweep", IRAQ, "--structures", "federation", "--scenarios", "3", "--seed", "1"],
    "periods": ["optimize", IRAQ, "--periods", "PATH"],
}


@pytest.fixture(scope="module")
def iraq_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "r"
    result = CliRunner().invoke(cli.main, [*COMMANDS["optimize"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_report_folder_holds_a_workbook_of_its_tables(tmp_path, command):
    out = tmp_path / command
    path = tmp_path / "path.csv"
    path.write_text("period,price,years\n2021,70.9,1\n2022,99.0,1\n2023,82.5,1\n")
    args = [str(path) if a == "PATH" else a for a in COMMANDS[command]]
    result = CliRunner().invoke(cli.main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    _check_workbook(out)


def _check_workbook(out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    data = (out / WORKBOOK).read_bytes()
    assert manifest[WORKBOOK] == hashlib.sha256(data).hexdigest()
    tables = sorted(p.name for p in out.iterdir() if p.suffix == ".csv")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["about", *(t.removesuffix(".csv") for t in tables)]
    for name in tables:
        ws = wb[name.removesuffix(".csv")]
        assert ws.freeze_panes == "A2"
        expected = parse_csv((out / name).read_text(encoding="utf-8-sig"))
        got = [list(r) for r in ws.iter_rows(values_only=True)]
        want = [_padded(r, ws.max_column) for r in expected]
        assert len(got) == len(want)
        for mine, theirs in zip(want, got, strict=True):
            assert all(map(_same, mine, theirs)), (name, mine, theirs)
        numbers = [c.value for r in ws.iter_rows(min_row=2) for c in r if c.data_type == "n"]
        assert all(isinstance(v, int | float) for v in numbers if v is not None)
        with_text_numbers = [
            c.value for row in ws.iter_rows(min_row=2) for c in row if _looks_numeric(c.value)
        ]
        assert not with_text_numbers, f"{name}: numbers stored as text {with_text_numbers[:3]}"
        for letter, dim in ws.column_dimensions.items():
            assert 8 <= dim.width <= 60, (name, letter, dim.width)
    assert "<f>" not in _sheet_xml(data)


def _same(csv_value: object, cell: object) -> bool:
    """Equal, numbers to openpyxl's 16 significant digits (5e-16 relative at most)."""
    numbers = (int, float)
    if isinstance(csv_value, numbers) and isinstance(cell, numbers):
        if isinstance(csv_value, bool) or isinstance(cell, bool):
            return csv_value is cell
        return math.isclose(csv_value, cell, rel_tol=1e-15, abs_tol=0.0)
    return csv_value == cell


def _padded(row: list, width: int) -> list:
    return row + [None] * (width - len(row))


def _looks_numeric(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_the_cover_sheet_gives_the_provenance(iraq_report):
    wb = load_workbook(iraq_report / WORKBOOK)
    cover = dict(wb["about"].iter_rows(values_only=True))
    assert cover["written by"] == f"revshare {revshare.__version__}"
    assert cover["dataset"] == "iraq"
    assert cover["structure"] == "iraq-2005"
    assert cover["status"] == "optimal"
    assert cover["oil price (USD a barrel)"] == 82.49
    assert cover["tables"] == "accounts.csv, allocation.csv, payments.csv"


def test_the_workbook_is_the_same_file_every_time(iraq_report):
    files = {
        p.name: p.read_bytes()
        for p in iraq_report.iterdir()
        if p.name not in (WORKBOOK, "manifest.json")
    }
    once = report_workbook(files)
    assert once == (iraq_report / WORKBOOK).read_bytes() == report_workbook(files)
    with zipfile.ZipFile(io.BytesIO(once)) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


PAYLOADS = [
    *(f"{t}cmd|' /C calc'!A0" for t in FORMULA_TRIGGERS if t not in "\r\n\0"),
    '=HYPERLINK("http://example.com","x")',
    "+1+1",
    "-2",
    "@SUM(1)",
    "=1/0",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_cell_is_a_formula(payload):
    data = report_workbook({"t.csv": csv_bytes(["name", payload], [[payload, 1.5], ["x", -2]])})
    assert "<f>" not in _sheet_xml(data)
    ws = load_workbook(io.BytesIO(data))["t"]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" and not c.value.startswith(FORMULA_TRIGGERS) for c in texts)
    assert ws["A2"].value == neutralise(payload) and ws["B2"].value == 1.5


def test_a_hostile_dataset_reports_no_formula(tmp_path):
    names = ["=1+1", "+SUM(1)", "-2", "@x", "Basra"]
    population = pd.DataFrame(
        {"region": names, "faction": "@f", "population": [1000 * (i + 1) for i in range(5)]}
    )
    fields = pd.DataFrame({"field": ["F"], "region": ["Basra"], "annual_revenue_usd": [1e9]})
    territory = revshare.territory_from_frames(fields, population, name="=evil")
    out = write_reports(revshare.optimize(territory, "unified"), tmp_path / "r")
    data = (out / WORKBOOK).read_bytes()
    assert "<f>" not in _sheet_xml(data)
    regions = [c.value for c in load_workbook(io.BytesIO(data))["allocation"]["A"][1:]]
    assert set(map(neutralise, names)) <= set(regions)


CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=6))
def test_the_csv_cells_are_read_back_with_their_types(rows):
    """What ``csv_bytes`` writes, ``parse_csv`` reads: text (neutralised) as text, numbers as
    numbers, booleans as booleans, nothing as None; the empty string is an empty cell."""
    parsed = parse_csv(csv_bytes(["a", "b", "c"], rows).decode("utf-8-sig"))
    expected = [["a", "b", "c"], *([_expected(v) for v in row] for row in rows)]
    assert parsed == expected
    assert all(
        type(p) is type(e)
        for r, s in zip(parsed, expected, strict=True)
        for p, e in zip(r, s, strict=True)
    )


def _expected(value: object) -> object:
    return (neutralise(value) or None) if isinstance(value, str) else value


@pytest.mark.parametrize(
    ("names", "sheets"),
    [
        (["a.csv", "b.csv"], ["about", "a", "b"]),
        (["about.csv"], ["about", "about~2"]),
        (["x" * 40 + ".csv"], ["about", "x" * 31]),
        (["a[1]:b.csv", "A.csv", "a.csv"], ["about", "A", "a~2", "a_1__b"]),
    ],
)
def test_sheet_names_are_valid_and_unique(names, sheets):
    files = {n: csv_bytes(["v"], [[1]]) for n in names}
    assert load_workbook(io.BytesIO(report_workbook(files))).sheetnames == sheets


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        )
    return found


def test_libreoffice_reads_the_numbers_of_the_csvs(iraq_report, soffice, tmp_path):
    """A real spreadsheet program opens report.xlsx; each sheet, saved by it as CSV with full
    precision, holds the cells of the report's CSV, every number equal."""
    filters = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            filters,
            "--outdir",
            str(tmp_path),
            str(iraq_report / WORKBOOK),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for table in ("allocation", "accounts", "payments"):
        converted = tmp_path / f"report-{table}.csv"
        assert converted.exists(), (done.stdout, done.stderr)
        theirs = list(csv.reader(converted.read_text(encoding="utf-8").splitlines()))
        ours = list(csv.reader((iraq_report / f"{table}.csv").read_text("utf-8-sig").splitlines()))
        assert len(theirs) == len(ours) > 0
        for mine, read in zip(ours, theirs, strict=True):
            assert len(mine) == len(read)
            for a, b in zip(mine, read, strict=True):
                if _looks_numeric(a):
                    assert math.isclose(float(a), float(b), rel_tol=0, abs_tol=0), (table, a, b)
                else:
                    assert a == b, (table, a, b)
    allocation = pd.read_csv(tmp_path / "report-allocation.csv")
    assert (
        allocation["usd_rounded"].sum()
        == pd.read_csv(iraq_report / "allocation.csv")["usd_rounded"].sum()
    )


@pytest.mark.parametrize("rows", [3, 4])
def test_a_table_over_the_cell_limit_stays_in_its_csv_and_is_named_on_the_cover(
    monkeypatch, rows
):
    """A sweep's every-scenario table would take a minute to write: over ``MAX_CELLS`` a table
    has no sheet, and the cover says which CSV holds it; at the limit it has its sheet."""
    from revshare.reports import workbook

    monkeypatch.setattr(workbook, "MAX_CELLS", 6)  # 2 columns x 3 lines (header included)
    big = csv_bytes(["a", "b"], [[i, i * 0.5] for i in range(rows - 1)])
    small = csv_bytes(["c"], [[1]])
    book = load_workbook(io.BytesIO(report_workbook({"big.csv": big, "small.csv": small})))
    cover = {k: v for k, v in book["about"].iter_rows(values_only=True)}
    if rows == 3:
        assert book.sheetnames == ["about", "big", "small"]
        assert "not in this workbook" not in cover
    else:
        assert book.sheetnames == ["about", "small"]
        assert cover["not in this workbook"] == "big.csv (8 cells): open the CSV file"
        assert cover["tables"] == "small.csv"
