"""Families of bad input from issue 11, each tested as a family (a table or a strategy).

Classes covered: 1 (period labels), 4 (name clashes between kinds), 7 and 12 (ranges and
totals), 8 (every rule of data/README.md), 9 (look-alike names), 15 (encodings), 24 (revenue in
USD needs no price; empty optional cells; production and revenue on one row).
"""

from __future__ import annotations

import codecs
import encodings
import math
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_readers import BAD, GOOD, PLAIN, read_case, where

import revshare
from revshare.data.dataset import check_price, check_prices
from revshare.data.readers import check_encoding, read_dataset, read_periods, read_prices
from revshare.data.schema import MAX_PRICE, SCHEMAS, name_key
from revshare.errors import InputError

ROOT = Path(__file__).parents[1]
F, P, R, T = "fields.csv", "population.csv", "regions.csv", "structures.toml"


def codes_of(call: Callable[[], Any]) -> list[str]:
    with pytest.raises(InputError) as info:
        call()
    for p in info.value.problems:
        assert p.code.startswith("E-") and p.message and p.remedy
    return info.value.codes


# --- 1. Period labels -----------------------------------------------------------------------------

# label in the file -> the label read, or the code of the problem on its line
PERIOD_LABELS: list[tuple[str, int | str]] = [
    ("0", 0),
    ("7", 7),
    ("2005", 2005),
    ("1000000", 1_000_000),
    ("1.0", 1),
    ("2.005e3", 2005),
    ("+3", 3),
    ("1.7", "E-NOT-INTEGER"),
    ("1.2", "E-NOT-INTEGER"),
    ("0.5", "E-NOT-INTEGER"),
    ("1e-300", "E-NOT-INTEGER"),
    ("1e300", "E-RANGE"),
    ("1180591620717411303424", "E-RANGE"),  # 2**70
    ("1000001", "E-RANGE"),
    ("-1", "E-RANGE"),
    ("-0.5", "E-RANGE"),
    ("1e400", "E-NON-FINITE"),
    ("nan", "E-NON-FINITE"),
    ("inf", "E-NON-FINITE"),
    ("", "E-MISSING-VALUE"),
    ("1,5", "E-DECIMAL-COMMA"),
    ("0x10", "E-UNIT-IN-VALUE"),
    ("two", "E-NOT-A-NUMBER"),
    ("١", "E-NON-ASCII-DIGIT"),
    ("=1", "E-FORMULA"),
    ("2005 AD", "E-UNIT-IN-VALUE"),
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("label", "expected"), PERIOD_LABELS)
def test_period_labels(label: str, expected: int | str, tmp_path: Path) -> None:
    path = write(tmp_path / "periods.csv", f'period,price,years\n"{label}",70,1\n999999,80,1\n')
    if isinstance(expected, int):
        path_ = read_periods(path)
        assert path_["period"].dtype == "int64"
        assert sorted([expected, 999_999]) == list(path_["period"])
        return
    with pytest.raises(InputError) as info:
        read_periods(path)
    assert where(info.value) == [("periods.csv", 2, "period", expected)]


@pytest.mark.parametrize(("label", "expected"), PERIOD_LABELS)
def test_scenario_period_labels(label: str, expected: int | str, tmp_path: Path) -> None:
    path = write(tmp_path / "prices.csv", f'scenario,period,price\ns,"{label}",70\n')
    if expected == "E-MISSING-VALUE":
        expected = 0  # a blank period is a single price: period 0
    if isinstance(expected, int):
        assert list(read_prices(path)["period"]) == [expected]
    else:
        assert where(codes_error(lambda: read_prices(path))) == [
            ("prices.csv", 2, "period", expected)
        ]


def codes_error(call: Callable[[], Any]) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("1,70,1\n1,80,1\n", [("periods.csv", 3, "period", "E-DUPLICATE")]),
        ("1,70,1\n1.0,80,1\n", [("periods.csv", 3, "period", "E-DUPLICATE")]),
        ("2005,70,1\n2.005e3,80,1\n", [("periods.csv", 3, "period", "E-DUPLICATE")]),
        ("0,-1,1\n", [("periods.csv", 2, "price", "E-RANGE")]),
        ("0,10000.5,1\n", [("periods.csv", 2, "price", "E-RANGE")]),
        ("0,1e308,1\n", [("periods.csv", 2, "price", "E-RANGE")]),
        ("0,70,0\n", [("periods.csv", 2, "years", "E-RANGE")]),
        ("0,70,1e-300\n", [("periods.csv", 2, "years", "E-RANGE")]),
        ("0,70,11\n", [("periods.csv", 2, "years", "E-RANGE")]),
        (
            "1.5,70,1\n1.5,-3,0\n",
            [
                ("periods.csv", 2, "period", "E-NOT-INTEGER"),
                ("periods.csv", 3, "period", "E-NOT-INTEGER"),
                ("periods.csv", 3, "price", "E-RANGE"),
                ("periods.csv", 3, "years", "E-RANGE"),
            ],
        ),
    ],
)
def test_period_file_problems_are_all_reported(
    rows: str, expected: list[Any], tmp_path: Path
) -> None:
    path = write(tmp_path / "periods.csv", "period,price,years\n" + rows)
    assert where(codes_error(lambda: read_periods(path))) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 1_000_000), min_size=1, max_size=12, unique=True), st.randoms())
