"""Issue 11, classes 17, 25 and 26, each tested as a family.

- 25: every shipped dataset and structure solves with both solvers and the cross-check agrees;
  small leximin cases with per-head baselines solve with CBC; solver options are checked before
  solving; a solver's log never reaches standard output.
- 17: a CBC that ignores its time limit is killed (with anything it started) and the answer is
  NotOptimalError naming the solver and the limit.
- 26: advice is true of its input: every suggested override makes the structure solve, reads
  back as the same key and value, and every number in a sentence points the right way.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.data.dataset import territory_from_frames
from revshare.data.structures import PRESETS, apply_overrides, parse_override
from revshare.data.synthetic import generate
from revshare.errors import InfeasibleError, InputError, NotOptimalError
from revshare.solve.cbc import grace
from revshare.solve.solver import SolverConfig

ROOT = Path(__file__).resolve().parent.parent
DATASETS = sorted(p for p in (ROOT / "data").iterdir() if (p / "fields.csv").is_file())
SOLVERS = ["highs", "cbc"]
SLOW = pytest.mark.slow


def _structures(path: Path) -> list[str]:
    t = revshare.load_dataset(path)
    return [*PRESETS, *(n for n in t.structures if n not in PRESETS)]


SHIPPED = [(d.name, s) for d in DATASETS for s in _structures(d)]


# ---------------------------------------------------------------- 25: both solvers, every case


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(("dataset", "structure"), SHIPPED)
def test_every_shipped_dataset_and_structure_solves_with_both_solvers(dataset, structure, solver):
    """Solved with ``solver`` and cross-checked with the other: both verified, both agree."""
    t = revshare.load_dataset(ROOT / "data" / dataset)
    try:
        a = revshare.optimize(t, structure, solver=solver, cross_check=True)
    except InfeasibleError:
        # a structure whose rules cannot hold on the data (confederation on Nigeria, where 93%
        # of the oil lies in one zone): both solvers must say so, and only for a preset
        with pytest.raises(InfeasibleError):
            revshare.optimize(t, structure, solver="highs" if solver == "cbc" else "cbc")
        assert structure in PRESETS, f"the dataset's own structure {structure!r} is infeasible"
        return
    except InputError as exc:
        # a preset that cannot apply to this dataset (it names a bloc the data lacks): the
        # same answer whatever the solver, and never a solver's failure
        with pytest.raises(InputError) as other:
            revshare.optimize(t, structure, solver="highs" if solver == "cbc" else "cbc")
        assert exc.codes == other.value.codes
        assert structure in PRESETS, f"the dataset's own structure {structure!r}: {exc}"
        return
    assert a.verification.ok
    assert a.provenance["cross_checked_with"] == ("cbc" if solver == "highs" else "highs")
    # the centre's and a deal's accounts' whole dollars (the centre's alone without a deal)
    assert int(a.cells["usd_rounded"].sum()) + int(a.accounts["usd_rounded"].sum()) == round(
        a.revenue_usd
    )


def _baseline_case(seed: int) -> revshare.Territory:
    """Eight regions in two blocs with per-head non-oil baselines (up to 3,000 USD a head)."""
    f, p, r = generate(regions=8, factions=2, blocs=2, seed=seed)
    rng = np.random.default_rng(seed)
    r = r.copy()
    r["baseline_usd_per_capita"] = rng.uniform(0, 3000, len(r)).round(2)
    return territory_from_frames(f, p, r, default_price=80.0)


OBJECTIVES = ["leximin", "maxmin", "proportional", "needs"]


def _solves_with_cbc_and_agrees(seed: int, objective: str, within: str) -> None:
    t = _baseline_case(seed)
    sets = [f"objective={objective}", f"within_region={within}"]
    a = revshare.optimize(t, "federation", overrides=sets, solver="cbc", cross_check=True)
    assert a.verification.ok


# seeds 3, 5, 7 and 10 each failed with CBC ("the ... tie-break stage ended with status
# 'infeasible'") before CBC's tolerances and the retry
@pytest.mark.parametrize("within", ["equal", "free"])
@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", [3, 5, 7, 10])
def test_small_cases_with_baselines_solve_with_cbc_and_agree(seed, objective, within):
    _solves_with_cbc_and_agrees(seed, objective, within)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "objective", "within"),
    list(itertools.product(range(60), OBJECTIVES, ["equal", "free"])),
)
def test_many_small_cases_with_baselines_solve_with_cbc_and_agree(seed, objective, within):
    _solves_with_cbc_and_agrees(seed, objective, within)


@pytest.mark.slow
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("price", [5, 25, 60, 114.79, 145, 400])
@pytest.mark.parametrize(("dataset", "structure"), SHIPPED)
def test_shipped_cases_solve_with_both_solvers_at_many_prices(dataset, structure, solver, price):
    t = revshare.load_dataset(ROOT / "data" / dataset)
    try:
        a = revshare.optimize(t, structure, price=price, solver=solver, cross_check=True)
    except (InputError, revshare.InfeasibleError):
        return  # not applicable, or the rules cannot hold at this price: not the solver's doing
    assert a.verification.ok


def test_a_second_numerical_failure_names_the_solver_and_what_to_try(monkeypatch):
    """When the retry fails too, the message says which solver and suggests the other."""
    from revshare.errors import NumericalTroubleError

    opt = sys.modules["revshare.analyses.optimize"]

    def trouble(model, config):
        raise NumericalTroubleError(f"{config.name} ended the leximin stage with 'infeasible'")

    monkeypatch.setattr(opt, "solve_model", trouble)
    t = revshare.load_dataset(ROOT / "data" / "iraq")
    for solver, other in (("highs", "cbc"), ("cbc", "highs")):
        with pytest.raises(NotOptimalError) as err:
            revshare.optimize(t, solver=solver)
        text = str(err.value)
        assert text.startswith(solver) and f"solver {other!r}" in text, text
        assert err.value.exit_code == 4


# ------------------------------------------------------------------- 25: solver options

BAD_OPTIONS = [
    ("highs", "no_such_option", 1, "no option"),
    ("highs", "presolve", "maybe", "range"),
    ("highs", "time_limit", "soon", "number"),
    ("highs", "time_limit", -3, "range"),
    ("highs", "threads", 1.5, "integer"),
    ("highs", "output_flag", 1, "true or false"),
    ("highs", "simplex_iteration_limit", True, "integer"),
    ("cbc", "noSuchOption", 3, "No match"),
    ("cbc", "primalTolerance", "abc", "illegal"),
    ("cbc", "primalTolerance", -5, "range"),
    ("cbc", "presolve", "maybe", "presolve"),
    ("cbc", "seconds", 5, "revshare sets seconds"),
    ("cbc", "sec", 5, "revshare sets seconds"),
    ("cbc", "solve", "x", "not valid"),
    ("cbc", "presolve", "off now", "one word"),
    ("cbc", "-presolve", "off", "leading"),
]


@pytest.mark.parametrize(("solver", "name", "value", "why"), BAD_OPTIONS)
def test_a_bad_solver_option_is_an_input_error_naming_it(solver, name, value, why):
    with pytest.raises(InputError) as err:
        SolverConfig(solver, None, {name: value})
    text = str(err.value)
    assert name in text and why in text, text
    assert err.value.exit_code == 2


def test_a_bad_solver_option_is_refused_before_anything_is_solved(monkeypatch):
    opt = sys.modules["revshare.analyses.optimize"]

    def must_not_build(*args, **kwargs):
        raise AssertionError("the model was built before the options were checked")

    monkeypatch.setattr(opt, "build_model", must_not_build)
    t = revshare.load_dataset(ROOT / "data" / "iraq")
    for solver, name, value, _ in BAD_OPTIONS:
        with pytest.raises(InputError):
            revshare.optimize(t, solver=solver, solver_options={name: value})


@pytest.mark.parametrize(
    ("solver", "options"),
    [
        ("highs", {"presolve": "off", "time_limit": 30}),
        ("highs", {"simplex_strategy": 1, "random_seed": 7}),
        ("cbc", {"presolve": "off"}),
        ("cbc", {"primalT": 1e-9, "dualTolerance": 1e-9}),
        ("cbc", {"threads": 0}),
    ],
)
def test_valid_solver_options_are_accepted_and_solve(solver, options):
    t = revshare.load_dataset(ROOT / "data" / "sudan-2005")
    assert revshare.optimize(t, solver=solver, solver_options=options).verification.ok


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


LOGGING = [
    ("highs", ["output_flag=true"]),
    ("highs", ["output_flag=true", "log_to_console=true", "log_dev_level=1"]),
    ("highs", ["write_solution_to_file=true", "output_flag=true"]),
    ("cbc", ["logLevel=3"]),
]


@pytest.mark.parametrize(
    ("solver", "options", "fmt"),
    [
        pytest.param(solver, options, fmt, marks=[] if (k + j) % 2 == 0 else SLOW)
        for k, (solver, options) in enumerate(LOGGING)
        for j, fmt in enumerate(["csv", "json"])
    ],
)
def test_a_solver_log_never_reaches_standard_output(solver, options, fmt):
    words = [w for o in options for w in ("--solver-option", o)]
    done = _cli("optimize", "data/iraq", "--solver", solver, *words, "--format", fmt)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        json.loads(done.stdout)
    else:
        rows = list(csv.reader(io.StringIO(done.stdout)))
        assert rows[0][:2] == ["region", "faction"], done.stdout[:300]
        assert {len(r) for r in rows} == {len(rows[0])}, done.stdout[:300]
    # the log did go somewhere: to standard error
    assert ("HiGHS" if solver == "highs" else "Coin") in done.stderr


def test_a_bad_solver_option_on_the_command_line_is_exit_2():
    done = _cli("optimize", "data/iraq", "--solver-option", "no_such_option=1")
    assert done.returncode == 2
    assert "no_such_option" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------- 17: CBC past its time limit

FAKE_CBC = """\
#!/bin/sh
# a CBC that ignores every limit, and starts a child that would outlive it
echo $$ >> "{pids}"
sleep 1000 &
echo $! >> "{pids}"
wait
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see processes")
@pytest.mark.parametrize("limit", [0.2, 1.0])
def test_a_cbc_that_ignores_its_time_limit_is_killed(tmp_path, monkeypatch, limit):
    pids = tmp_path / "pids"
    fake = tmp_path / "cbc"
    fake.write_text(FAKE_CBC.format(pids=pids))
    fake.chmod(0o755)
    monkeypatch.setenv("REVSHARE_CBC", str(fake))
    t = revshare.load_dataset(ROOT / "data" / "sudan-2005")
    started = time.monotonic()
    with pytest.raises(NotOptimalError) as err:
        revshare.optimize(t, solver="cbc", time_limit=limit)
    took = time.monotonic() - started
    assert took <= limit + grace(limit) + 3, took
    text = str(err.value)
    assert "cbc" in text and f"{limit:g} s" in text and "time limit" in text, text
    assert err.value.exit_code == 4
    started_pids = [int(p) for p in pids.read_text().split()]
    assert len(started_pids) == 2
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in started_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in started_pids), "CBC or its child outlived the kill"


