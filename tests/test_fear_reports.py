"""Issue 15, item 1: core, power and secession write report folders like the other commands: CSV,
JSON in the envelope with its money view, report.md, report.html, report.xlsx and the manifest,
the folder replaced whole and never without ``--force``."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from click.testing import CliRunner

import cli
import revshare
from revshare.reports.fear import (
    CORE_FILES,
    POWER_FILES,
    SECESSION_FILES,
    Report,
    core_report,
    power_report,
    report_files,
    secession_report,
)

ROOT = Path(__file__).resolve().parents[1]
PERIODS = "data/iraq/brent-2005-2024.csv"
SECESSION = ("--structure", "sudan-cpa-2005", "--periods", PERIODS, "--vote-after", "6")
COMMANDS = {
    "core": (("core", "data/iraq", "-s", "federation,partition"), CORE_FILES, "direct"),
    "power": (("power", "data/iraq", "--rule", "double-majority"), POWER_FILES, None),
    "seats": (("power", "data/iraq", "--seats", "60"), POWER_FILES, None),
    "secession": (("secession", "data/sudan-2005", *SECESSION), SECESSION_FILES, "served"),
}
HEAD = ["schema_version", "kind", "dataset"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def schema(kind: str) -> dict[str, object]:
    text = resources.files("revshare.reports").joinpath(f"schemas/{kind}.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", COMMANDS)
def test_the_report_folder_holds_every_kind_and_the_json_its_envelope(tmp_path, name) -> None:
    args, files, view = COMMANDS[name]
    out = tmp_path / name
    code, printed, err = run(*args, "--out", str(out), "--format", "json")
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {*files, "report.xlsx", "manifest.json"}
    kind = args[0]
    doc = json.loads((out / f"{kind}.json").read_text())
    assert list(doc)[:3] == HEAD
    assert (doc["kind"], doc["dataset"], doc["money_view"]) == (kind, Path(args[1]).name, view)
    assert doc["money_meaning"]
    jsonschema.validate(doc, schema(kind))
    assert json.loads(printed) == doc  # stdout and the folder say the same
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(files) <= set(json.dumps(manifest).replace('"', " ").split())
    html = (out / "report.html").read_text()
    assert "Money counted:" in html and "<script" not in html
    md = (out / "report.md").read_text()
    assert md.startswith("# ") and "Money counted: **" in md


@pytest.mark.parametrize("name", COMMANDS)
def test_an_existing_report_is_kept_without_force_and_replaced_whole_with_it(
    tmp_path, name
) -> None:
    args, files, _ = COMMANDS[name]
    out = tmp_path / name
    assert run(*args, "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / files[0]).write_bytes(b"edited")
    code, _, err = run(*args, "--out", str(out))
    assert code == 2 and "[E-OUTPUT-EXISTS]" in err and "--force" in err
    assert (out / files[0]).read_bytes() == b"edited"  # nothing touched
    (out / "stray.txt").write_text("not a report")
    code, _, err = run(*args, "--out", str(out), "--force")
    assert code == 0, err
    after = {p.name for p in out.iterdir()}
    # the report replaced as a whole; what belongs to no report is carried over (write_bundle)
    assert after == {*before, "stray.txt"}
    assert (out / files[0]).read_bytes() == before[files[0]]


HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(A1)", "<script>alert(1)</script>", "@x|y"]


@pytest.fixture(scope="module")
def hostile() -> revshare.Territory:
    regions = [*HOSTILE, "بغداد"]
    pop = pd.DataFrame(
        {
            "region": regions,
            "faction": ["-f", "a|b", "-f", "a|b", "-f"],
            "population": [100_000 + 9_000 * i for i in range(len(regions))],
        }
    )
    blocs = pd.DataFrame({"region": regions, "bloc": [HOSTILE[0], HOSTILE[2], *regions[2:]]})
    fields = pd.DataFrame(
        {
            "field": ["F1", "F2"],
            "region": [HOSTILE[0], HOSTILE[2]],
            "annual_revenue_usd": [4e9, 1e9],
        }
    )
    return revshare.territory_from_frames(fields, pop, blocs, name=HOSTILE[3])


def _reports(t: revshare.Territory) -> list[Report]:
    path = pd.DataFrame({"period": [1, 2], "price": [0.0, 0.0], "years": [1.0, 1.0]})
    vote = revshare.secession_vote(t, "federation", path, vote_after=2)
    seats = revshare.apportion_territory(t, 30, "huntington-hill", by="bloc")
    return [
        core_report(revshare.core(t, ["federation", "partition"], price=0)),
        power_report(t.name, "the rule majority", revshare.rule_power(t, "majority", "bloc")),
        power_report(t.name, "seats", revshare.seat_power(seats, Fraction(1, 2))),
        secession_report(t.name, vote),
    ]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_names_from_the_data_are_neutralised_and_escaped_in_every_file(hostile) -> None:
    for report in _reports(hostile):
        files = report_files(report)
        for name, data in files.items():
            text = data.decode("utf-8-sig")
            if name.endswith(".csv"):
                cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
                words = [c for c in cells if not _number(c)]
                assert not [c for c in words if c.startswith(("=", "+", "@", "-"))], name
                assert "'=cmd" in text
            elif name == "report.html":
                assert "<script>" not in text and "&lt;script&gt;" in text
            elif name == "report.md":
                assert "<script>" not in text and "@x\\|y" in text.split("\n")[0]
            else:
                doc = json.loads(text)
                assert list(doc)[:3] == HEAD and doc["dataset"] == hostile.name


SOLVING = {
    "guarantees": ("guarantees", "data/ghana", "-s", "federation", "--no-capture"),
    "core": ("core", "data/ghana", "-s", "federation"),
    "secession": ("secession", "data/sudan-2005", *SECESSION),
}


@pytest.mark.parametrize("name", SOLVING)
def test_a_bad_solver_option_is_named_as_typed(name) -> None:
    code, _, err = run(*SOLVING[name], "--solver-option", "no_such_option=1")
    assert code == 2
    assert err.startswith("revshare: error: --solver-option: ") and "no_such_option" in err
    assert err.rstrip().endswith("[E-USAGE]")


@pytest.mark.parametrize("name", SOLVING)
def test_cbc_with_a_cross_check_runs_from_the_command_line(name) -> None:
    highs = run(*SOLVING[name], "--format", "json")
    cbc = run(*SOLVING[name], "--format", "json", "--solver", "cbc", "--cross-check")
    assert highs[0] == cbc[0] == 0, cbc[2]
    a, b = json.loads(highs[1]), json.loads(cbc[1])
    assert list(a) == list(b)  # the same document, figures within the solvers' precision
