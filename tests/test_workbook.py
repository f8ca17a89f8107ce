"""A dataset as one .xlsx workbook: the round trip gives the same money, and every bad workbook
gets a located problem (``book:sheet!cell``) with its code and exit 2."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

import cli
import revshare
from revshare.data.readers import read_dataset
from revshare.data.synthetic import generate, write_dataset
from revshare.data.workbook import dataset_workbook, write_dataset_workbook
from revshare.errors import InputError
from revshare.reports import accounts_csv, allocation_csv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def iraq_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset_workbook(DATA / "iraq", tmp_path_factory.mktemp("book") / "iraq.xlsx")


# --- the round trip --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "structure"),
    [
        ("iraq", "federation"),
        ("iraq", "iraq-2005"),
        ("nigeria", "faac"),
        ("nigeria", "partition"),
        ("ghana", "prma"),
    ],
)
def test_csv_to_xlsx_to_results_gives_identical_money(tmp_path, dataset, structure):
    book = write_dataset_workbook(DATA / dataset, tmp_path / f"{dataset}.xlsx")
    from_csv, from_xlsx = revshare.load_dataset(DATA / dataset), revshare.load_dataset(book)
    assert set(from_xlsx.structures) == set(from_csv.structures)
    a, b = revshare.optimize(from_csv, structure), revshare.optimize(from_xlsx, structure)
    assert allocation_csv(a) == allocation_csv(b)
    assert accounts_csv(a) == accounts_csv(b)


@pytest.mark.parametrize("dataset", ["iraq", "nigeria", "ghana", "sudan-2005"])
def test_the_workbook_reads_as_the_same_tables(tmp_path, dataset):
    book = write_dataset_workbook(DATA / dataset, tmp_path / "d.xlsx")
    csv_raw, xlsx_raw = read_dataset(DATA / dataset), read_dataset(book)
    for role in ("fields", "population", "regions"):
        pd.testing.assert_frame_equal(getattr(csv_raw, role), getattr(xlsx_raw, role))
    assert csv_raw.structures == xlsx_raw.structures


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), regions=st.integers(2, 12))
def test_generated_datasets_round_trip(tmp_path_factory, seed, regions):
    folder = tmp_path_factory.mktemp("gen") / "d"
    frames = generate(regions=regions, factions=3, fields=2 * regions, blocs=2, seed=seed)
    write_dataset(folder, frames, None, seed)
    book = write_dataset_workbook(folder, folder.parent / "d.xlsx")
    a, b = read_dataset(folder), read_dataset(book)
    for role in ("fields", "population", "regions"):
        pd.testing.assert_frame_equal(getattr(a, role), getattr(b, role))


@pytest.mark.parametrize("value", ["0.1", "1753939.1234567891", "0.30000000000000004", "1e-3"])
def test_every_number_is_read_back_as_the_same_double(tmp_path, value):
    """openpyxl writes 16 significant digits: a value needing 17 is stored as text."""
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("fields.csv", "regions.csv", "structures.toml"):
        (folder / name).write_bytes((DATA / "iraq" / name).read_bytes())
    text = (DATA / "iraq" / "population.csv").read_text()
    (folder / "population.csv").write_text(text.replace(",17717\n", f",{value}\n", 1))
    book = write_dataset_workbook(folder, tmp_path / "d.xlsx")
    assert read_dataset(book).population["population"].iloc[0] == float(value)
    assert read_dataset(folder).population.equals(read_dataset(book).population)


def test_a_folder_holding_one_workbook_is_that_dataset(tmp_path, iraq_book):
    (tmp_path / "iraq.xlsx").write_bytes(iraq_book.read_bytes())
    assert dataset_workbook(tmp_path) == str(tmp_path / "iraq.xlsx")
    assert len(revshare.load_dataset(tmp_path).cells) == 44
    (tmp_path / "fields.csv").write_text("field\n")  # a CSV dataset: the workbook is not read
    assert dataset_workbook(tmp_path) is None


def test_a_structures_toml_beside_the_workbook_is_read(tmp_path, iraq_book):
    wb = load_workbook(iraq_book)
    del wb["structures"]
    wb.save(tmp_path / "iraq.xlsx")
    assert revshare.load_dataset(tmp_path / "iraq.xlsx").structures == {}
    (tmp_path / "structures.toml").write_bytes((DATA / "iraq" / "structures.toml").read_bytes())
    assert "iraq-2005" in revshare.load_dataset(tmp_path / "iraq.xlsx").structures


def test_formulas_are_read_as_their_cached_values(tmp_path, iraq_book):
    wb = load_workbook(iraq_book)
    wb["population"]["C2"] = "=17000+717"
    wb.save(tmp_path / "f.xlsx")
    _zip_sub(
        tmp_path / "f.xlsx",
        "xl/worksheets/sheet2.xml",
        rb"<f>17000\+717</f><v\s*/>",
        b"<f>17000+717</f><v>17717</v>",
    )
    raw = read_dataset(tmp_path / "f.xlsx")
    assert raw.population["population"].iloc[0] == 17717
    assert any("cached" in n or "saved with them" in n for n in raw.notices)


def test_other_sheets_are_ignored_with_a_notice(tmp_path, iraq_book):
    wb = load_workbook(iraq_book)
    wb.create_sheet("notes")["A1"] = "where the figures come from"
    wb.save(tmp_path / "n.xlsx")
    assert any("notes" in n for n in read_dataset(tmp_path / "n.xlsx").notices)


def test_a_sheet_with_more_rows_than_the_limit_is_refused(iraq_book):
    with pytest.raises(InputError) as exc:
        read_dataset(iraq_book, max_rows=20)
    assert (f"{iraq_book}:population", "E-TOO-LARGE") in _found(exc.value)


def test_every_problem_of_every_sheet_at_once(tmp_path, iraq_book):
    def change(wb: Workbook) -> None:
        wb["population"]["C3"] = "lots"
        wb["fields"]["D2"] = date(2024, 1, 2)
        wb["regions"]["A2"] = "Anbar"
        wb["regions"]["C4"] = "=1/0"

    book = _mutate(iraq_book, tmp_path / "many.xlsx", change)
    with pytest.raises(InputError) as exc:
        read_dataset(book)
    assert {
        (f"{book}:population!C3", "E-NOT-A-NUMBER"),
        (f"{book}:fields!D2", "E-NOT-A-NUMBER"),
        (f"{book}:regions!C4", "E-NO-CACHED-VALUE"),
    } <= _found(exc.value)


# --- bad workbooks: each a located problem, its code, and exit 2 -----------------------------

Change = Callable[[Workbook], None]


def _mutate(base: Path, out: Path, change: Change) -> Path:
    wb = load_workbook(base)
    change(wb)
    wb.save(out)
    return out


def _zip_sub(path: Path, member: str, pattern: bytes, repl: bytes) -> None:
    with zipfile.ZipFile(path) as src:
        items = [(i, src.read(i)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, body in items:
            if info.filename == member:
                new = re.sub(pattern, repl, body)
                assert new != body, f"{pattern!r} not in {member}"
                body = new
            dst.writestr(info, body)


def _found(error: InputError) -> set[tuple[str, str]]:
    return {(p.file, p.code) for p in error.problems}


def _set(sheet: str, cell: str, value: object) -> Change:
    def change(wb: Workbook) -> None:
        wb[sheet][cell] = value

    return change


def _rename(old: str, new: str) -> Change:
    def change(wb: Workbook) -> None:
        wb[old].title = "renamed"  # openpyxl compares titles without case
        wb["renamed"].title = new

    return change


def _delete(sheet: str) -> Change:
    def change(wb: Workbook) -> None:
        del wb[sheet]

    return change


def _merge(sheet: str, cells: str) -> Change:
    def change(wb: Workbook) -> None:
        wb[sheet].merge_cells(cells)

    return change


def _hide_row(sheet: str, row: int) -> Change:
    def change(wb: Workbook) -> None:
        wb[sheet].row_dimensions[row].hidden = True

    return change


def _hide_column(sheet: str, letter: str) -> Change:
    def change(wb: Workbook) -> None:
        wb[sheet].column_dimensions[letter].hidden = True

    return change


def _hide_sheet(sheet: str) -> Change:
    def change(wb: Workbook) -> None:
        wb[sheet].sheet_state = "hidden"

    return change


def _empty(sheet: str, keep_header: bool) -> Change:
    def change(wb: Workbook) -> None:
        ws = wb[sheet]
        ws.delete_rows(2 if keep_header else 1, ws.max_row)

    return change


def _title_row(wb: Workbook) -> None:
    wb["population"].insert_rows(1)
    wb["population"]["A1"] = "Ministry of Planning, 2024 census"


MUTATIONS: dict[str, tuple[Change, str, str]] = {
    # name: (change, where after "book:", code)
    "sheet-name-capitalised": (
        _rename("population", "Population"),
        "Population",
        "E-UNKNOWN-SHEET",
    ),
    "sheet-name-misspelt": (_rename("fields", "feilds"), "feilds", "E-UNKNOWN-SHEET"),
    "required-sheet-missing": (_delete("population"), "", "E-MISSING-SHEET"),
    "formula-without-cached-value": (
        _set("population", "C3", "=C2*2"),
        "population!C3",
        "E-NO-CACHED-VALUE",
    ),
    "formula-in-a-name-cell": (
        _set("fields", "B3", '=UPPER("basra")'),
        "fields!B3",
        "E-NO-CACHED-VALUE",
    ),
    "text-in-a-number-cell": (_set("population", "C4", "?"), "population!C4", "E-NOT-A-NUMBER"),
    "words-in-a-number-cell": (
        _set("population", "C4", "about 2 million"),
        "population!C4",
        "E-UNIT-IN-VALUE",
    ),
    "thousands-typed-as-text": (_set("fields", "C2", "1,300,000"), "fields!C2", "E-THOUSANDS"),
    "percent-typed-as-text": (_set("fields", "F2", "98%"), "fields!F2", "E-UNIT-IN-VALUE"),
    "date-in-a-number-cell": (
        _set("population", "C2", date(2024, 5, 1)),
        "population!C2",
        "E-NOT-A-NUMBER",
    ),
    "date-in-a-name-cell": (_set("population", "B2", date(2024, 5, 1)), "population!B2", "E-DATE"),
    "boolean-in-a-number-cell": (_set("fields", "D2", True), "fields!D2", "E-NOT-A-NUMBER"),
    "excel-error-value": (_set("regions", "D2", "#DIV/0!"), "regions!D2", "E-CELL-ERROR"),
    "merged-header-cells": (_merge("fields", "A1:B1"), "fields!A1", "E-MERGED"),
    "merged-data-cells": (_merge("population", "A2:A3"), "population!A2", "E-MERGED"),
    "hidden-row": (_hide_row("population", 5), "population!A5", "E-HIDDEN"),
    "hidden-column": (_hide_column("regions", "D"), "regions!D1", "E-HIDDEN"),
    "hidden-sheet": (_hide_sheet("regions"), "regions", "E-HIDDEN"),
    "empty-sheet": (_empty("population", keep_header=False), "population", "E-EMPTY"),
    "header-without-rows": (_empty("population", keep_header=True), "population", "E-NO-ROWS"),
    "title-row-above-the-header": (_title_row, "population!A1", "E-NO-HEADER"),
    "unknown-column": (_set("regions", "G1", "notes"), "regions!G1", "E-UNKNOWN-COLUMN"),
    "negative-population": (_set("population", "C3", -5), "population!C3", "E-RANGE"),
    "line-break-in-a-name": (
        _set("population", "B2", "Shia\nArab"),
        "population!B2",
        "E-CONTROL-CHAR",
    ),
    "duplicate-row": (_set("population", "B3", "Shia Arab"), "population!A3", "E-DUPLICATE"),
    "unknown-region": (_set("fields", "B2", "Basrah"), "fields!B2", "E-UNKNOWN-REGION"),
    "structure-parameter-out-of-range": (
        _set("structures", "A18", "damage_allotment = 7"),
        "structures!A18",
        "E-RANGE",
    ),
    "default-price-negative": (
        _set("structures", "A5", "default_price = -5"),
        "structures!A5",
        "E-RANGE",
    ),
    "toml-syntax-error": (
        _set("structures", "A4", "default_price = = 82"),
        "structures!A4",
        "E-TOML",
    ),
}


def _raw(name: str, data: bytes) -> Callable[[Path, Path], Path]:
    def build(base: Path, tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return build


def _huge(base: Path, tmp: Path) -> Path:
    """A sheet that declares two million rows (Excel writes the true size; nothing is loaded)."""
    out = tmp / "huge.xlsx"
    out.write_bytes(base.read_bytes())
    _zip_sub(
        out,
        "xl/worksheets/sheet2.xml",
        rb'<dimension ref="A1:C\d+"',
        b'<dimension ref="A1:C2000000"',
    )
    return out


def _ods(base: Path, tmp: Path) -> Path:
    out = tmp / "ods.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    return out


def _zip_of_csv(base: Path, tmp: Path) -> Path:
    out = tmp / "zipped.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        z.write(DATA / "iraq" / "fields.csv", "fields.csv")
    return out


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
FILES: dict[str, tuple[Callable[[Path, Path], Path], str, str]] = {
    "csv-renamed-xlsx": (
        _raw("csv.xlsx", (DATA / "iraq" / "fields.csv").read_bytes()),
        "",
        "E-NOT-XLSX",
    ),
    "encrypted-with-a-password": (
        _raw(
            "locked.xlsx", _OLE + "EncryptedInfo\0EncryptedPackage".encode("utf-16-le") + bytes(512)
        ),
        "",
        "E-ENCRYPTED",
    ),
    "old-xls-renamed": (
        _raw("old.xlsx", _OLE + "Workbook".encode("utf-16-le") + bytes(512)),
        "",
        "E-NOT-XLSX",
    ),
    "ods-renamed": (_ods, "", "E-NOT-XLSX"),
    "zip-that-is-no-workbook": (_zip_of_csv, "", "E-NOT-XLSX"),
    "truncated-download": (
        lambda base, tmp: _raw("cut.xlsx", base.read_bytes()[:3000])(base, tmp),
        "",
        "E-NOT-XLSX",
    ),
    "zero-bytes": (_raw("empty.xlsx", b""), "", "E-NOT-XLSX"),
    "huge-sheet": (_huge, "population", "E-TOO-LARGE"),
}


def _build(case: str, base: Path, tmp: Path) -> tuple[Path, str, str]:
    if case in MUTATIONS:
        change, where, code = MUTATIONS[case]
        return _mutate(base, tmp / f"{case}.xlsx", change), where, code
    build, where, code = FILES[case]
    return build(base, tmp), where, code


@pytest.mark.parametrize("case", [*MUTATIONS, *FILES])
def test_a_bad_workbook_gets_a_located_problem_and_exit_2(tmp_path, iraq_book, case):
    book, where, code = _build(case, iraq_book, tmp_path)
    located = f"{book}:{where}" if where else str(book)
    with pytest.raises(InputError) as exc:
        revshare.load_dataset(book)
    assert (located, code) in _found(exc.value), str(exc.value)
    result = CliRunner().invoke(cli.main, ["validate", str(book)])
    assert result.exit_code == 2, result.output
    assert any(
        line.startswith(f"revshare: error: {located}") and line.endswith(f"[{code}]")
        for line in result.stderr.splitlines()
    ), result.stderr


def test_at_least_twenty_kinds_of_bad_workbook():
    assert len(MUTATIONS) + len(FILES) >= 20


def test_a_table_file_with_a_workbook_is_a_conflict(iraq_book):
    with pytest.raises(InputError) as exc:
        read_dataset(iraq_book, fields=DATA / "iraq" / "fields.csv")
    assert ("fields", "E-CONFLICT") in _found(exc.value)