def test_a_cbc_within_its_limit_is_not_killed():
    t = revshare.load_dataset(ROOT / "data" / "sudan-2005")
    assert revshare.optimize(t, solver="cbc", time_limit=30).verification.ok


# ----------------------------------------------------------------- 26: advice that is true

NUMBER = r"-?[\d,]*\.?\d+%?"


def _numbers(text: str) -> list[float]:
    return [float(n.rstrip("%").replace(",", "")) for n in re.findall(NUMBER, text)]


def _check_overrides_round_trip(overrides: list[str], t: revshare.Territory) -> None:
    """Each override is ``PARAM=VALUE`` for a real parameter; a dotted key names a real bloc or
    faction, exactly, and the text reads back as that key."""
    fields = {f.name for f in dataclasses.fields(revshare.Structure)}
    names = {str(n) for n in [*t.blocs, *t.factions]}
    for text in overrides:
        key, value = parse_override(text)
        head, dot, sub = key.partition(".")
        assert head in fields and text.startswith(head), text
        if dot:
            assert head != "central_share" and sub in names, (text, sub)
        elif isinstance(value, dict):
            assert set(value) <= names, (text, value)


NASH_CASES = [
    pytest.param(dataset, cost, extra, marks=[] if cost in (0.0, 0.1, 0.3) else SLOW)
    for dataset in ("iraq", "sudan-2005")
    for cost in (0.0, 0.05, 0.1, 0.2, 0.3)
    for extra in ([], ["central_share=0.6"], ["central_share=0", "derivation=0.3"])
]


