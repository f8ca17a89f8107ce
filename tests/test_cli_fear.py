"""The commands of issue 14: guarantees, core, power and secession (thin over the library)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_guarantees_prints_writes_and_says_what_is_entrenched(tmp_path) -> None:
    code, out, err = run(
        "guarantees", "data/iraq", "-s", "unified,partition", "--out", str(tmp_path / "g")
    )
    assert code == 0, err
    assert "Entrenched (binding on any government):" in out
    assert "unified: none" in out
    names = {p.name for p in (tmp_path / "g").iterdir()}
    assert {"guarantees.csv", "capture.csv", "guarantees.json", "report.html"} <= names
    doc = json.loads((tmp_path / "g" / "guarantees.json").read_text())
    assert doc["kind"] == "guarantees" and doc["entrenched"]["unified"]["rules"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("core", "data/iraq", "-s", "federation,partition"),
        ("power", "data/iraq", "--rule", "double-majority"),
        ("power", "data/iraq", "--seats", "100", "--by", "bloc"),
        (
            "secession",
            "data/sudan-2005",
            "--structure",
            "sudan-cpa-2005",
            "--periods",
            "data/iraq/brent-2005-2024.csv",
            "--vote-after",
            "6",
        ),
        ("guarantees", "data/sudan-2005", "-s", "sudan-cpa-2005", "--no-capture"),
    ],
)
def test_every_command_prints_strict_json(args) -> None:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
    assert doc["schema_version"]


def test_the_secession_vote_names_who_leaves() -> None:
    code, out, _ = run(
        "secession",
        "data/sudan-2005",
        "--structure",
        "sudan-cpa-2005",
        "--periods",
        "data/iraq/brent-2005-2024.csv",
        "--vote-after",
        "6",
        "--discount-rate",
        "0.05",
    )
    assert code == 0
    assert "leaving: south" in out


@pytest.mark.parametrize(
    ("args", "code_word"),
    [
        (("power", "data/iraq", "--rule", "acclamation"), "E-CHOICE"),
        (("secession", "data/sudan-2005", "--structure", "partition", "--vote-after", "6"), "E-MISSING"),
        (
            (
                "secession",
                "data/sudan-2005",
                "--structure",
                "partition",
                "--periods",
                "data/iraq/brent-2005-2024.csv",
                "--vote-after",
                "0",
            ),
            "E-RANGE",
        ),
        (("guarantees", "data/iraq", "-s", "nowhere"), "E-UNKNOWN-STRUCTURE"),
    ],
)
def test_bad_usage_is_exit_2_in_the_documented_form(args, code_word) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert err.startswith("revshare: error:") and f"[{code_word}]" in err