def test_a_path_runs_in_period_order_whatever_the_file_order(labels: list[int], rnd: Any) -> None:
    rows = [(label, round(10 + label % 97, 2)) for label in labels]
    rnd.shuffle(rows)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        text = "period,price,years\n" + "".join(f"{p},{c},1\n" for p, c in rows)
        path = write(Path(folder) / "periods.csv", text)
        out = read_periods(path)
    assert list(out["period"]) == sorted(labels)
    assert list(out["price"]) == [round(10 + p % 97, 2) for p in sorted(labels)]


def test_the_shipped_price_path_reads_in_order() -> None:
    path = read_periods(ROOT / "data" / "iraq" / "brent-2005-2024.csv")
    assert list(path["period"]) == list(range(2005, 2025))


# --- 15. Encodings --------------------------------------------------------------------------------

STDLIB_CODECS = sorted(
    {m.name for m in pkgutil.iter_modules(encodings.__path__)} - {"aliases", "mbcs", "oem"}
)
NOT_TEXT = {"base64_codec", "bz2_codec", "hex_codec", "quopri_codec", "rot_13", "uu_codec",
            "zlib_codec", "undefined", "idna", "punycode", "unicode_escape",
            "raw_unicode_escape"}  # fmt: skip


def test_the_codec_table_is_the_stdlib() -> None:
    assert set(STDLIB_CODECS) >= NOT_TEXT and len(STDLIB_CODECS) > 90