@pytest.mark.parametrize(("dataset", "cost", "extra"), NASH_CASES)
def test_nash_advice_is_true_of_its_input(dataset, cost, extra):
    t = revshare.load_dataset(ROOT / "data" / dataset)
    sets = ["objective=nash", f"secession_cost={cost}", *extra]
    try:
        revshare.optimize(t, "federation", overrides=sets)
        return
    except revshare.InfeasibleError as exc:
        err = exc
    text = str(err)
    # no negative amounts, no "at most" a shortfall
    assert not re.search(r"-\d", text), text
    stated = re.search(r"secession_cost above ([\d.]+) \(it is ([\d.]+)\)", text)
    if err.overrides:
        assert stated, text
        threshold, current = float(stated.group(1)), float(stated.group(2))
        assert current == pytest.approx(cost) and threshold >= cost - 1e-9, text
        _check_overrides_round_trip(err.overrides, t)
        (override,) = err.overrides
        key, value = parse_override(override)
        assert key == "secession_cost" and cost < value < 1
        # the advice works ...
        a = revshare.optimize(t, "federation", overrides=[*sets, override])
        assert a.verification.ok
        # ... and the threshold is real: clearly below it there is still no surplus for all
        if threshold - 0.01 > cost:
            with pytest.raises(revshare.InfeasibleError):
                revshare.optimize(
                    t, "federation", overrides=[*sets, f"secession_cost={threshold - 0.01}"]
                )
    else:
        assert not stated and "No secession cost below 1 helps" in text, text


