"""Issue 15: report folders that agree with stdout and with each other.

- Every command that writes reports writes the same kinds of file: CSV, JSON, Markdown, HTML,
  ``report.xlsx`` and ``manifest.json``.
- Every JSON file in a report folder opens with the stdout envelope (``schema_version``, ``kind``,
  ``dataset``) and matches the JSON Schema of its kind; where it is the document ``--format json``
  prints, it is the same bytes (one run writing both).
- CSV is one format, written by one function (:func:`revshare.reports.safe.csv_bytes`): no
  byte-order mark, minimal quoting, text that would read as a number quoted, formula-like text
  neutralised, on stdout and in files alike; and it holds the same values as the old format.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from revshare.reports.documents import HEAD, envelope, envelope_of, schema
from revshare.reports.safe import FORMULA_TRIGGERS, csv_bytes, neutralise, reads_as_value
from revshare.reports.workbook import parse_csv

ROOT = Path(__file__).resolve().parent.parent
IRAQ = str(ROOT / "data" / "iraq")
PATH = str(ROOT / "data" / "iraq" / "brent-2005-2024.csv")
SUDAN = str(ROOT / "data" / "sudan-2005")

# Every command that writes a report folder: its small run on data/iraq, the folder's JSON that
# is the document --format json prints, and the CSV file --format csv prints.
RUNS = {
    "optimize": (["optimize", IRAQ], "summary.json", "allocation.csv"),
    "compare": (["compare", IRAQ, "-s", "federation,unified"], "comparison.json", "comparison.csv"),
    "sweep": (
        ["sweep", IRAQ, "-s", "federation", "--prices", "50,80", "--workers", "1"],
        "summary.json",
        "summary.csv",
    ),
    "periods": (["periods", IRAQ, "--periods", PATH], "summary.json", "periods.csv"),
    "convention": (["convention", IRAQ, "--seats", "50"], "summary.json", "apportionment.csv"),
    "ratify": (
        ["ratify", IRAQ, "--structure", "federation", "--status-quo", "unified"],
        "summary.json",
        "referendum.csv",
    ),
    "guarantees": (
        ["guarantees", IRAQ, "-s", "federation,unified"],
        "guarantees.json",
        "guarantees.csv",
    ),
    "core": (["core", IRAQ, "-s", "federation,partition"], "core.json", "core.csv"),
    "power": (["power", IRAQ, "--rule", "double-majority"], "power.json", "power.csv"),
    "secession": (
        [
            "secession",
            SUDAN,
            "--structure",
            "sudan-cpa-2005",
            "--periods",
            PATH,
            "--vote-after",
            "6",
        ],
        "secession.json",
        "secession.csv",
    ),
}


def _invoke(args: list[str]) -> bytes:
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout_bytes


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[Path, bytes, bytes]]:
    """Each command run once with ``--out`` and ``--format json`` (so the folder and stdout come
    from one result), and once with ``--format csv``: the folder, the JSON and the CSV printed."""
    tmp = tmp_path_factory.mktemp("reports")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        for command, (args, _, _) in RUNS.items():
            folder = tmp / command
            printed = _invoke([*args, "--out", str(folder), "--format", "json"])
            out[command] = (folder, printed, _invoke([*args, "--format", "csv"]))
    return out


def _members(folder: Path) -> list[str]:
    return sorted(json.loads((folder / "manifest.json").read_text("utf-8"))["files"])


@pytest.mark.parametrize("command", sorted(RUNS))
def test_every_report_folder_holds_every_kind_of_file(written, command):
    folder = written[command][0]
    names = _members(folder)
    assert {"report.md", "report.html", "report.xlsx"} <= set(names)
    assert any(n.endswith(".csv") for n in names) and any(n.endswith(".json") for n in names)
    assert set(names) | {"manifest.json"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("command", sorted(RUNS))
def test_every_json_file_of_a_report_matches_its_schema(written, command):
    folder = written[command][0]
    names = [n for n in _members(folder) if n.endswith(".json")] + ["manifest.json"]
    for name in names:
        document = json.loads((folder / name).read_text("utf-8"))
        assert tuple(document)[:3] == HEAD, name
        jsonschema.validate(document, schema(document["kind"]))
    assert json.loads((folder / "manifest.json").read_text("utf-8"))["kind"] == "manifest"


@pytest.mark.parametrize("command", sorted(RUNS))
def test_a_report_json_names_its_dataset(written, command):
    folder = written[command][0]
    for name in [n for n in _members(folder) if n.endswith(".json")] + ["manifest.json"]:
        dataset = Path(RUNS[command][0][1]).name
        assert json.loads((folder / name).read_text("utf-8"))["dataset"] == dataset, name


@pytest.mark.parametrize("command", sorted(RUNS))
def test_the_report_json_is_the_bytes_printed(written, command):
    folder, printed, _ = written[command]
    assert (folder / RUNS[command][1]).read_bytes() == printed


@pytest.mark.parametrize("command", sorted(RUNS))
def test_the_csv_printed_is_the_bytes_of_the_report_file(written, command):
    folder, _, printed = written[command]
    assert printed == (folder / RUNS[command][2]).read_bytes()


_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,\r\n]*)')


def _raw_fields(line: str) -> list[tuple[bool, str]]:
    """A CSV line's fields as (quoted, text); report CSVs hold no quoted line break."""
    out, pos = [], 0
    while True:
        m = _FIELD.match(line, pos)
        assert m is not None
        quoted = m.group(1) is not None
        out.append((quoted, m.group(1).replace('""', '"') if quoted else m.group(2)))
        pos = m.end()
        if pos >= len(line):
            return out
        pos += 1


