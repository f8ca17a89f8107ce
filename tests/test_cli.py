"""The command line: exit codes, messages, help, and nothing written on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent
IRAQ = str(ROOT / "data" / "iraq")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", sorted(cli.main.commands))
def test_every_command_has_help_with_an_example(command):
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "Example:" in out and f"revshare {command}" in out


def test_version():
    code, out, _ = run("--version")
    assert code == 0 and "revshare" in out


def test_optimize_writes_reports(tmp_path):
    out = tmp_path / "r"
    code, stdout, _ = run(
        "optimize", IRAQ, "--structure", "iraq-2005", "--out", str(out), "--write-lp"
    )
    assert code == 0, stdout
    assert "Kurdistan Region" in stdout
    assert {p.name for p in out.iterdir()} == {
        "allocation.csv",
        "accounts.csv",
        "payments.csv",
        "summary.json",
        "report.md",
        "report.html",
        "model.lp",
        "manifest.json",
        "report.xlsx",
    }
    assert "bloc_share_Kurdistan_Region" in (out / "model.lp").read_text()


def test_json_on_stdout_is_strict_json_in_a_real_process():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "optimize", IRAQ, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(proc.stdout)
    assert doc["status"] == "optimal"
    assert proc.stderr == ""


def test_bad_input_is_exit_2_with_every_problem_and_nothing_written(tmp_path):
    data = tmp_path / "bad"
    data.mkdir()
    (data / "fields.csv").write_text("field,region,production_bpd\nA,R1,abc\nB,R9,100\n")
    (data / "population.csv").write_text("region,faction,population\nR1,X,-5\n")
    out = tmp_path / "out"
    code, _, stderr = run("optimize", str(data), "--price", "70", "--out", str(out))
    assert code == 2
    lines = [line for line in stderr.splitlines() if line.startswith("revshare: error: ")]
    assert len(lines) >= 3
    assert any("fields.csv:2:production_bpd" in line for line in lines)
    assert "Traceback" not in stderr
    assert not out.exists()


def test_existing_report_is_left_untouched_without_force(tmp_path):
    out = tmp_path / "r"
    assert run("optimize", IRAQ, "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, stderr = run("optimize", IRAQ, "--out", str(out), "--set", "central_share=0")
    assert code == 2 and "E-OUTPUT-EXISTS" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_infeasible_is_exit_3_and_writes_nothing(tmp_path):
    out = tmp_path / "r"
    code, _, stderr = run(
        "optimize",
        IRAQ,
        "--set",
        "per_capita_floor=1",
        "--set",
        "bloc_share.Kurdistan Region=0.5",
        "--out",
        str(out),
    )
    assert code == 3, stderr
    assert stderr.startswith("revshare: infeasible:")
    assert not out.exists()


def test_iteration_limit_is_exit_4_never_a_report(tmp_path):
    out = tmp_path / "r"
    code, _, stderr = run(
        "optimize",
        IRAQ,
        "--structure",
        "iraq-2005",
        "--solver-option",
        "simplex_iteration_limit=1",
        "--solver-option",
        "presolve=off",
        "--out",
        str(out),
    )
    assert code == 4, stderr
    assert "limit" in stderr
    assert not out.exists()


def test_missing_cbc_is_exit_5(tmp_path, monkeypatch):
    monkeypatch.setenv("REVSHARE_CBC", str(tmp_path / "no-such-cbc"))
    code, _, stderr = run("optimize", IRAQ, "--solver", "cbc")
    assert code == 5
    assert "CBC" in stderr and "--solver highs" in stderr


def test_internal_error_is_exit_1_without_traceback_unless_debug(monkeypatch):
    import revshare

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(revshare, "optimize", boom)
    code, _, stderr = run("optimize", IRAQ)
    assert code == 1 and "kaboom" in stderr and "Traceback" not in stderr
    code, _, stderr = run("--debug", "optimize", IRAQ)
    assert code == 1 and "Traceback" in stderr


def test_unknown_structure_lists_the_valid_ones():
    code, _, stderr = run("optimize", IRAQ, "--structure", "federatoin")
    assert code == 2
    assert "E-UNKNOWN-STRUCTURE" in stderr and "did you mean 'federation'" in stderr


def test_bad_override_value_is_exit_2_naming_the_parameter():
    code, _, stderr = run("optimize", IRAQ, "--set", "derivation=1.5")
    assert code == 2 and "derivation" in stderr and "E-RANGE" in stderr


def test_usage_error_is_exit_2():
    assert run("optimize", IRAQ, "--time-limit", "-1")[0] == 2


def test_compare_writes_four_reports_and_a_readable_table(tmp_path):
    out = tmp_path / "c"
    code, stdout, stderr = run(
        "compare", IRAQ, "--structures", "federation,partition,iraq-2005", "--out", str(out)
    )
    assert code == 0, stderr
    assert "Condorcet" in stdout and "partition" in stdout
    assert {p.name for p in out.iterdir()} == {
        "comparison.csv",
        "comparison.json",
        "report.md",
        "report.html",
        "manifest.json",
        "report.xlsx",
    }


def test_compare_with_a_bad_override_is_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "c"
    code, _, stderr = run("compare", IRAQ, "--set", "derivation=7", "--out", str(out))
    assert code == 2 and "E-RANGE" in stderr
    assert not out.exists()


def test_validate_and_structures():
    code, out, _ = run("validate", IRAQ)
    assert code == 0 and out.startswith("ok: 18 regions")
    code, out, _ = run("structures", IRAQ)
    assert code == 0 and "iraq-2005" in out and "sudan-cpa-2005" in out


def test_library_does_not_import_click():
    code = "import sys, revshare; print('click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ratify_prints_the_verdict_and_the_deciding_governorates(tmp_path):
    out = tmp_path / "r"
    code, stdout, stderr = run(
        "ratify",
        IRAQ,
        "--structure",
        "confederation",
        "--status-quo",
        "unified",
        "--rule",
        "iraq-2005",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert stdout.startswith("REJECTED under iraq-2005")
    assert "deciding: Anbar, Diyala, Duhok, Erbil, Kirkuk, Nineveh" in stdout
    assert {p.name for p in out.iterdir()} == {
        "referendum.csv",
        "summary.json",
        "report.md",
        "report.html",
        "manifest.json",
        "report.xlsx",
    }


def test_convention_apportions_and_a_tie_is_exit_2_naming_it(tmp_path):
    code, stdout, _ = run("convention", IRAQ, "--seats", "100", "--method", "webster")
    assert code == 0 and "Baghdad" in stdout and "100 seats" in stdout
    data = tmp_path / "twins"
    data.mkdir()
    (data / "fields.csv").write_text("field,region,production_bpd\nF,A,100\n")
    (data / "population.csv").write_text("region,faction,population\nA,X,500\nB,X,500\n")
    code, _, stderr = run("convention", str(data), "--seats", "1", "--method", "hamilton")
    assert code == 2 and "E-TIE" in stderr and "A" in stderr and "B" in stderr
    code, stdout, _ = run(
        "convention",
        str(data),
        "--seats",
        "1",
        "--method",
        "hamilton",
        "--tie-rule",
        "alphabetical",
    )
    assert code == 0 and "tie" in stdout
