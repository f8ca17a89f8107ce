"""Issue 16, item 4: shell completion of structure names from the dataset on the command line.

Tested twice: the completion functions directly, and through Click's completion protocol (the
environment a shell sets: ``_REVSHARE_COMPLETE``, ``COMP_WORDS``, ``COMP_CWORD``) for bash, zsh and
fish, on the presets and on a dataset's own structures.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.shell_completion import CompletionItem, get_completion_class
from click.testing import CliRunner

import cli
from revshare.data import scaffold
from revshare.data.structures import PRESETS
from revshare_cli.completion import complete_structure, complete_structures, structure_choices

ROOT = Path(__file__).resolve().parent.parent
IRAQ = ROOT / "data" / "iraq"
IRAQ_OWN = ["iraq-2005", "iraq-2005-krg17", "iraq-2023-budget"]
EXAMPLES = [e.name for e in scaffold.EXAMPLES]
STRUCTURE_PARAMS = ("structure", "status_quo", "names")  # --structure, --status-quo, --structures


@pytest.fixture(scope="module")
def scaffold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("completion") / "d"
    scaffold.write_scaffold(out)
    return out


def _ctx(dataset: Path | None) -> click.Context:
    ctx = click.Context(cli.main.commands["compare"])
    ctx.params["dataset"] = dataset
    return ctx


def _values(items: list) -> list[str]:
    return [item.value for item in items]


@pytest.mark.parametrize(
    ("dataset", "incomplete", "expected"),
    [
        (None, "", list(PRESETS)),
        (None, "f", ["federation"]),
        (None, "nope", ["nope"]),  # left to the shell's file completion
        (IRAQ, "", [*PRESETS, *IRAQ_OWN]),
        (IRAQ, "iraq-2005", IRAQ_OWN[:2]),
        ("scaffold", "example-", EXAMPLES),
        ("scaffold", "example-s", [n for n in EXAMPLES if n.startswith("example-s")]),
        ("missing", "", list(PRESETS)),
    ],
)
def test_one_structure_completes_presets_and_the_datasets_own(
    scaffold_dir, tmp_path, dataset, incomplete, expected
):
    given = {"scaffold": scaffold_dir, "missing": tmp_path / "none"}.get(dataset, dataset)
    items = complete_structure(_ctx(given), None, incomplete)
    assert _values(items) == expected
    assert [i.type for i in items] == (
        ["file"] if expected == [incomplete] else ["plain"] * len(items)
    )


@pytest.mark.parametrize(
    ("incomplete", "expected"),
    [
        ("", ["all", *PRESETS, *IRAQ_OWN]),
        ("a", ["all"]),
        ("fed", ["federation"]),
        ("federation,", [f"federation,{n}" for n in [*PRESETS, *IRAQ_OWN] if n != "federation"]),
        ("federation,ir", [f"federation,{n}" for n in IRAQ_OWN]),
        ("federation,iraq-2005,iraq-2005", ["federation,iraq-2005,iraq-2005-krg17"]),
        ("unified, partition,p", []),  # partition is written (after a space): nothing left
        ("federation,zz", ["federation,zz"]),
    ],
)
def test_structures_completes_the_name_after_the_last_comma(incomplete, expected):
    items = complete_structures(_ctx(IRAQ), None, incomplete)
    values = _values(items)
    if expected:
        assert values == expected
    else:
        assert values == [incomplete] and items[0].type == "file"


@pytest.mark.parametrize(
    "toml",
    [b"not = [valid", b"\xff\xfe", b"structures = 3", b"[structures.x]\ndescription = 3\n"],
    ids=["bad toml", "not utf-8", "not a table", "description not text"],
)
def test_a_bad_structures_file_never_breaks_completion(tmp_path, toml):
    (tmp_path / "structures.toml").write_bytes(toml)
    choices = structure_choices(tmp_path)
    assert list(choices)[: len(PRESETS)] == list(PRESETS)
    assert set(choices) - set(PRESETS) <= {"x"}


def test_descriptions_come_with_the_names(scaffold_dir):
    choices = structure_choices(scaffold_dir)
    assert choices["federation"] == PRESETS["federation"].description
    for example in scaffold.EXAMPLES:
        assert choices[example.name] == example.description


def _complete(shell: str, words: str) -> str:
    """What ``revshare`` answers a ``shell`` asking to complete the last word of ``words``
    (bash and zsh give the index of that word in ``COMP_CWORD``, fish the word itself)."""
    split = shlex.split(words) + ([""] if words.endswith(" ") else [])
    env = {
        "_REVSHARE_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": split[-1] if shell == "fish" else str(len(split) - 1),
    }
    result = CliRunner().invoke(cli.main, [], prog_name="revshare", env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (f"revshare optimize {IRAQ} --structure ", [*PRESETS, *IRAQ_OWN]),
        (f"revshare optimize {IRAQ} -s iraq-2005-", ["iraq-2005-krg17"]),
        (f"revshare optimize --price 70 {IRAQ} -s iraq-2023", ["iraq-2023-budget"]),
        ("revshare optimize --structure fed", ["federation"]),
        (f"revshare compare {IRAQ} -s ", ["all", *PRESETS, *IRAQ_OWN]),
        (f"revshare compare {IRAQ} --structures unified,iraq-2005-", ["unified,iraq-2005-krg17"]),
        (f"revshare sweep {IRAQ} -s con", ["confederation"]),
        (f"revshare guarantees {IRAQ} -s iraq-2023", ["iraq-2023-budget"]),
        (f"revshare core {IRAQ} -s par", ["partition"]),
        (f"revshare ratify {IRAQ} -s iraq-2005-k", ["iraq-2005-krg17"]),
        (f"revshare ratify {IRAQ} -s federation --status-quo u", ["unified"]),
        (f"revshare secession {IRAQ} --structure iraq-2023", ["iraq-2023-budget"]),
    ],
)
def test_bash_completes_through_clicks_protocol(words, expected):
    lines = _complete("bash", words).splitlines()
    assert lines == [f"plain,{name}" for name in expected]


def test_bash_completes_the_scaffolds_examples(scaffold_dir):
    lines = _complete(
        "bash", f"revshare compare {scaffold_dir} -s federation,example-d"
    ).splitlines()
    assert lines == ["plain,federation,example-derivation", "plain,federation,example-damage"]


def test_a_word_that_is_no_structure_is_left_to_file_completion():
    assert _complete("bash", f"revshare optimize {IRAQ} -s my.to").splitlines() == ["file,my.to"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_show_each_structure_with_its_description(scaffold_dir, shell):
    example = scaffold.EXAMPLES[0]
    words = f"revshare optimize {scaffold_dir} --structure {example.name}"
    form = get_completion_class(shell)(cli.main, {}, "revshare", "_REVSHARE_COMPLETE")
    item = CompletionItem(example.name, help=example.description)
    assert _complete(shell, words) == form.format_completion(item) + "\n"
    assert example.description in _complete(shell, words)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_gets_its_script_and_the_docs_give_its_exact_line(shell):
    result = CliRunner().invoke(
        cli.main, [], prog_name="revshare", env={"_REVSHARE_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0 and "_revshare_completion" in result.stdout
    assert get_completion_class(shell) is not None
    docs = (ROOT / "docs" / "shell-completion.md").read_text(encoding="utf-8")
    line = {
        "bash": 'eval "$(_REVSHARE_COMPLETE=bash_source revshare)"',
        "zsh": 'eval "$(_REVSHARE_COMPLETE=zsh_source revshare)"',
        "fish": "_REVSHARE_COMPLETE=fish_source revshare > ~/.config/fish/completions/revshare.fish",
    }[shell]
    assert f"## {shell}\n" in docs and line in docs
    named = set(re.findall(r"_REVSHARE_COMPLETE=(\w+)_source", docs))
    assert named == {"bash", "zsh", "fish"}


def _structure_options() -> list[tuple[str, click.Parameter]]:
    return [
        (name, param)
        for name, command in cli.main.commands.items()
        for param in command.params
        if param.name in STRUCTURE_PARAMS
    ]


def test_every_option_taking_a_structure_completes_structures():
    found = _structure_options()
    assert {name for name, _ in found} >= {"optimize", "compare", "sweep", "ratify", "secession"}
    for name, param in found:
        assert param._custom_shell_complete in (complete_structure, complete_structures), name


def test_the_installed_entry_completes_in_a_real_process():
    words = f"revshare compare {IRAQ} -s iraq-2023"
    run = subprocess.run(
        [sys.executable, "-m", "revshare"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "_REVSHARE_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": "4",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "plain,iraq-2023-budget\n", "")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_itself_completes_with_the_documented_line(tmp_path):
    """The documented line in a real bash: its completion function fills COMPREPLY."""
    entry = tmp_path / "revshare"
    entry.write_text(
        f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} "
        '-m revshare "$@"\n',
        encoding="utf-8",
    )
    entry.chmod(0o755)
    script = (
        'eval "$(_REVSHARE_COMPLETE=bash_source revshare)"\n'
        f"COMP_WORDS=(revshare compare {shlex.quote(str(IRAQ))} -s federation,iraq-2023)\n"
        "COMP_CWORD=4\n_revshare_completion revshare\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    run = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (run.returncode, run.stdout) == (0, "federation,iraq-2023-budget\n"), run.stderr