@pytest.mark.parametrize("name", STDLIB_CODECS)
def test_every_stdlib_codec_reads_or_is_refused(name: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError:
        pytest.skip(f"{name} is not available on this platform")
    if name in NOT_TEXT:
        assert check_encoding(name) is not None
        error = codes_error(lambda: read_dataset(GOOD, encoding=name))
        assert [(p.file, p.code) for p in error.problems] == [("encoding", "E-OPTION")]
        return
    assert check_encoding(name) is None
    try:
        read_dataset(PLAIN, encoding=name)
    except InputError as error:  # the ASCII files may not be valid in, e.g., UTF-16 or EBCDIC
        assert all(p.code.startswith("E-") for p in error.problems)


@pytest.mark.parametrize(
    "name",
    ["base64", "rot13", "hex", "zlib", "uu", "bz2", "quopri", "rot-13", "BASE64", "no-such-codec",
     "", " ", "utf-8\x00", "idna", "undefined", "unicode-escape"],
)  # fmt: skip
def test_non_text_and_unknown_encodings_name_the_parameter(name: str, tmp_path: Path) -> None:
    periods = write(tmp_path / "periods.csv", "period,price\n0,70\n")
    for call in (
        lambda: read_dataset(GOOD, encoding=name),
        lambda: read_periods(periods, encoding=name),
        lambda: read_prices(periods, encoding=name),
        lambda: revshare.load_dataset(GOOD, encoding=name),
    ):
        error = codes_error(call)
        assert [(p.file, p.code) for p in error.problems] == [("encoding", "E-OPTION")]
        assert "--" not in str(error)


# --- 9. Look-alike names --------------------------------------------------------------------------

BASE = "Shia Arab"
LOOK_ALIKES = {
    "case": "SHIA ARAB",
    "full-width letter": "\uff33hia Arab",
    "inner non-breaking space": "Shia\u00a0Arab",
    "narrow no-break space": "Shia\u202fArab",
    "ideographic space": "Shia\u3000Arab",
    "two spaces": "Shia  Arab",
    "ZWNJ": "Sh\u200cia Arab",
    "ZWJ": "Sh\u200dia Arab",
    "variation selector": "Shia\ufe0f Arab",
    "ideographic variation selector": "Shia Arab\U000e0100",
    "combining grapheme joiner": "Sh\u034fia Arab",
    "Hangul filler": "Shia Arab\u3164",
    "Mongolian free variation selector": "Sh\u180bia Arab",
    "soft hyphen": "Sh\u00adia Arab",
    "word joiner": "Sh\u2060ia Arab",
    "zero-width space": "Sh\u200bia Arab",
    "tag character": "Shia Arab\U000e0041",
    "mathematical bold": "\U0001d412hia Arab",
    "circled letter": "\u24c8hia Arab",
}


@pytest.mark.parametrize("kind", sorted(LOOK_ALIKES))
def test_look_alike_names_are_one_name(kind: str, tmp_path: Path) -> None:
    twin = LOOK_ALIKES[kind]
    assert name_key(twin) == name_key(BASE) or unicodedata_cf(twin)
    text = f"region,faction,population\nKirkuk,{BASE},600000\nErbil,{twin},1800000\n"
    write(tmp_path / P, text)
    write(tmp_path / F, "field,region,production_bpd\nF,Kirkuk,1\n")
    if twin == BASE:  # the same name in two regions: no problem
        read_dataset(tmp_path)
        return
    error = codes_error(lambda: read_dataset(tmp_path))
    assert where(error) in (
        [(P, 3, "faction", "E-NEAR-DUP")],
        [(P, 3, "faction", "E-INVISIBLE-CHAR")],  # a format character is refused outright
    )
    assert "line 2" in error.problems[0].message or error.codes == ["E-INVISIBLE-CHAR"]


def test_a_ligature_is_the_plain_letters(tmp_path: Path) -> None:
    write(tmp_path / F, "field,region,production_bpd\n\ufb01eld,Basra,1\nfield,Kirkuk,1\n")
    error = codes_error(lambda: read_dataset(GOOD, fields=tmp_path / F))
    assert where(error) == [(F, 3, "field", "E-NEAR-DUP")]


def unicodedata_cf(name: str) -> bool:
    import unicodedata

    return any(unicodedata.category(c) == "Cf" for c in name)


ARABIC_LOOK_ALIKES = [
    ("كركوك", "ﻛﺮﻛﻮﻙ"),  # presentation forms
    ("البصرة", "البصره"),  # teh marbuta and heh
    ("أربيل", "اربيل"),  # alef with hamza
    ("کرکوک", "كركوك"),  # Persian keheh
    ("الموصل", "المـوصل"),  # tatweel
]


@pytest.mark.parametrize(("one", "two"), ARABIC_LOOK_ALIKES)
def test_arabic_look_alikes_are_near_duplicates(one: str, two: str, tmp_path: Path) -> None:
    write(tmp_path / P, f"region,faction,population\n{one},x,1\n{two},x,2\n")
    write(tmp_path / F, f"field,region,production_bpd\nF,{one},1\n")
    error = codes_error(lambda: read_dataset(tmp_path))
    assert where(error) == [(P, 3, "region", "E-NEAR-DUP")]


SPACES = ["\u00a0", "\u2007", "\u202f", "\u3000", "\u2003", "  ", "\t"]
IGNORABLES = ["\u200c", "\u200d", "\ufe0f", "\ufe00", "\u034f", "\U000e0101", "\u180c"]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["Shia Arab", "Sunni Arab", "Kurd Turkmen"]),
    st.lists(
        st.tuples(st.sampled_from(SPACES + IGNORABLES), st.integers(0, 20)), min_size=1, max_size=3
    ),
)
def test_inserting_invisible_or_space_variants_never_makes_a_new_name(
    name: str, inserts: list[tuple[str, int]]
) -> None:
    twin = name
    for char, at in inserts:
        if char in SPACES:
            twin = twin.replace(" ", char, 1) if " " in twin else twin
        else:
            pos = at % (len(twin) + 1)
            twin = twin[:pos] + char + twin[pos:]
    if twin == name:
        return
    assert name_key(twin) == name_key(name)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        write(base / P, f"region,faction,population\nA,{name},1\nB,{twin},2\n")
        write(base / F, "field,region,production_bpd\nF,A,1\n")
        error = codes_error(lambda: read_dataset(base))
    assert error.codes in (["E-NEAR-DUP"], ["E-CONTROL-CHAR"])  # a tab inside a name


def test_a_look_alike_reference_is_named(tmp_path: Path) -> None:
    write(tmp_path / F, "field,region,production_bpd\nF,\uff22asra,1\n")
    error = codes_error(lambda: read_dataset(GOOD, fields=tmp_path / F))
    assert where(error) == [(F, 2, "region", "E-UNKNOWN-REGION")]
    assert "differs from 'Basra' only by" in error.problems[0].message


# --- 4. Name clashes between kinds ---------------------------------------------------------------

