"""Issue 11, class 20: the suggested concession is a command line that is safe to paste.

Blocs named with shell metacharacters (quotes, ``$(...)``, backticks, ``;``, spaces) appear in the
``--set`` overrides that an infeasible structure suggests. Pasted into a POSIX shell, the printed
line must give back exactly the overrides, and run nothing.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
import revshare

HOSTILE = [
    "S'$(touch pwned)'",
    "O'Brien",
    "a`touch pwned`b",
    'x"; touch pwned; "',
    "semi;colon & amp",
    "$HOME",
    "back\\slash",
]


def _dataset(folder: Path, bloc: str) -> None:
    pd.DataFrame(
        {"field": ["f1", "f2"], "region": ["A", "B"], "annual_revenue_usd": [6e8, 4e8]}
    ).to_csv(folder / "fields.csv", index=False)
    pd.DataFrame(
        {"region": ["A", "B"], "faction": ["x", bloc + " f"], "population": [1_000_000, 1_000_000]}
    ).to_csv(folder / "population.csv", index=False)
    pd.DataFrame({"region": ["A", "B"], "bloc": [bloc, "other"]}).to_csv(
        folder / "regions.csv", index=False
    )


@pytest.mark.parametrize("bloc", HOSTILE)
def test_the_suggested_command_is_quoted_for_a_posix_shell(tmp_path, bloc):
    _dataset(tmp_path, bloc)
    override = revshare.data.structures.parse_override  # the library reads back what it suggests
    result = CliRunner().invoke(
        cli.main,
        [
            "optimize",
            str(tmp_path),
            "--price",
            "1",
            "--set",
            f"bloc_share.{bloc}=0.6",
            "--set",
            f"faction_share.{bloc} f=0.6",
        ],
    )
    assert result.exit_code == 3, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("apply it with: "))
    pasted = line.removeprefix("apply it with: ")
    args = shlex.split(pasted)
    assert args[0::2] == ["--set"] * (len(args) // 2)
    for value in args[1::2]:
        key, _ = override(value)
        assert key in (f"faction_share.{bloc} f", f"bloc_share.{bloc}")
    # The shell itself gives back the same words and runs nothing.
    echoed = subprocess.run(
        ["sh", "-c", f"printf '%s\\n' {pasted}"], cwd=tmp_path, capture_output=True, text=True
    )
    assert echoed.stdout.splitlines() == args
    assert not (tmp_path / "pwned").exists()