@pytest.mark.parametrize("command", sorted(RUNS))
def test_every_csv_file_is_the_one_format(written, command):
    folder = written[command][0]
    for name in [n for n in _members(folder) if n.endswith(".csv")]:
        data = (folder / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), name
        lines = data.decode("utf-8").split("\r\n")
        assert lines[-1] == "" and all("\n" not in line for line in lines), name
        for line in lines[:-1]:
            for quoted, text in _raw_fields(line):
                if quoted:  # quoted only where it must be, or to keep text text
                    assert any(c in text for c in ',"\r\n') or reads_as_value(text), (name, text)
        for row in parse_csv(data.decode("utf-8")):
            assert not any(isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in row)


# --- the writer itself -------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "=1+1",
            "+1",
            "-5",
            "@SUM(A1)",
            "\tx",
            "a,b",
            'say "hi"',
            "two\nlines",
            "60",
            "1e5",
            "nan",
            "inf",
            "True",
            "False",
            " 7",
            "1_000",
            "بغداد",
            "O'Brien",
            "",
        ]
    ),
)
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.integers(-1000, 1000).map(np.int64),
    st.floats(-1e9, 1e9).map(np.float64),
    st.none(),
)
ROWS = st.lists(st.lists(st.one_of(TEXT, NUMBER), min_size=3, max_size=3), max_size=6)


def _old_format(header: list[str], rows: list[list[object]]) -> bytes:
    """The CSV reports wrote before: a byte-order mark, text quoted (csv.QUOTE_NONNUMERIC)."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _expected(value: object) -> object:
    """A cell as report.xlsx reads it back from the CSV."""
    if isinstance(value, str):
        return neutralise(value) or None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_the_csv_holds_the_same_values_as_the_old_format(rows):
    """The proof that the format change moved no value: a CSV reader gives the same fields."""
    header = ["a", "=b", "c"]
    new = csv_bytes(header, rows)
    old = _old_format(header, rows)
    assert not new.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(new.decode("utf-8"), newline=""))) == list(
        csv.reader(io.StringIO(old.decode("utf-8-sig"), newline=""))
    )


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_the_csv_keeps_each_cell_type_and_neutralises_formulas(rows):
    parsed = parse_csv(csv_bytes(["a", "b", "c"], rows).decode("utf-8"))
    assert parsed[1:] == [[_expected(v) for v in row] for row in rows]
    for row in parsed:
        assert not any(isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in row)


@pytest.mark.parametrize(
    ("cell", "field"),
    [
        ("Basra", "Basra"),
        ("Kurdistan Region", "Kurdistan Region"),
        ("بغداد", "بغداد"),
        ("60", '"60"'),
        ("1e5", '"1e5"'),
        ("True", '"True"'),
        ("nan", '"nan"'),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("=1+1", "'=1+1"),
        ("-5", "'-5"),
        ("", ""),
        (None, ""),
        (60, "60"),
        (np.int64(7), "7"),
        (0.1, "0.1"),
        (True, "True"),
    ],
)
def test_a_field_is_quoted_only_where_it_must_be(cell, field):
    assert csv_bytes(["x"], [[cell]]).decode("utf-8") == f"x\r\n{field}\r\n"


# --- the envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1},
        {"kind": "other", "dataset": "x", "schema_version": "0", "a": [1.5, None]},
        {"population": np.int64(5), "share": np.float64(0.25), "missing": float("nan")},
    ],
)
def test_the_envelope_comes_first_and_enveloping_twice_changes_nothing(document):
    once = envelope("allocation", "iraq", document)
    assert envelope_of(once) == {"schema_version": "1.0", "kind": "allocation", "dataset": "iraq"}
    assert envelope("allocation", "iraq", once) == once
    assert envelope_of(json.dumps({"files": {}}).encode()) is None


def test_the_cli_envelope_is_the_library_one():
    from revshare_cli.options import envelope as cli_envelope

    frame = pd.DataFrame({"x": [1]})
    document = {"rows": frame.to_dict("records")}
    assert cli_envelope("structures", "d", document) == envelope("structures", "d", document)


def test_the_docs_list_every_schema_the_package_ships():
    from importlib import resources

    shipped = {
        p.name.removesuffix(".schema.json")
        for p in resources.files("revshare.reports").joinpath("schemas").iterdir()
        if p.name.endswith(".schema.json")
    }
    page = (ROOT / "docs" / "cli.md").read_text("utf-8")
    section = page[page.index("## JSON output and its schemas") :]
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))
    assert listed == shipped


@pytest.mark.parametrize("bad", [math.inf, -math.inf, np.float64("inf")])
@pytest.mark.parametrize("where", ["top", "nested", "row"])
def test_an_infinity_is_refused_never_printed_as_null(bad, where):
    from revshare.reports.safe import NonFiniteJSONError

    document = {"top": {"v": bad}, "nested": {"a": [{"b": bad}]}, "row": {"r": [(1, bad)]}}[where]
    with pytest.raises(NonFiniteJSONError):
        envelope("allocation", "d", document)


def test_a_missing_value_in_a_table_is_null():
    assert json.loads(envelope("sweep", "d", {"rows": [{"x": math.nan, "y": np.float64(1)}]}))[
        "rows"
    ] == [{"x": None, "y": 1.0}]