# regions.csv rows (region, bloc) for the regions Basra, Kirkuk, Erbil, NA -> clash lines
CLASHES: list[tuple[str, list[tuple[str, str]], list[int]]] = [
    ("bloc-less region named like a bloc", [("Basra", ""), ("Kirkuk", "Basra")], [2]),
    ("region named like another bloc", [("Basra", "South"), ("Kirkuk", "Basra")], [2]),
    ("case variant", [("Basra", ""), ("Kirkuk", "BASRA")], [2]),
    ("full-width variant", [("Basra", ""), ("Kirkuk", "\uff22asra")], [2]),
    ("two regions, two clashes", [("Basra", ""), ("Kirkuk", "Erbil"), ("NA", "Basra")], [2, 4]),
    ("crossed names", [("Basra", "Kirkuk"), ("Kirkuk", "Basra")], [2, 3]),
    ("bloc named after its region", [("Basra", "Basra"), ("Kirkuk", "Basra")], []),
    ("one-region bloc", [("Basra", "Basra"), ("Kirkuk", "North")], []),
    ("bloc-less regions only", [("Basra", ""), ("Kirkuk", "")], []),
    ("faction-like bloc", [("Basra", "Kurd"), ("Kirkuk", "Kurd")], []),
]


@pytest.mark.parametrize(("case", "blocs", "lines"), CLASHES, ids=[c[0] for c in CLASHES])
def test_a_bloc_bears_no_name_of_a_region_outside_it(
    case: str, blocs: list[tuple[str, str]], lines: list[int], tmp_path: Path
) -> None:
    given = dict(blocs)
    rows = [(r, given.get(r, "North")) for r in ("Basra", "Kirkuk", "Erbil", "NA")]
    write(tmp_path / R, "region,bloc\n" + "".join(f"{r},{b}\n" for r, b in rows))
    write(tmp_path / F, "field,region,production_bpd\nF,Basra,1\n")
    if not lines:
        read_dataset(GOOD, regions=tmp_path / R, fields=tmp_path / F)
        return
    error = codes_error(lambda: read_dataset(GOOD, regions=tmp_path / R, fields=tmp_path / F))
    assert where(error) == [(R, line, "region", "E-NAME-CLASH") for line in lines]
    assert re.search(r"\(line \d+\)", error.problems[0].message)
    # in memory, the merge (a region without a bloc named like a bloc) is refused too
    merges = [line for line in lines if rows[line - 2][1] == ""]
    frame = pd.DataFrame(rows, columns=["region", "bloc"])

    def build() -> revshare.Territory:
        return revshare.territory_from_frames(
            pd.DataFrame({"field": ["F"], "region": ["Basra"], "production_bpd": [1.0]}),
            read_dataset(GOOD).population,
            frame,
        )

    if merges:
        assert codes_error(build).codes == ["E-NAME-CLASH"] * len(merges)
    else:
        assert len(build().blocs) == len(set(b for _, b in rows))


# --- 7 and 12. Ranges and totals -----------------------------------------------------------------

# (file, column, value, accepted?)
RANGES: list[tuple[str, str, str, bool]] = [
    (F, "production_bpd", "1e306", False),
    (F, "production_bpd", "100000001", False),
    (F, "production_bpd", "1e-300", False),
    (F, "production_bpd", "-1", False),
    (F, "production_bpd", "0", True),
    (F, "production_bpd", "1e8", True),
    (F, "share", "1e-300", False),
    (F, "share", "1", True),
    (F, "cost_usd_per_bbl", "10001", False),
    (F, "cost_usd_per_bbl", "10000", True),
    (F, "government_take", "1e-300", False),
    (F, "government_take", "0", True),
    (F, "transit_fee_usd_per_bbl", "1e-300", False),
    (F, "transit_fee_usd_per_bbl", "1e5", False),
    (F, "annual_revenue_usd", "1.1e15", False),
    (F, "annual_revenue_usd", "0.5", False),
    (F, "annual_revenue_usd", "1e15", True),
    (P, "population", "1e-300", False),
    (P, "population", "0", False),
    (P, "population", "1e11", False),
    (P, "population", "0.001", True),
    (P, "population", "1e10", True),
    (R, "area_km2", "1e-300", False),
    (R, "area_km2", "1e10", False),
    (R, "need_index", "1e-300", False),
    (R, "need_index", "1e7", False),
    (R, "damage", "1e-300", False),
    (R, "damage", "1e7", False),
    (R, "damage", "0", True),
    (R, "baseline_usd_per_capita", "1e16", False),
    (R, "baseline_usd_per_capita", "1e11", True),
    (R, "baseline_usd_per_capita", "-1", False),
]


