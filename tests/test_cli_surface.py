"""Issue 15, items 1 and 2: one command surface, and every error in one form naming what was typed.

Every command's ``--help`` is walked for the shared options wherever they apply; every choice list
is compared with the library registry it comes from; every error of the issue (the library's and
Click's own) is checked for its code, the option it names and the documented form
``revshare: error: WHERE: what is wrong; what to do [CODE]`` with exit 2.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cli
import revshare
from revshare.analyses import blocking, convention, referendum, secession
from revshare.data import scenarios
from revshare.errors import InputError, Problem
from revshare.solve import solver
from revshare_cli.failures import COMMAND_PARAMETERS, LIBRARY_PARAMETERS, as_typed, typed_flag
from revshare_cli.options import FORMATS

ROOT = Path(__file__).resolve().parent.parent
IRAQ = str(ROOT / "data" / "iraq")
PERIODS = str(ROOT / "data" / "iraq" / "brent-2005-2024.csv")
FORM = re.compile(
    r"^revshare: error: (?P<where>[^ ]+): (?P<what>.+); (?P<todo>.+) \[(?P<code>E-[A-Z-]+)\]$"
)

SOLVING = ("optimize", "compare", "sweep", "ratify", "guarantees", "core", "secession")
WRITING = (
    "optimize",
    "periods",
    "compare",
    "sweep",
    "convention",
    "ratify",
    "guarantees",
    "core",
    "power",
    "secession",
)
# Where each shared option applies (issue 15, item 1).
APPLIES = {
    "--format": tuple(sorted(cli.main.commands)),
    "--structures": ("compare", "sweep"),
    "-s": ("compare", "sweep"),
    "--set": (*SOLVING, "periods"),
    "--solver": SOLVING,
    "--time-limit": (*SOLVING, "periods"),
    "--solver-option": SOLVING,
    "--cross-check": SOLVING,
    "--out": WRITING,
    "--force": WRITING,
}
# Each choice list and the library registry it must equal.
REGISTRIES: dict[str, tuple[str, ...]] = {
    "solver": tuple(solver.SOLVERS),
    "price_model": tuple(scenarios.PRICE_MODELS),
    "method": (*convention.METHODS, *convention.ALIASES),
    "by": tuple(convention.BY),
    "tie_rule": tuple(convention.TIE_RULES),
    "rule": tuple(referendum.RULES),
    "vote_model": tuple(referendum.VOTE_MODELS),
    "fmt": FORMATS,
    "power_by": tuple(blocking.VOTERS),
    "vote_by": tuple(secession.VOTERS),
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _help_options(command: str) -> set[str]:
    code, out, _ = run(command, "--help")
    assert code == 0
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", out))


@pytest.mark.parametrize(
    ("option", "command"),
    [(option, command) for option, commands in APPLIES.items() for command in commands],
)
def test_a_shared_option_is_on_every_command_it_applies_to(option, command):
    assert option in _help_options(command)


@pytest.mark.parametrize("command", sorted(cli.main.commands))
def test_every_shared_option_means_the_same_on_every_command(command):
    """Where a shared option is, it has the same names, type and destination everywhere."""

    def long(p: click.Parameter) -> str:
        return max(p.opts, key=len)

    reference = {long(p): p for p in cli.main.commands["optimize"].params}
    reference.update({long(p): p for p in cli.main.commands["compare"].params})
    for param in cli.main.commands[command].params:
        shared = reference.get(long(param))
        if shared is None or long(param) not in APPLIES:
            continue
        assert (param.name, param.opts, type(param.type)) == (
            shared.name,
            shared.opts,
            type(shared.type),
        )


def test_every_choice_list_is_a_library_registry():
    seen = set()
    for name, command in cli.main.commands.items():
        for param in command.params:
            if isinstance(param.type, click.Choice):
                assert param.name in REGISTRIES, f"{name} {param.opts}: which registry?"
                assert tuple(param.type.choices) == REGISTRIES[param.name], (name, param.name)
                seen.add(param.name)
    assert seen == set(REGISTRIES)


@pytest.mark.parametrize("method", [*convention.METHODS, *convention.ALIASES, "Webster", "DHONDT"])
def test_every_method_the_library_accepts_the_command_line_accepts(method):
    library = convention.apportion({"A": 3, "B": 5, "C": 7}, 6, method)
    code, out, err = run("convention", IRAQ, "--seats", "100", "--method", method)
    assert code == 0, err
    assert library.method in out  # the canonical name the alias stands for


@pytest.mark.parametrize("method", ["bogus", "hondt", ""])
def test_a_method_the_library_refuses_the_command_line_refuses(method):
    with pytest.raises(InputError):
        convention.apportion({"A": 3, "B": 5}, 4, method)
    code, _, err = run("convention", IRAQ, "--seats", "100", "--method", method)
    assert code == 2
    assert re.match(r"revshare: error: --method: .* \[E-CHOICE\]$", err.strip())


RATIFY = ["ratify", IRAQ, "--structure", "federation", "--status-quo", "unified"]
ERRORS = [
    # the issue's own: an unknown name in --structures, a bad --param, a bad --solver-option
    (["compare", IRAQ, "--structures", "federation,bogus"], "--structures", "E-UNKNOWN-STRUCTURE"),
    (["compare", IRAQ, "-s", "bogus"], "-s", "E-UNKNOWN-STRUCTURE"),
    (["sweep", IRAQ, "--prices", "50", "-s", "bogus"], "-s", "E-UNKNOWN-STRUCTURE"),
    (["sweep", IRAQ, "--prices", "50", "--param", "foo=1:2:1"], "--param", "E-UNKNOWN-PARAMETER"),
    (["sweep", IRAQ, "--prices", "50", "--param", "derivation=abc"], "--param", "E-USAGE"),
    (["sweep", IRAQ, "--prices", "50", "--param", "derivation"], "--param", "E-USAGE"),
    (["optimize", IRAQ, "--solver-option", "foo"], "--solver-option", "E-USAGE"),
    (["optimize", IRAQ, "--set", "foo"], "--set", "E-USAGE"),
    (
        ["ratify", IRAQ, "--structure", "federation", "--status-quo", "bogus"],
        "--status-quo",
        "E-UNKNOWN-STRUCTURE",
    ),
    ([*RATIFY, "--seed", "-1"], "--seed", "E-RANGE"),
    ([*RATIFY, "--status-quo-set", "foo"], "--status-quo-set", "E-USAGE"),
    (["sweep", IRAQ, "--prices", "50", "--resume"], "--resume", "E-USAGE"),
    (["sweep", IRAQ, "--scenarios", "3", "--volatility", "-1"], "--volatility", "E-USAGE"),
    (["sweep", IRAQ], "--prices", "E-USAGE"),
    # usage the commands check themselves
    (["optimize", IRAQ, "--write-lp"], "--write-lp", "E-USAGE"),
    (["optimize", IRAQ, "--smooth"], "--smooth", "E-USAGE"),
    (["optimize", IRAQ, "--periods", PERIODS, "--price", "70"], "--periods", "E-USAGE"),
    # Click's own usage errors
    (["generate"], "OUTDIR", "E-MISSING"),
    (["convention", IRAQ], "--seats", "E-MISSING"),
    (["optimize", IRAQ, "--bogus"], "--bogus", "E-UNKNOWN-OPTION"),
    (["optimize", IRAQ, "--out"], "--out", "E-USAGE"),
    (["optimize", IRAQ, "--time-limit", "-1"], "--time-limit", "E-RANGE"),
    (["optimize", IRAQ, "--price", "abc"], "--price", "E-BAD-VALUE"),
    (["optimize", IRAQ, "--solver", "glpk"], "--solver", "E-CHOICE"),
    (["compare", IRAQ, "--format", "xml"], "--format", "E-CHOICE"),
    (["sweep", IRAQ, "--prices", "50", "--chunk-size", "0"], "--chunk-size", "E-RANGE"),
    (["optimise", IRAQ], "optimise", "E-UNKNOWN-COMMAND"),
    (["--bogus"], "--bogus", "E-UNKNOWN-OPTION"),
]


@pytest.mark.parametrize(
    ("args", "where", "code"), ERRORS, ids=[" ".join(e[0][:1] + e[0][2:]) for e in ERRORS]
)
def test_every_error_is_exit_2_in_the_one_form_naming_what_was_typed(args, where, code):
    status, out, err = run(*args)
    assert status == 2, err
    lines = err.strip().splitlines()
    assert lines and all(FORM.match(line) for line in lines), err
    assert (where, code) in [(FORM.match(x)["where"], FORM.match(x)["code"]) for x in lines], err
    assert "Usage:" not in err and "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-s", "x"], "-s"),
        (["--structures", "x"], "--structures"),
        (["--structures=x"], "--structures"),
        (["-sx"], "-s"),
        (["-s", "a", "--structures", "b"], "--structures"),  # the last one given wins, as in Click
        (["--structures", "a", "-s", "b"], "-s"),
        ([], "--structures"),  # not typed (a default): its long name
    ],
)
def test_the_name_typed_is_the_one_named(words, expected):
    param = cli.main.commands["compare"].params
    option = next(p for p in param if p.name == "names")
    assert typed_flag(option, words) == expected


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda t: revshare.compare(t, ["bogus"]), "structures"),
        (lambda t: revshare.compare(t, ["federation", "federation"]), "structures"),
        (lambda t: revshare.ratify(t, "federation", "unified", "bogus"), "rule"),
        (lambda t: revshare.ratify(t, "federation", "unified", margin=float("nan")), "margin"),
        (lambda t: revshare.ratify(t, "federation", "unified", seed=-1), "seed"),
        (lambda t: revshare.ratify(t, "federation", "unified", vote_model="x"), "vote_model"),
    ],
)
def test_the_library_names_its_parameters_not_flags(call, parameter):
    territory = revshare.load_dataset(IRAQ)
    with pytest.raises(InputError) as info:
        call(territory)
    assert [p.file for p in info.value.problems] == [parameter]
    assert "--" not in str(info.value)


def test_a_usage_error_in_a_real_process_names_revshare_and_the_command():
    proc = subprocess.run(
        [sys.executable, "-m", "revshare", "optimize", IRAQ, "--bogus"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "revshare: error: --bogus: no such option; did you mean --out? "
        "see 'revshare optimize --help' [E-UNKNOWN-OPTION]"
    )


@pytest.mark.parametrize("command", ["compare", "convention", "ratify"])
def test_format_json_prints_the_report_json(command):
    args = {
        "compare": ["compare", IRAQ, "-s", "federation,unified"],
        "convention": ["convention", IRAQ, "--seats", "100"],
        "ratify": RATIFY,
    }[command]
    import json

    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["schema_version"]


def test_every_parameter_the_command_line_maps_is_an_option_it_has():
    """The tables joining library parameters to options name no option that is gone."""
    names = {p.name for c in cli.main.commands.values() for p in c.params}
    assert set(LIBRARY_PARAMETERS.values()) <= names
    for command, aliases in COMMAND_PARAMETERS.items():
        assert set(aliases.values()) <= {p.name for p in cli.main.commands[command].params}


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (Problem("overrides", None, None, "E-X", "bad", "fix it"), "--set: bad; fix it [E-X]"),
        (Problem("time_limit", None, None, "E-X", "bad", "x"), "--time-limit: bad; x [E-X]"),
        (
            Problem("f.csv", 2, "a", "E-X", "m", "pass `force=True`"),
            "f.csv:2:a: m; pass --force [E-X]",
        ),
        (
            Problem("f.csv", None, None, "E-X", "m", "`encoding='cp1256'`"),
            "f.csv: m; --encoding cp1256 [E-X]",
        ),
        (Problem("f.csv", None, None, "E-X", "`out` is bad", "r"), "f.csv: --out is bad; r [E-X]"),
        (
            Problem("f.csv", None, None, "E-X", "m", "raise `max_bytes`"),
            "f.csv: m; raise `max_bytes` [E-X]",
        ),
        (Problem("nothing", None, None, "E-X", "m", "r"), "nothing: m; r [E-X]"),
    ],
)
def test_a_library_parameter_is_shown_as_the_flag_of_the_command(problem, shown):
    command = cli.main.commands["optimize"]
    with command.make_context("optimize", [IRAQ]):
        assert str(as_typed(problem)) == shown


HEAVY = ("pandas", "numpy", "pulp", "highspy", "matplotlib", "jinja2", "revshare.analyses")


def test_help_loads_none_of_the_heavy_modules():
    """Every command's --help (choice lists included) prints without pandas, numpy, PuLP or the
    analyses (before, ``convention --help`` imported them to list its methods: 1.5 s)."""
    probe = (
        "import sys, cli\n"
        "from click.testing import CliRunner\n"
        "for name in sorted(cli.main.commands):\n"
        "    result = CliRunner().invoke(cli.main, [name, '--help'])\n"
        "    assert result.exit_code == 0 and '--help' in result.output, name\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    assert "revshare_cli.commands" in loaded
    assert [m for m in loaded if m.startswith(HEAVY)] == []