def test_the_reported_nash_case_now_advises_a_cost_that_works():
    """The issue's example: secession_cost=0.1 on Iraq advised 'above 0' and a negative amount."""
    t = revshare.load_dataset(ROOT / "data" / "iraq")
    sets = ["objective=nash", "secession_cost=0.1"]
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(t, overrides=sets)
    text = str(err.value)
    assert "above 0 " not in text and "at most -" not in text
    assert "short of it" in text
    assert revshare.optimize(t, overrides=[*sets, *err.value.overrides]).verification.ok


def _named_territory(a: str, b: str) -> revshare.Territory:
    """Oil in bloc ``a``'s region; bloc ``b`` holds half the people."""
    fields = pd.DataFrame({"field": ["F"], "region": ["R1"], "annual_revenue_usd": [1e9]})
    pop = pd.DataFrame(
        {
            "region": ["R1", "R2", "R3"],
            "faction": ["X", "Y", "Z"],
            "population": [300_000, 500_000, 200_000],
        }
    )
    regions = pd.DataFrame({"region": ["R1", "R2", "R3"], "bloc": [a, b, "C"]})
    return revshare.territory_from_frames(fields, pop, regions)


INFEASIBLE = {
    "floor against a bloc retention": ["per_capita_floor=0.9", "bloc_retention.{a}=0.9"],
    "floor against a derivation": ["per_capita_floor=1", "derivation=0.9"],
    "floor against centre and derivation": [
        "per_capita_floor=1",
        "central_share=0.5",
        "derivation=0.5",
    ],
    "cap against a bloc share": ["per_capita_cap=1", "bloc_share.{b}=0.9"],
    "bloc share against a derivation": ["bloc_share.{b}=0.9", "derivation=0.5"],
    "faction share against a derivation": ["faction_share.Y=0.9", "derivation=0.5"],
    "retention against a faction share": ["bloc_retention=0.9", "faction_share.Y=0.5"],
    "centre against a derivation": ["central_share=0.6", "derivation=0.6"],
    "secession against a centre share": ["central_share=0.3", "secession_proof=true"],
    "floor against a bloc share": ["per_capita_floor=1", "bloc_share.{a}=0.5"],
}
NAMES = [
    ("A", "B"),
    ("O'Brien", "S'$(touch x)'"),
    ("a=b", "c.d"),
    ("'quoted'", 'say "hi"'),
]
DIRECTION = re.compile(r"\b(lower|raise)\b[^;]*?\bfrom (\S+?) to (\S+?)(?=[\s;:(]|$)")