def one_row_dataset(tmp_path: Path, file: str, column: str, value: str) -> Path:
    """A one-region dataset whose ``file`` has ``column`` = ``value``."""
    fields = {"field": "F", "region": "A", "production_bpd": "1000"}
    population = {"region": "A", "faction": "x", "population": "1000"}
    regions = {"region": "A", "bloc": "A"}
    table = {F: fields, P: population, R: regions}
    if column == "annual_revenue_usd":
        del fields["production_bpd"]
    if column == "transit_fee_usd_per_bbl":  # a fee needs a route through another bloc
        fields["export_via"] = "B"
        population_b = "B,y,1000\n"
        regions_b = "B,B\n"
    else:
        population_b = regions_b = ""
    table[file][column] = value
    for name, row in table.items():
        extra = {P: population_b, R: regions_b}.get(name, "")
        if name == R and extra:
            row = {**row, **{k: "" for k in row if k not in ("region", "bloc")}}
        text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
        if extra:
            text += extra if name == P else "B,B" + "," * (len(row) - 2) + "\n"
        write(tmp_path / name, text)
    return tmp_path


@pytest.mark.parametrize(("file", "column", "value", "ok"), RANGES)
def test_every_number_has_a_documented_range(
    file: str, column: str, value: str, ok: bool, tmp_path: Path
) -> None:
    folder = one_row_dataset(tmp_path, file, column, value)
    if ok:
        revshare.load_dataset(folder)
        return
    error = codes_error(lambda: revshare.load_dataset(folder))
    assert where(error) == [(file, 2, column, "E-RANGE")]
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"| `{column}` |" in text


@pytest.mark.parametrize(("file", "column", "value", "ok"), [r for r in RANGES if not r[3]])
def test_frames_built_in_memory_get_the_same_ranges(
    file: str, column: str, value: str, ok: bool, tmp_path: Path
) -> None:
    raw = read_dataset(one_row_dataset(tmp_path, file, column, "1"))
    frames = {F: raw.fields.copy(), P: raw.population.copy(), R: raw.regions.copy()}
    frames[file][column] = float(value)
    error = codes_error(lambda: revshare.territory_from_frames(frames[F], frames[P], frames[R]))
    assert "E-RANGE" in error.codes


NUMBER_COLUMNS = [
    (file, col.name)
    for file, role in ((F, "fields"), (P, "population"), (R, "regions"))
    for col in SCHEMAS[role].columns
    if col.kind == "number"
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(NUMBER_COLUMNS),
    st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e306, 1e-300, 5e-324]),
)
def test_any_magnitude_is_read_in_range_or_refused_with_its_place(
    where_: tuple[str, str], value: float
) -> None:
    import tempfile

    file, column = where_
    role = {F: "fields", P: "population", R: "regions"}[file]
    col = next(c for c in SCHEMAS[role].columns if c.name == column)
    with tempfile.TemporaryDirectory() as folder:
        one_row_dataset(Path(folder), file, column, repr(value))
        try:
            t = revshare.load_dataset(folder)
        except InputError as error:
            assert error.problems and all(p.code.startswith("E-") for p in error.problems)
            assert any(Path(p.file).name == file for p in error.problems)
            return
    assert col.in_range(value)
    money = t.money(np.array([0.0, MAX_PRICE]))
    assert np.isfinite(money.revenue).all() and (money.revenue <= 1e15).all()


def test_every_number_column_is_bounded_above_and_below() -> None:
    for schema in SCHEMAS.values():
        for col in schema.columns:
            if col.kind == "number":
                assert col.high is not None and col.low is not None, col.name
                assert not col.in_range(math.inf) and not col.in_range(math.nan)


@pytest.mark.parametrize(
    ("case", "column"),
    [
        ("r06_total_production", "production_bpd"),
        ("r07_total_population", "population"),
        ("r08_total_usd_revenue", "annual_revenue_usd"),
        ("r09_total_baseline", "baseline_usd_per_capita"),
    ],
)
def test_dataset_totals_are_bounded(case: str, column: str) -> None:
    error = codes_error(lambda: read_case(case))
    assert [(p.line, p.column, p.code) for p in error.problems] == [(None, column, "E-RANGE")]
    assert "documented limit" in error.problems[0].message


@pytest.mark.parametrize(
    "price", [-1.0, -0.0001, math.nan, math.inf, -math.inf, 1e308, MAX_PRICE * 1.0001, True, "80"]
)
def test_check_price_refuses_what_lies_outside_the_range(price: Any) -> None:
    error = codes_error(lambda: check_price(price))
    assert [(p.file, p.code) for p in error.problems] == [("price", "E-RANGE")]
    assert "--" not in str(error)


