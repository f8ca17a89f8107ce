"""The input layer: every bad-input fixture, line numbers, normalisation twins, the good dataset.

Each directory under ``fixtures/bad/`` is one case. A case holding both ``fields.csv`` and
``population.csv`` is a whole dataset; any other case replaces only the files it holds in
``fixtures/good/minimal``. Tests pin codes, lines and columns, not prose.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revshare.data.readers import MAX_PROBLEMS, RawDataset, read_dataset
from revshare.data.schema import SCHEMAS, parse_number
from revshare.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good" / "minimal"
PLAIN = FIXTURES / "good" / "plain"  # fields and population only, no export blocs
BAD = FIXTURES / "bad"
ROLES = {
    "fields.csv": "fields",
    "population.csv": "population",
    "regions.csv": "regions",
    "structures.toml": "structures",
}
F, P, R, T = "fields.csv", "population.csv", "regions.csv", "structures.toml"
Where = tuple[str, int | None, str | None, str]

# case -> every problem expected, in report order: (file name, line, column, code)
BAD_CASES: dict[str, list[Where]] = {
    # A: bytes, encoding, file shape
    "a02_utf16_bom": [(P, None, None, "E-ENCODING")],
    "a02_utf16_no_bom": [(P, None, None, "E-ENCODING")],
    "a03_cp1252": [(F, 4, "region", "E-ENCODING")],
    "a04_cp1256": [(P, 5, "faction", "E-ENCODING")],
    "a05_mixed_encodings": [(P, 6, "faction", "E-ENCODING")],
    "a06_nul_byte": [(P, 4, "faction", "E-CONTROL-CHAR")],
    "a07_empty": [(P, None, None, "E-EMPTY")],
    "a07_blank_lines_only": [(P, None, None, "E-EMPTY")],
    "a08_header_only": [(P, None, None, "E-NO-ROWS")],
    "a09_blank_line_in_quoted_name": [(P, 3, "faction", "E-CONTROL-CHAR")],
    "a12_xlsx": [(F, None, None, "E-BINARY")],
    "a12_html": [(F, None, None, "E-BINARY")],
    "a12_gzip": [(F, None, None, "E-BINARY")],
    "a14_too_many_rows": [(P, 7, None, "E-TOO-LARGE")],
    # B: structure and delimiters
    "b01_semicolon": [(F, 1, None, "E-DELIMITER")],
    "b02_tab": [(P, 1, None, "E-DELIMITER")],
    "b03_pipe": [(R, 1, None, "E-DELIMITER")],
    "b04_extra_field_first_row": [(P, 2, None, "E-FIELD-COUNT")],
    "b05_extra_field_later_row": [(F, 5, None, "E-FIELD-COUNT")],
    "b06_missing_field": [(P, 6, None, "E-FIELD-COUNT")],
    "b07_trailing_delimiter": [(P, 1, None, "E-BLANK-HEADER")],
    "b08_unclosed_quote": [(P, 4, None, "E-QUOTE")],
    "b08_stray_quote": [(P, 3, None, "E-QUOTE")],
    "b08_quote_closed_later": [(P, 3, "faction", "E-CONTROL-CHAR")],
    "b09_newline_in_name": [(F, 2, "field", "E-CONTROL-CHAR")],
    "b10_comment_line": [(P, 3, None, "E-FIELD-COUNT")],
    "b11_title_row": [(P, 1, None, "E-NO-HEADER")],
    "b12_duplicate_header": [(P, 1, "faction", "E-DUP-COLUMN")],
    # C: columns and headers
    "c01_missing_required_column": [
        (P, 1, "pop", "E-UNKNOWN-COLUMN"),
        (P, 1, "population", "E-MISSING-COLUMN"),
    ],
    "c01_no_production_or_revenue": [(F, 1, "production_bpd", "E-MISSING-COLUMN")],
    "c02_unknown_column": [(R, 1, "governor", "E-UNKNOWN-COLUMN")],
    "c04_header_case": [(P, 1, "Region", "E-UNKNOWN-COLUMN"), (P, 1, "region", "E-MISSING-COLUMN")],
    "c05_arabic_header": [
        (P, 1, "region", "E-MISSING-COLUMN"),
        (P, 1, "المحافظة", "E-UNKNOWN-COLUMN"),
    ],
    "c07_unit_in_header": [
        (F, 1, "production_bpd", "E-MISSING-COLUMN"),
        (F, 1, "production_kbpd", "E-UNKNOWN-COLUMN"),
    ],
    "c08_blank_header_name": [
        (P, 1, None, "E-BLANK-HEADER"),
        (P, 1, "faction", "E-MISSING-COLUMN"),
    ],
    # D: keys and references
    "d01_duplicate_region": [(R, 6, "region", "E-DUPLICATE")],
    "d02_duplicate_region_faction": [(P, 8, "region", "E-DUPLICATE")],
    "d03_duplicate_field_row": [(F, 2, "share", "E-SHARE-SUM"), (F, 3, "field", "E-DUPLICATE")],
    "d04_whitespace_collision": [(P, 8, "region", "E-DUPLICATE")],
    "d05_case_near_duplicate": [
        (P, 8, "region", "E-NEAR-DUP"),
        (P, 8, "region", "E-MISSING-REGION"),
    ],
    "d07_arabic_variants": [(P, 3, "region", "E-NEAR-DUP")],
    "d08_unknown_region": [(F, 2, "region", "E-UNKNOWN-REGION")],
    "d10_empty_region": [(P, 4, "region", "E-MISSING-VALUE")],
    "d10_empty_faction": [(P, 4, "faction", "E-MISSING-VALUE")],
    "d13_share_sum": [(F, 3, "share", "E-SHARE-SUM")],
    "d13_split_field_without_share": [(F, 3, "share", "E-SHARE-SUM")],
    "d14_share_out_of_range": [
        (F, 2, "share", "E-RANGE"),
        (F, 3, "share", "E-RANGE"),
        (F, 5, "share", "E-UNIT-IN-VALUE"),
    ],
    # E: numeric values
    "e01_empty_population": [(P, 3, "population", "E-MISSING-VALUE")],
    "e02_inf_nan": [(P, line, "population", "E-NON-FINITE") for line in (3, 4, 5)],
    "e03_overflow": [(P, 6, "population", "E-NON-FINITE")],
    "e04_negative_production": [(F, 2, "production_bpd", "E-RANGE")],
    "e05_zero_and_negative_population": [
        (P, 3, "population", "E-RANGE"),
        (P, 4, "population", "E-RANGE"),
    ],
    "e07_thousands_comma": [(P, 2, "population", "E-THOUSANDS")],
    "e07_thousands_space": [(P, 2, "population", "E-THOUSANDS")],
    "e08_decimal_comma": [(R, 2, "area_km2", "E-DECIMAL-COMMA")],
    "e08_decimal_comma_semicolon_file": [(F, 2, "production_bpd", "E-DECIMAL-COMMA")],
    "e09_units_and_currency": [
        (F, 2, "cost_usd_per_bbl", "E-UNIT-IN-VALUE"),
        (F, 3, "cost_usd_per_bbl", "E-UNIT-IN-VALUE"),
        (F, 4, "cost_usd_per_bbl", "E-UNIT-IN-VALUE"),
        (F, 5, "production_bpd", "E-UNIT-IN-VALUE"),
    ],
    "e10_percent_take": [(F, 2, "government_take", "E-UNIT-IN-VALUE")],
    "e11_take_above_one": [(F, 2, "government_take", "E-RANGE")],
    "e13_text_in_number": [(P, line, "population", "E-NOT-A-NUMBER") for line in (2, 3, 4)],
    "e16_arabic_indic_digits": [
        (P, 2, "population", "E-NON-ASCII-DIGIT"),
        (P, 3, "population", "E-NON-ASCII-DIGIT"),
    ],
    "e17_formula": [(P, 5, "population", "E-FORMULA")],
    "e18_not_a_bool": [(R, 3, "coastal", "E-NOT-A-BOOL")],
    "e19_zero_area": [(R, 4, "area_km2", "E-RANGE")],
    # G: text and Unicode in names
    "g02_bidi_override": [(P, 3, "faction", "E-BIDI-CONTROL")],
    "g03_zero_width_space": [(P, 6, "region", "E-INVISIBLE-CHAR")],
    "g04_c1_control": [(P, 5, "faction", "E-CONTROL-CHAR")],
    "g04_delete_char": [(F, 6, "field", "E-CONTROL-CHAR")],
    "g08_name_too_long": [(F, 2, "field", "E-TOO-LONG")],
    "g09_mixed_script": [(P, 2, "region", "E-MIXED-SCRIPT")],
    # cross-file checks and structures.toml
    "x01_regions_differ": [
        (R, 4, "region", "E-UNKNOWN-REGION"),
        (P, 6, "region", "E-MISSING-REGION"),
    ],
    "x02_unknown_bloc": [(F, 3, "export_via", "E-UNKNOWN-BLOC")],
    "x03_export_without_regions": [(F, 2, "export_via", "E-UNKNOWN-BLOC")],
    "x04_fee_without_production": [(F, 3, "production_bpd", "E-MISSING-VALUE")],
    "x05_no_production_nor_revenue": [(F, 2, "production_bpd", "E-MISSING-VALUE")],
    "x06_toml_syntax": [(T, 4, "8", "E-TOML")],
    "x07_toml_not_utf8": [(T, 1, None, "E-ENCODING")],
    "x08_regions_without_bloc_column": [(F, 3, "export_via", "E-UNKNOWN-BLOC")],
    # N: names of one kind, one spelling (issue 11, classes 4 and 9)
    "n01_blocless_region_named_like_a_bloc": [(R, 2, "region", "E-NAME-CLASH")],
    "n02_region_named_like_another_bloc": [(R, 2, "region", "E-NAME-CLASH")],
    "n03_nbsp_inside_a_name": [(P, 4, "faction", "E-NEAR-DUP")],
    "n04_fullwidth_name": [(P, 4, "faction", "E-NEAR-DUP")],
    "n05_zwnj_persian_name": [(P, 4, "faction", "E-NEAR-DUP")],
    # R: rules of data/README.md and dataset totals (issue 11, classes 7, 8 and 24)
    "r01_comment_line": [(P, 3, None, "E-COMMENT")],
    "r02_production_and_revenue": [(F, 2, "annual_revenue_usd", "E-CONFLICT")],
    "r03_split_field_mismatch": [(F, 4, "production_bpd", "E-SPLIT-MISMATCH")],
    "r04_fee_without_export_via": [(F, 2, "export_via", "E-MISSING-VALUE")],
    "r05_export_via_own_bloc": [(F, 3, "export_via", "E-EXPORT-OWN-BLOC")],
    "r06_total_production": [(F, None, "production_bpd", "E-RANGE")],
    "r07_total_population": [(P, None, "population", "E-RANGE")],
    "r08_total_usd_revenue": [(F, None, "annual_revenue_usd", "E-RANGE")],
    "r09_total_baseline": [(R, None, "baseline_usd_per_capita", "E-RANGE")],
    # many problems across two files
    "m01_multi_error": [
        (F, 2, "production_bpd", "E-THOUSANDS"),
        (F, 3, "share", "E-SHARE-SUM"),
        (F, 5, "production_bpd", "E-NON-FINITE"),
        (F, 5, "region", "E-UNKNOWN-REGION"),
        (P, 2, "population", "E-RANGE"),
        (P, 3, "faction", "E-BIDI-CONTROL"),
        (P, 4, "population", "E-UNIT-IN-VALUE"),
    ],
}
CASE_OPTIONS: dict[str, dict[str, Any]] = {
    "a14_too_many_rows": {"max_rows": 5},
    "e08_decimal_comma_semicolon_file": {"delimiter": ";"},
}


def read_case(case: str, **options: Any) -> RawDataset:
    folder = BAD / case
    files: dict[str, Any] = {ROLES[p.name]: p for p in folder.iterdir()}
    options = {**CASE_OPTIONS.get(case, {}), **options}
    if {"fields", "population"} <= set(files):
        return read_dataset(folder, **options)
    return read_dataset(GOOD, **files, **options)


def where(error: InputError) -> list[Where]:
    return [(Path(p.file).name, p.line, p.column, p.code) for p in error.problems]


def problems(**kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        read_dataset(**kwargs)
    return info.value


def test_every_bad_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(BAD_CASES)
    groups = {case[0] for case in BAD_CASES}
    assert all(sum(c.startswith(g) for c in BAD_CASES) >= 5 for g in "abcde")
    assert groups == set("abcdegmnrx")


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input(case: str) -> None:
    with pytest.raises(InputError) as info:
        read_case(case)
    assert where(info.value) == BAD_CASES[case]
    for problem in info.value.problems:
        assert problem.message and problem.remedy
        assert Path(problem.file).parent.name in (case, "minimal")


@pytest.mark.parametrize(
    ("case", "hint"),
    [
        ("a03_cp1252", "`encoding='cp1252'`"),
        ("a04_cp1256", "`encoding='cp1256'`"),
        ("a05_mixed_encodings", "`encoding='cp1252'`"),
        ("b01_semicolon", "`delimiter=';'`"),
        ("b02_tab", "`delimiter='\\t'`"),
        ("c04_header_case", "did you mean 'region'"),
        ("c07_unit_in_header", "did you mean 'production_bpd'"),
        ("d08_unknown_region", "'Basra'"),
        ("e16_arabic_indic_digits", "'2900000'"),
        ("a14_too_many_rows", "`max_rows`"),
    ],
)
def test_remedy_names_the_fix(case: str, hint: str) -> None:
    with pytest.raises(InputError) as info:
        read_case(case)
    assert any(hint in p.remedy for p in info.value.problems)


def test_zero_population_says_why() -> None:
    with pytest.raises(InputError) as info:
        read_case("e05_zero_and_negative_population")
    assert "'0'" in info.value.problems[0].message
    assert "divide by population" in info.value.problems[0].message


def test_encoding_option_reads_the_legacy_file(tmp_path: Path) -> None:
    data = read_case("a04_cp1256", encoding="cp1256")
    assert "عرب سنة" in set(data.population["faction"])
    for name in (F, P):
        (tmp_path / name).write_bytes((PLAIN / name).read_text().encode("utf-16"))
    assert read_dataset(tmp_path, encoding="utf-16").population.equals(
        read_dataset(PLAIN).population
    )


def test_multi_error_report_lists_everything_in_file_then_line_order() -> None:
    error = problems(folder=BAD / "m01_multi_error")
    assert len(error.problems) >= 5 and len({p.file for p in error.problems}) == 2
    assert where(error) == BAD_CASES["m01_multi_error"]
    order = [(p.file, p.line or 0) for p in error.problems]
    assert order == sorted(order)
    lines = str(error).splitlines()
    assert len(lines) == 7 and lines[0].endswith("[E-THOUSANDS]")
    assert lines[0].startswith(f"{BAD / 'm01_multi_error' / F}:2:production_bpd: ")


def test_problems_are_capped_with_a_final_count(tmp_path: Path) -> None:
    rows = "".join(f"{('Basra', 'Kirkuk', 'Erbil', 'NA')[i % 4]},F{i},x\n" for i in range(60))
    (tmp_path / "population.csv").write_text("region,faction,population\n" + rows)
    error = problems(folder=GOOD, population=tmp_path / "population.csv")
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert error.codes[:MAX_PROBLEMS] == ["E-NOT-A-NUMBER"] * MAX_PROBLEMS
    assert error.codes[-1] == "E-TOO-MANY" and "10 more" in error.problems[-1].message
    assert [p.line for p in error.problems[:MAX_PROBLEMS]] == list(range(2, 52))


# Line numbers: the physical line where the record starts, whatever came before it.

POP_HEADER = "region,faction,population"


def lines_of(tmp_path: Path, data: bytes) -> list[tuple[int | None, str | None, str]]:
    (tmp_path / F).write_text("field,region,production_bpd\nF,Basra,1\n")
    (tmp_path / P).write_bytes(data)
    return [(p.line, p.column, p.code) for p in problems(folder=tmp_path).problems]


def test_line_after_a_quoted_multiline_field(tmp_path: Path) -> None:
    text = f'{POP_HEADER}\nBasra,"Shia\nArab",2900000\nKirkuk,Kurd,x\n'
    assert lines_of(tmp_path, text.encode()) == [
        (2, "faction", "E-CONTROL-CHAR"),
        (4, "population", "E-NOT-A-NUMBER"),
    ]


def test_line_after_a_quoted_crlf_field(tmp_path: Path) -> None:
    text = f'{POP_HEADER}\r\nBasra,"Shia\r\nArab",2900000\r\nKirkuk,Kurd,x\r\n'
    assert lines_of(tmp_path, text.encode()) == [
        (2, "faction", "E-CONTROL-CHAR"),
        (4, "population", "E-NOT-A-NUMBER"),
    ]


def test_line_after_blank_lines(tmp_path: Path) -> None:
    text = f"{POP_HEADER}\nBasra,Shia Arab,1\n\n   \nKirkuk,Kurd,x\n"
    assert lines_of(tmp_path, text.encode()) == [(5, "population", "E-NOT-A-NUMBER")]


def test_line_and_column_with_a_bom(tmp_path: Path) -> None:
    text = f"\ufeff{POP_HEADER}\nBasra,Shia Arab,1\n,Kurd,5\n"
    assert lines_of(tmp_path, text.encode()) == [(3, "region", "E-MISSING-VALUE")]


def test_line_with_crlf(tmp_path: Path) -> None:
    text = f"{POP_HEADER}\r\nBasra,Shia Arab,1\r\nKirkuk,Kurd,2\r\nErbil,Kurd,-1\r\n"
    assert lines_of(tmp_path, text.encode()) == [(4, "population", "E-RANGE")]


def test_line_with_old_mac_cr_line_endings(tmp_path: Path) -> None:
    text = f"{POP_HEADER}\rBasra,Shia Arab,1\rKirkuk,Kurd,2\rErbil,Kurd,-1\r"
    assert lines_of(tmp_path, text.encode()) == [(4, "population", "E-RANGE")]


def test_line_on_the_first_data_row(tmp_path: Path) -> None:
    text = f"{POP_HEADER}\nBasra,Shia Arab,1e999\nKirkuk,Kurd,2\n"
    assert lines_of(tmp_path, text.encode()) == [(2, "population", "E-NON-FINITE")]


def test_line_on_the_last_line_without_a_newline(tmp_path: Path) -> None:
    text = f"{POP_HEADER}\nBasra,Shia Arab,1\nKirkuk,Kurd,2\nErbil,Kurd,=A1"
    assert lines_of(tmp_path, text.encode()) == [(4, "population", "E-FORMULA")]


def test_line_of_a_bad_byte_after_a_multiline_record(tmp_path: Path) -> None:
    data = f'{POP_HEADER}\nBasra,"Shia\nArab",1\n'.encode() + "Erbil,Kurdé,2\n".encode("cp1252")
    assert lines_of(tmp_path, data) == [(4, "faction", "E-ENCODING")]


def test_line_column_in_frames_skips_blank_lines(tmp_path: Path) -> None:
    text = (GOOD / P).read_text().replace("\nKirkuk,Kurd", "\n\n\nKirkuk,Kurd")
    (tmp_path / P).write_text(text)
    data = read_dataset(GOOD, population=tmp_path / P)
    assert list(data.population["_line"]) == [2, 5, 6, 7, 8, 9]


# Normalisation twins: each gives the canonical frames plus a notice.


def _reorder(text: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for region, faction, population in csv.reader(io.StringIO(text)):
        writer.writerow([population, faction, region])
    return out.getvalue()


TWINS: dict[str, tuple[Any, str]] = {
    "bom": (lambda t: "\ufeff" + t, "byte-order mark"),
    "crlf": (lambda t: t.replace("\n", "\r\n"), "CRLF line endings"),
    "bom_and_crlf": (lambda t: "\ufeff" + t.replace("\n", "\r\n"), "CRLF line endings"),
    "cr_only": (lambda t: t.replace("\n", "\r"), "CR line endings"),
    "blank_lines": (
        lambda t: t.replace("\nKirkuk,Turkmen", "\n\n \t \nKirkuk,Turkmen"),
        "skipped a blank line",
    ),
    "no_trailing_newline": (lambda t: t.rstrip("\n"), "no line break"),
    "header_whitespace": (
        lambda t: t.replace(POP_HEADER, " region ,faction\t, population"),
        "around the column name",
    ),
    "reordered_columns": (_reorder, "order differs"),
    "plus_sign": (lambda t: t.replace(",2900000", ",+2900000"), "leading '+'"),
    "scientific_notation": (lambda t: t.replace(",1800000", ",1.8e6"), "scientific notation"),
    "whitespace_around_names": (
        lambda t: t.replace("Erbil,Kurd,", "  Erbil\u00a0, Kurd ,"),
        "whitespace around a value",
    ),
    "direction_marks": (
        lambda t: t.replace("Kirkuk,Turkmen", "Kirkuk\u200f,\u200eTurkmen"),
        "right-to-left marks",
    ),
    "whitespace_around_numbers": (
        lambda t: t.replace(",600000", ", 600000 "),
        "whitespace around a value",
    ),
}


@pytest.fixture(scope="module")
def canonical() -> RawDataset:
    return read_dataset(GOOD)


@pytest.mark.parametrize("twin", sorted(TWINS))
def test_normalisation_twin(twin: str, canonical: RawDataset, tmp_path: Path) -> None:
    transform, notice = TWINS[twin]
    (tmp_path / P).write_bytes(transform((GOOD / P).read_text()).encode())
    data = read_dataset(GOOD, population=tmp_path / P)
    pd.testing.assert_frame_equal(
        data.population.drop(columns="_line"), canonical.population.drop(columns="_line")
    )
    assert [n for n in data.notices if notice in n and str(tmp_path / P) in n], data.notices
    assert canonical.notices == []


def test_nfd_names_are_nfc_normalised(tmp_path: Path) -> None:
    for form, folder in (("NFC", tmp_path / "nfc"), ("NFD", tmp_path / "nfd")):
        folder.mkdir()
        (folder / F).write_text("field,region,production_bpd\nF,Süleymaniye,1\n")
        (folder / P).write_text(
            unicodedata.normalize(form, "region,faction,population\nSüleymaniye,Kürd,1\n")
        )
    nfc, nfd = read_dataset(tmp_path / "nfc"), read_dataset(tmp_path / "nfd")
    pd.testing.assert_frame_equal(nfd.population, nfc.population)
    assert any("NFC-normalised" in n for n in nfd.notices) and nfc.notices == []


def test_quoted_values_are_plain_csv(canonical: RawDataset, tmp_path: Path) -> None:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
        csv.reader(io.StringIO((GOOD / P).read_text()))
    )
    (tmp_path / P).write_text(out.getvalue())
    data = read_dataset(GOOD, population=tmp_path / P)
    pd.testing.assert_frame_equal(data.population, canonical.population)
    assert data.notices == []


def test_non_whole_population_is_kept_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / P).write_text((GOOD / P).read_text().replace(",1000\n", ",1000.5\n"))
    data = read_dataset(GOOD, population=tmp_path / P)
    assert data.population["population"].iloc[-1] == 1000.5
    assert any("not a whole number (1 time; line 7)" in n for n in data.notices)


# The good dataset and the contract of RawDataset.


def test_good_dataset_reads_without_problems(canonical: RawDataset) -> None:
    assert list(canonical.fields.columns) == [*SCHEMAS["fields"].names, "_line"]
    assert list(canonical.population.columns) == [*SCHEMAS["population"].names, "_line"]
    assert list(canonical.regions.columns) == [*SCHEMAS["regions"].names, "_line"]
    assert canonical.fields["production_bpd"].dtype == "float64"
    assert canonical.fields["_line"].dtype == "int64"
    assert canonical.regions["coastal"].dtype == bool
    assert list(canonical.regions["coastal"]) == [True, False, False, False]
    assert canonical.fields["annual_revenue_usd"].isna().all()
    assert list(canonical.fields["export_via"]) == ["", "South", "South", "", ""]
    assert list(canonical.fields["_line"]) == [2, 3, 4, 5, 6]
    assert math.isnan(canonical.regions["area_km2"].iloc[-1])
    assert canonical.structures == {"default_price": 70.0}


def test_na_and_leading_zeros_stay_text(canonical: RawDataset) -> None:
    assert "NA" in set(canonical.population["region"])
    assert {"007", "7"} <= set(canonical.fields["field"])


def test_paths_and_hashes(canonical: RawDataset) -> None:
    assert canonical.paths == {role: os.path.join(GOOD, name) for name, role in ROLES.items()}
    for role, path in canonical.paths.items():
        assert canonical.hashes[role] == hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_explicit_files_without_regions_or_structures() -> None:
    data = read_dataset(fields=str(PLAIN / F), population=PLAIN / P)
    assert data.paths == {"fields": str(PLAIN / F), "population": str(PLAIN / P)}
    assert list(data.fields["annual_revenue_usd"].isna()) == [True, False]
    assert list(data.fields["share"]) == [1.0, 1.0] and data.notices == []
    assert data.regions.empty and list(data.regions.columns) == [*SCHEMAS["regions"].names, "_line"]
    assert data.regions["coastal"].dtype == bool and data.structures == {}


def test_explicit_file_overrides_the_folder(tmp_path: Path) -> None:
    (tmp_path / P).write_text((GOOD / P).read_text().replace("2900000", "3000000"))
    data = read_dataset(GOOD, population=tmp_path / P)
    assert data.paths["population"] == str(tmp_path / P)
    assert data.population["population"].iloc[0] == 3_000_000


def test_structures_toml_with_a_bom(tmp_path: Path) -> None:
    (tmp_path / T).write_bytes(b"\xef\xbb\xbfdefault_price = 60\n")
    data = read_dataset(GOOD, structures=tmp_path / T)
    assert data.structures == {"default_price": 60}
    assert any("byte-order mark" in n for n in data.notices)


# Paths, special files, limits and options.


def test_special_files_are_refused_before_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    error = problems(folder=GOOD, population=fifo, regions=tmp_path)
    assert where(error)[0][3] == "E-NOT-A-FILE" and where(error)[1][3] == "E-NOT-A-FILE"
    assert "named pipe" in error.problems[0].message or "named pipe" in error.problems[1].message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused() -> None:
    assert problems(folder=GOOD, fields="/dev/zero").codes == ["E-NOT-A-FILE"]


@pytest.mark.parametrize(
    ("kwargs", "codes"),
    [
        ({}, ["E-NO-INPUT"]),
        ({"fields": PLAIN / F}, ["E-MISSING-FILE"]),
        ({"fields": GOOD / F}, ["E-UNKNOWN-BLOC", "E-MISSING-FILE"]),
        ({"folder": FIXTURES / "no-such-folder"}, ["E-NOT-FOUND"]),
        ({"folder": GOOD / F}, ["E-NOT-A-FOLDER"]),
        ({"folder": BAD}, ["E-MISSING-FILE", "E-MISSING-FILE"]),
        ({"folder": GOOD, "regions": GOOD / "missing.csv"}, ["E-NOT-FOUND"]),
        ({"folder": GOOD, "population": GOOD / F}, ["E-SAME-FILE"]),
        (
            {"folder": GOOD, "encoding": "no-such-codec", "delimiter": ";;", "max_rows": 0},
            ["E-OPTION", "E-OPTION", "E-OPTION"],
        ),
        ({"folder": GOOD, "max_bytes": 100}, ["E-TOO-LARGE"] * 3),
    ],
)
def test_path_and_option_problems(kwargs: dict[str, Any], codes: list[str]) -> None:
    assert problems(**kwargs).codes == codes


def test_a_huge_field_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / P).write_text(f'{POP_HEADER}\nBasra,Shia Arab,1\nKirkuk,"{"x" * 200_000}",2\n')
    error = problems(folder=GOOD, population=tmp_path / P)
    assert [(p.line, p.code) for p in error.problems] == [(3, "E-TOO-LARGE")]


def test_column_dictionary_covers_every_column() -> None:
    from revshare.data.schema import column_dictionary_markdown

    text = column_dictionary_markdown()
    for schema in SCHEMAS.values():
        assert f"`{schema.filename}`" in text
        assert all(f"| `{name}` |" in text for name in schema.names)


def test_data_readme_documents_every_column() -> None:
    readme = Path(__file__).parents[1] / "data" / "README.md"
    if not readme.exists():
        pytest.skip("data/README.md is not written yet")
    text = readme.read_text(encoding="utf-8")
    missing = [c for s in SCHEMAS.values() for c in s.names if c not in text]
    assert missing == []


# Properties.


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_number_round_trips_every_finite_float(value: float) -> None:
    assert parse_number(repr(value), []) == value


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=300) | st.text(max_size=200).map(lambda t: (POP_HEADER + "\n" + t).encode())
)
def test_any_bytes_give_a_dataset_or_located_problems(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / P
        path.write_bytes(data)
        try:
            read_dataset(GOOD, population=path)
        except InputError as error:
            n_lines = data.count(b"\n") + data.count(b"\r") + 1
            for p in error.problems:
                assert p.code.startswith("E-") and p.message and p.remedy
                assert p.file != str(path) or p.line is None or 1 <= p.line <= n_lines
