"""The README's set-up is two commands, and CI runs exactly the second.

Every other command and code example of the README runs in tests/test_docs_examples.py, which
also compares what each prints with what the README shows.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_readme_set_up_is_two_commands_and_ci_runs_the_second():
    setup = [block.strip() for block in SH_BLOCKS[:2]]
    assert (
        setup[0]
        == "python3 -m pip install -e . && revshare optimize data/iraq --structure iraq-2005"
    )
    assert setup[1] == 'python3 -m pip install -e ".[test]" && python3 -m pytest -m "not slow"'
    assert setup[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_setup_command_is_an_example_the_readme_shows_with_its_output():
    command = SH_BLOCKS[0].split("&&", 1)[1].strip()
    assert f"```console\n$ {command}\n" in README


def test_readme_points_to_the_documentation_site():
    assert "mkdocs serve" in README
    for page in ("docs/tutorial.md", "docs/concepts.md", "docs/design.md"):
        assert f"]({page})" in README
        assert (ROOT / page).is_file()