@pytest.mark.parametrize("price", [0, 0.0, 82.49, MAX_PRICE, np.float64(50.0), 7])
def test_check_price_accepts_the_range(price: Any) -> None:
    assert check_price(price) == float(price)


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(ROOT / "data" / "iraq")


def test_the_revenue_at_the_price_is_bounded() -> None:
    big = revshare.territory_from_frames(
        pd.DataFrame(
            {
                "field": ["F", "G"],
                "region": ["A", "A"],
                "production_bpd": [1e8, np.nan],
                "annual_revenue_usd": [np.nan, 9e14],
            }
        ),
        pd.DataFrame({"region": ["A"], "faction": ["x"], "population": [1.0]}),
    )
    assert check_price(1000.0, big) == 1000.0  # 9e14 + 3.65e13 USD a year
    error = codes_error(lambda: check_price(5000.0, big, parameter="fund_benchmark"))
    assert [(p.file, p.code) for p in error.problems] == [("fund_benchmark", "E-RANGE")]
    assert "1e15" in error.problems[0].message


def test_check_prices_reports_every_bad_price_at_once(iraq: revshare.Territory) -> None:
    error = codes_error(
        lambda: check_prices([80, -1, 1e9, math.nan], iraq, lines=[2, 3, 4, 5], parameter="p.csv")
    )
    assert [(p.file, p.line, p.code) for p in error.problems] == [
        ("p.csv", 3, "E-RANGE"),
        ("p.csv", 4, "E-RANGE"),
        ("p.csv", 5, "E-RANGE"),
    ]
    assert list(check_prices([60, 80], iraq)) == [60.0, 80.0]


def test_a_price_path_total_is_bounded() -> None:
    p = revshare.territory_from_frames(
        pd.DataFrame({"field": ["F"], "region": ["A"], "production_bpd": [2.5e6]}),
        pd.DataFrame({"region": ["A"], "faction": ["x"], "population": [1.0]}),
    )
    ok = check_prices([100.0] * 10, p, years=[1.0] * 10)  # 9.1e11 a year, 9.1e12 in all
    assert len(ok) == 10
    error = codes_error(lambda: check_prices([10000.0] * 200, p, years=[10.0] * 200))
    assert error.codes == ["E-RANGE"] and "1e15" in error.problems[0].message


def test_default_price_out_of_range_is_located(tmp_path: Path) -> None:
    for value in ("1e308", "-5", "true", '"80"', "nan"):
        write(tmp_path / T, f"# price\n\ndefault_price = {value}\n")
        error = codes_error(lambda: revshare.load_dataset(GOOD, structures=tmp_path / T))
        assert [(Path(p.file).name, p.line, p.column, p.code) for p in error.problems] == [
            (T, 3, "default_price", "E-RANGE")
        ], value


def test_load_dataset_takes_a_structures_file(tmp_path: Path) -> None:
    write(tmp_path / T, "default_price = 60\n")
    assert revshare.load_dataset(GOOD, structures=tmp_path / T).default_price == 60.0


# --- 24. Revenue in USD needs no price ----------------------------------------------------------


def usd_only(tmp_path: Path, toml: str = "") -> Path:
    write(tmp_path / F, "field,region,annual_revenue_usd\nA,Basra,5e9\nB,Kirkuk,1e9\n")
    write(tmp_path / P, "region,faction,population\nBasra,x,100\nKirkuk,y,50\n")
    if toml:
        write(tmp_path / T, toml)
    return tmp_path


def test_a_dataset_in_usd_does_not_depend_on_the_price(tmp_path: Path) -> None:
    t = revshare.load_dataset(usd_only(tmp_path))
    assert t.price_dependent is False
    assert list(t.money(np.array([0.0, 80.0, 1e4])).revenue) == [6e9] * 3
    assert t.price_notice(None) is None
    assert "not used" in (t.price_notice(80.0) or "")
    assert check_price(80.0, t) == 80.0  # a single price is not refused: it is not used
    error = codes_error(lambda: check_prices([60.0, 80.0], t))
    assert error.codes == ["E-PRICE-UNUSED"] and "same at every price" in error.problems[0].message


def test_a_default_price_in_a_usd_dataset_gets_a_notice(tmp_path: Path) -> None:
    t = revshare.load_dataset(usd_only(tmp_path, "default_price = 70\n"))
    assert any("default_price is not used" in n for n in t.provenance["notices"])


def test_one_production_row_makes_revenue_depend_on_the_price(iraq: revshare.Territory) -> None:
    mixed = revshare.load_dataset(PLAIN)
    assert mixed.price_dependent and iraq.price_dependent
    assert iraq.price_notice(80.0) is None
    assert check_prices([60.0], iraq).tolist() == [60.0]