def _sets(template: list[str], a: str, b: str) -> list[str]:
    """The case's overrides, a bloc's entry written as a one-entry TOML table (any name)."""
    out = []
    for text in template:
        key, _, value = text.partition("=")
        if "{" in key:
            name = a if "{a}" in key else b
            out.append(f"{key.partition('.')[0]}={{ {json.dumps(name)} = {value} }}")
        else:
            out.append(text)
    return out


# every case with plain names, and names that quoting could break where a bloc's entry is
# suggested; the full product in the slow set
TABLE_CASES = ("floor against a bloc retention", "bloc share against a derivation")
CONCESSIONS = [
    pytest.param(case, a, b, marks=[] if (a, b) == NAMES[0] or case in TABLE_CASES else SLOW)
    for case in sorted(INFEASIBLE)
    for a, b in NAMES
]


@pytest.mark.parametrize(("case", "a", "b"), CONCESSIONS)
def test_every_concession_is_verified_round_trips_and_points_the_right_way(case, a, b):
    t = _named_territory(a, b)
    sets = ["derivation=0", *_sets(INFEASIBLE[case], a, b)]
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(t, "federation", price=0, overrides=sets)
    exc = err.value
    assert exc.conflict, f"{case}: infeasible without a conflict"
    if not exc.concession:
        assert not exc.overrides, "overrides without a verified concession"
        return
    assert exc.overrides, exc.concession
    _check_overrides_round_trip(exc.overrides, t)
    structure = apply_overrides(PRESETS["federation"], [*sets, *exc.overrides])
    # the printed concession, applied, makes the structure solve
    a_ = revshare.optimize(t, structure, price=0)
    assert a_.verification.ok
    # every "lower/raise ... from X to Y" points the right way, within range
    for verb, old, new in DIRECTION.findall(exc.concession):
        x, y = _numbers(old)[0], _numbers(new)[0]
        assert (y < x) if verb == "lower" else (y > x), exc.concession
        assert y >= 0 and (not new.endswith("%") or y <= 100), exc.concession
    assert not re.search(r"(?<![\w.])-\d", exc.concession), exc.concession


def test_the_toml_string_of_any_name_reads_back():
    import tomllib

    from revshare.analyses.concession import toml_string

    for name in ["A", "O'Brien", 'say "hi"', "back\\slash", "tab\there", "a=b", "ü ß", "x\x7fy"]:
        assert tomllib.loads(f"v = {toml_string(name)}")["v"] == name


@pytest.mark.parametrize("unused", [None])
def test_an_unverified_concession_is_never_printed(monkeypatch, unused):
    """If re-solving cannot confirm the concession, neither it nor its overrides are shown."""
    from revshare.analyses import explain as ex

    monkeypatch.setattr(ex, "works", lambda *args, **kwargs: False)
    t = _named_territory("A", "B")
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(
            t, "federation", price=0, overrides=["per_capita_floor=1", "derivation=0.9"]
        )
    assert err.value.conflict
    assert err.value.concession == "" and err.value.overrides == []
