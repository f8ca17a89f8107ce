"""Issue 15, item 4: ``revshare periods`` is its own command, with units in every header, a table
a terminal holds and a summary in words; ``optimize --periods`` runs it under its old name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from revshare.data.synthetic import price_path

ROOT = Path(__file__).resolve().parent.parent
IRAQ = str(ROOT / "data" / "iraq")
YEARLY = str(ROOT / "data" / "iraq" / "brent-2005-2024.csv")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def monthly(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("periods") / "monthly.csv"
    price_path(14, 3).to_csv(path, index=False)
    return str(path)


CASES = {
    "yearly": lambda m: [YEARLY],
    "yearly-fund": lambda m: [YEARLY, "--fund-benchmark", "ma:3"],
    "monthly-fund-smooth": lambda m: [m, "--fund-benchmark", "ma", "--smooth"],
    "partition": lambda m: [YEARLY, "-s", "partition", "--fund-benchmark", "70"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_periods_table_fits_a_terminal_and_says_its_units(monthly, case):
    code, out, err = run("periods", IRAQ, "--periods", *CASES[case](monthly))
    assert code == 0, err
    lines = out.splitlines()
    assert max(map(len, lines)) < 100
    # every table's header has a line of units under its names
    units = [i for i, line in enumerate(lines) if "M USD" in line or "USD/head/yr" in line]
    assert units and all(lines[i - 1].lstrip().startswith("period") for i in units)
    assert any("USD/bbl" in lines[i] for i in units)
    assert "million USD" in out and "USD a head a year" in out
    # the smoothing measures as a sentence, not bare ratios
    assert re.search(r"leanest period, the cell hit hardest got \d+% of its own average", out)
    assert "relative to the cell's average" not in out
    length = "a month" if "monthly" in case else "a year"
    assert f"periods of {length} each" in lines[0]


def test_fund_columns_appear_only_with_a_fund():
    _, plain, _ = run("periods", IRAQ, "--periods", YEARLY)
    _, funded, _ = run("periods", IRAQ, "--periods", YEARLY, "--fund-benchmark", "ma:3")
    assert "to fund" not in plain and "from fund" not in plain
    assert "to fund" in funded and "from fund" in funded and "balance" in funded


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_optimize_periods_is_the_same_run_and_says_it_moved(fmt):
    args = [IRAQ, "--periods", YEARLY, "--fund-benchmark", "ma:3", "--format", fmt]
    code, new, _ = run("periods", *args)
    old_code, old, err = run("optimize", *args)
    assert code == old_code == 0
    if fmt == "json":  # when it ran and how long it took differ
        new, old = ({**json.loads(x), "generated_at": 0, "provenance": 0} for x in (new, old))
    assert new == old
    assert "moved" in err and "revshare periods" in err


def test_the_csv_headers_carry_units(tmp_path):
    code, _, err = run("periods", IRAQ, "--periods", YEARLY, "--out", str(tmp_path / "r"))
    assert code == 0, err
    table = pd.read_csv(tmp_path / "r" / "periods.csv")
    groups = [c for c in table if c.startswith(("bloc:", "faction:"))]
    assert groups and all(c.endswith(":usd_per_head_a_year") for c in groups)
    assert {"price_usd_per_bbl", "years_per_period", "revenue_usd"} <= set(table)


def test_the_periods_help_is_its_own_and_optimize_hides_the_old_name():
    _, periods_help, _ = run("periods", "--help")
    _, optimize_help, _ = run("optimize", "--help")
    assert "--fund-benchmark" in periods_help and "--periods" in periods_help
    assert "--fund-benchmark" not in optimize_help
    assert "moved to 'revshare periods'" in " ".join(optimize_help.split())