def test_empty_optional_cells_take_their_defaults(tmp_path: Path) -> None:
    explicit = (
        "field,region,production_bpd,share,cost_usd_per_bbl,government_take,"
        "transit_fee_usd_per_bbl,export_via,annual_revenue_usd\n"
    )
    write(tmp_path / "a.csv", explicit + "Rumaila,Basra,1300000,1,0,1,0,,\n")
    write(tmp_path / "b.csv", explicit + "Rumaila,Basra,1300000,,,,,,\n")
    a = read_dataset(GOOD, fields=tmp_path / "a.csv").fields
    b = read_dataset(GOOD, fields=tmp_path / "b.csv").fields
    pd.testing.assert_frame_equal(a, b)
    regions = "region,bloc,area_km2,need_index,damage,baseline_usd_per_capita,coastal\n"
    write(
        tmp_path / "r.csv",
        regions + "".join(f"{r},,,,,,\n" for r in ("Basra", "Kirkuk", "Erbil", "NA")),
    )
    write(tmp_path / "f.csv", "field,region,production_bpd\nF,Basra,1\n")
    raw = read_dataset(GOOD, regions=tmp_path / "r.csv", fields=tmp_path / "f.csv")
    t = revshare.territory_from_frames(raw.fields, raw.population, raw.regions)
    assert list(t.regions["damage"]) == [0.0] * 4 and not t.regions["coastal"].any()
    assert list(t.regions["bloc"]) == list(t.regions.index)  # each its own bloc


def test_production_and_revenue_on_one_row_is_refused_in_memory() -> None:
    error = codes_error(
        lambda: revshare.territory_from_frames(
            pd.DataFrame(
                {
                    "field": ["F", "G"],
                    "region": ["A", "A"],
                    "production_bpd": [1.0, np.nan],
                    "annual_revenue_usd": [1e6, np.nan],
                }
            ),
            pd.DataFrame({"region": ["A"], "faction": ["x"], "population": [1.0]}),
        )
    )
    assert error.codes == ["E-CONFLICT", "E-MISSING-VALUE"]


# --- 8. Every rule of data/README.md has a bad input ---------------------------------------------


def _period_problem(text: str) -> Callable[[Path], list[str]]:
    def run(tmp_path: Path) -> list[str]:
        path = write(tmp_path / "periods.csv", "period,price,years\n" + text)
        return codes_of(lambda: read_periods(path))

    return run


def _price_unused(tmp_path: Path) -> list[str]:
    return codes_of(lambda: check_prices([60, 80], revshare.load_dataset(usd_only(tmp_path))))


def _toml(tmp_path: Path) -> list[str]:
    return codes_of(lambda: read_case("x06_toml_syntax"))


STRUCTURE_VALUES = [
    ("colour = 1", "E-UNKNOWN-PARAMETER"),
    ('extends = "empire"', "E-STRUCTURE"),
    ("central_share = 1.5", "E-RANGE"),
    ("central_share = [0.5, 0.2]", "E-RANGE"),
    ("derivation = -0.1", "E-RANGE"),
    ('bloc_retention = "x"', "E-STRUCTURE"),
    ("bloc_share = { South = 1.5 }", "E-RANGE"),
    ("faction_share = { Kurd = -0.5 }", "E-RANGE"),
    ("per_capita_floor = -1", "E-RANGE"),
    ("per_capita_cap = -1", "E-RANGE"),
    ("damage_allotment = 2", "E-RANGE"),
    ('within_region = "maybe"', "E-STRUCTURE"),
    ('secession_proof = "yes"', "E-STRUCTURE"),
    ("secession_cost = 3", "E-RANGE"),
    ('objective = "best"', "E-UNKNOWN-OBJECTIVE"),
    ("formula_weights = { foo = 1 }", "E-STRUCTURE"),
    ("description = 5", "E-STRUCTURE"),
]


def _structure_codes(body: str, tmp_path: Path) -> list[str]:
    write(tmp_path / T, f"default_price = 70\n[structures.s]\n{body}\n")
    return codes_of(lambda: revshare.load_dataset(GOOD, structures=tmp_path / T))


@pytest.mark.parametrize(("body", "code"), STRUCTURE_VALUES)
def test_structures_toml_values_are_checked(body: str, code: str, tmp_path: Path) -> None:
    assert code in _structure_codes(body, tmp_path)


def test_a_structure_naming_an_unknown_bloc_is_refused_when_used(tmp_path: Path) -> None:
    write(tmp_path / T, "default_price = 70\n[structures.s]\nbloc_retention = { Nowhere = 0.5 }\n")
    t = revshare.load_dataset(GOOD, structures=tmp_path / T)
    assert codes_of(lambda: revshare.optimize(t, "s")) == ["E-UNKNOWN-NAME"]


