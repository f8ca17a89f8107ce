"""Issue 11, class 12: every number an option takes has a documented range; beyond it the command
stops at once with exit 2 naming the option, never hangs or overflows (``--seats 1e11`` used to run
for ever; ``--margin 1e308`` was accepted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

IRAQ = str(Path(__file__).resolve().parent.parent / "data" / "iraq")
RATIFY = ["ratify", IRAQ, "--structure", "confederation", "--status-quo", "unified"]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["convention", IRAQ, "--seats", "100000000000"], "--seats"),
        (["convention", IRAQ, "--seats", "100001"], "--seats"),
        (["convention", IRAQ, "--seats", "100", "--min-seats", "100001"], "--min-seats"),
        ([*RATIFY, "--margin", "1e308"], "--margin"),
        ([*RATIFY, "--margin", "-1e10"], "--margin"),
        ([*RATIFY, "--margin", "nan"], "--margin"),
        ([*RATIFY, "--vote-model", "logistic", "--logistic-scale", "1e308"], "--logistic-scale"),
        (["optimize", IRAQ, "--price", "1e308"], "--price"),
        (["optimize", IRAQ, "--price", "nan"], "--price"),
        (["optimize", IRAQ, "--price", "-1"], "--price"),
        (["sweep", IRAQ, "--scenarios", "3", "--drift", "800"], "--drift"),
        (["sweep", IRAQ, "--scenarios", "3", "--horizon", "1e300"], "--horizon"),
        (["sweep", IRAQ, "--scenarios", "3", "--volatility", "-1"], "--volatility"),
        (["sweep", IRAQ, "--prices", "1e308"], "--prices"),
    ],
)
def test_an_option_beyond_its_range_is_exit_2_naming_it(args, flag):
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 2, result.output
    assert f"revshare: error: {flag}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["convention", IRAQ, "--seats", "100000"],
        [*RATIFY, "--margin", "1e9"],
        [*RATIFY, "--vote-model", "logistic", "--logistic-scale", "1e9"],
    ],
)
def test_an_option_at_the_edge_of_its_range_runs(args):
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.stderr
