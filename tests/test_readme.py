"""The README's commands run as written, and CI runs exactly the README's test command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
COMMANDS = [
    line.strip()
    for block in SH_BLOCKS
    for line in block.splitlines()
    if line.strip().startswith("revshare ")
]


def test_readme_set_up_is_two_commands_and_ci_runs_the_second():
    setup = [block.strip() for block in SH_BLOCKS[:2]]
    assert setup[0].startswith("python3 -m pip install -e . && revshare optimize data/iraq")
    assert "pytest" in setup[1]
    assert setup[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    if "--out" in args:
        args[args.index("--out") + 1] = str(tmp_path / "out")
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.stderr


def test_readme_setup_command_runs():
    command = SH_BLOCKS[0].split("&&", 1)[1].strip()
    result = CliRunner().invoke(cli.main, shlex.split(command)[1:])
    assert result.exit_code == 0
    assert "verified" in result.stdout


PY_BLOCKS = [
    block
    for block in re.findall(r"```python\n(.*?)```", README, flags=re.S)
    if "out/" not in block  # the blocks that read only the shipped data (others write reports)
]


@pytest.mark.parametrize("block", PY_BLOCKS, ids=[f"python-{i}" for i in range(len(PY_BLOCKS))])
def test_readme_python_example_runs(block, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(block, "README.md", "exec"), {})