# rule ID of data/README.md -> a bad fixture of tests/fixtures/bad, or a function giving codes
RULES: dict[str, str | Callable[[Path], list[str]]] = {
    "R-TEXT": "a03_cp1252",
    "R-DELIMITER": "b01_semicolon",
    "R-HEADER": "b11_title_row",
    "R-ROWS": "a08_header_only",
    "R-FIELD-COUNT": "b05_extra_field_later_row",
    "R-COMMENT": "r01_comment_line",
    "R-COLUMNS": "c02_unknown_column",
    "R-REQUIRED": "d10_empty_region",
    "R-PLAIN-NUMBER": "e07_thousands_comma",
    "R-RANGE": "e19_zero_area",
    "R-BOOL": "e18_not_a_bool",
    "R-NAME": "g03_zero_width_space",
    "R-ONE-SPELLING": "n04_fullwidth_name",
    "R-UNIQUE": "d01_duplicate_region",
    "R-FIELD-REGION": "d08_unknown_region",
    "R-SAME-REGIONS": "x01_regions_differ",
    "R-SOURCE": "x05_no_production_nor_revenue",
    "R-ONE-SOURCE": "r02_production_and_revenue",
    "R-SHARE-SUM": "d13_share_sum",
    "R-SPLIT": "r03_split_field_mismatch",
    "R-FEE-PRODUCTION": "x04_fee_without_production",
    "R-FEE-ROUTE": "r04_fee_without_export_via",
    "R-EXPORT-BLOC": "x02_unknown_bloc",
    "R-EXPORT-OTHER": "r05_export_via_own_bloc",
    "R-NAME-KIND": "n01_blocless_region_named_like_a_bloc",
    "R-TOTALS": "r06_total_production",
    "R-TOML": _toml,
    "R-STRUCTURE-KEYS": lambda tmp_path: _structure_codes('objective = "best"', tmp_path),
    "R-PRICE": lambda _: codes_of(lambda: check_price(1e308)),
    "R-PRICE-UNUSED": _price_unused,
    "R-PERIOD": _period_problem("1.7,70,1\n"),
    "R-DEAL": lambda tmp_path: codes_of(
        lambda: revshare.optimize(
            revshare.load_dataset(
                GOOD,
                structures=write(
                    tmp_path / T,
                    'default_price = 70\n[structures.s]\n[[structures.s.rules]]\nname = "r"\n'
                    'kind = "gift"\n',
                ),
            ),
            "s",
        )
    ),
}


def readme_rules() -> dict[str, set[str]]:
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    rules = re.findall(r"^\| (R-[A-Z-]+) \| .* \| (.*) \|$", text, re.MULTILINE)
    return {rule: set(re.findall(r"`(E-[A-Z-]+)`", codes)) for rule, codes in rules}


def test_every_readme_rule_has_a_bad_input() -> None:
    assert sorted(readme_rules()) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_is_enforced_with_its_code(rule: str, tmp_path: Path) -> None:
    bad = RULES[rule]
    codes = codes_of(lambda: read_case(bad)) if isinstance(bad, str) else bad(tmp_path)
    assert set(codes) & readme_rules()[rule], (rule, codes)
    if isinstance(bad, str):
        assert (BAD / bad).is_dir()


# --- Collect-all, and nothing written -----------------------------------------------------------


def test_every_new_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path / F,
        "field,region,production_bpd,annual_revenue_usd,transit_fee_usd_per_bbl,export_via\n"
        "A,Basra,10,5,,\n"  # both
        "B,Basra,1e306,,,\n"  # range
        "C,Kirkuk,10,,2,\n"  # fee without route
        "D,Kirkuk,10,,2,North\n"  # own bloc
        "E,Basra,10,,,\n"
        "E,Kirkuk,20,,,\n",  # split mismatch (and shares)
    )
    write(tmp_path / R, "region,bloc\nBasra,\nKirkuk,North\nErbil,Basra\nNA,South\n")
    write(
        tmp_path / P,
        "region,faction,population\nBasra,Kurd,1e-300\nKirkuk,\uff2burd,5\nErbil,x,1\nNA,y,1\n",
    )
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    error = codes_error(lambda: read_dataset(tmp_path))
    assert sorted(set(error.codes)) == sorted(
        {"E-CONFLICT", "E-RANGE", "E-MISSING-VALUE", "E-EXPORT-OWN-BLOC", "E-SPLIT-MISMATCH",
         "E-SHARE-SUM", "E-NAME-CLASH", "E-NEAR-DUP"}
    )  # fmt: skip
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
