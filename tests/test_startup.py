"""Start-up: a command loads what it needs and no more, and what was made lazy, cached or done in
one pass gives the same answers (the versions in the provenance, the money of a territory, a
loaded dataset, the whole dollars of every cell)."""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata as md
import importlib.util
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

import cli
import revshare
from revshare.analyses.optimize import _round_hierarchically, versions
from revshare.data.dataset import load_dataset, territory_from_frames
from revshare.data.readers import read_dataset
from revshare.model.metrics import round_money
from revshare_cli.commands import ELSEWHERE
from revshare_cli.failures import LazyCommands

ROOT = Path(__file__).resolve().parent.parent
DATASETS = sorted(p.name for p in (ROOT / "data").iterdir() if (p / "fields.csv").exists())

# Modules that `optimize` does not need on a feasible structure: the explanation of an
# infeasible one, the other analyses, the sweep engine, the CBC and nash solves, the report
# folder's writers, and the modules of the other commands. (importlib.metadata, which revshare no
# longer reads, still comes with scipy.sparse through numpy.testing.)
NOT_NEEDED = (
    *(
        f"revshare.analyses.{name}"
        for name in (
            "explain",
            "periods",
            "compare",
            "sweep",
            "guarantees",
            "core",
            "secession",
            "power",
            "blocking",
            "games",
            "referendum",
            "convention",
            "validate",
            "preferences",
            "pool",
            "chunks",
        )
    ),
    "revshare.solve.engine",
    "revshare.solve.nash",
    "revshare.solve.cbc",
    "revshare.solve.pulp_executor",
    "revshare.reports.html",
    "revshare.reports.charts",
    "revshare.reports.workbook",
    "revshare.atomic",
    "revshare_cli.fear",
    "revshare_cli.init_command",
    "click.shell_completion",
    "matplotlib",
    "scipy",
    "openpyxl",
    "jinja2",
    "tqdm",
    "fractions",
    "shlex",
    # a header or a name that is not a column's: only a misspelt one needs a suggestion
    "difflib",
    # the workbook and sheet readers of a workbook dataset, for a folder of CSV files
    "revshare.data.workbook",
    "revshare.data.sheets",
    "encodings.utf_16_le",
    # the periods command, whose hidden old name `optimize --periods` has
    "revshare_cli.periods",
    # the commands that solve no allocation (generate, convention, ratify, validate, structures)
    "revshare_cli.others",
)
# What no help needs: the solver stack, the report and workbook libraries, and every layer of
# the library below its face (revshare, revshare.errors, revshare._version).
NOT_FOR_HELP = ("pandas", "numpy", "pulp", "highspy", "matplotlib", "scipy", "openpyxl", "jinja2")
LIBRARY_LAYERS = ("data", "model", "solve", "analyses", "reports")
COMMANDS = sorted(cli.main.commands)  # the names only: no command's module is imported here


def _loaded_by(args: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after running the command line ``args``."""
    probe = (
        "import sys, cli\n"
        f"sys.argv = ['revshare', *{args!r}]\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return set(run.stderr.split())


def _within(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    """The modules of ``loaded`` that are one of ``names`` or inside one of them."""
    return sorted(m for m in loaded if m in names or m.startswith(tuple(f"{n}." for n in names)))


@pytest.mark.parametrize(
    "args",
    [
        ["optimize", "data/iraq"],
        ["optimize", "data/sudan-2005", "--structure", "confederation", "--format", "json"],
        ["optimize", "data/nigeria", "--format", "csv"],
    ],
)
def test_optimize_loads_only_what_it_needs(args: list[str]) -> None:
    loaded = _loaded_by(args)
    assert "revshare.analyses.optimize" in loaded  # the probe ran the command
    assert _within(loaded, NOT_NEEDED) == []


def test_a_dataset_without_structures_loads_no_toml_parser(tmp_path: Path) -> None:
    """tomllib is imported to read a structures file, and only then."""
    for name in ("fields.csv", "population.csv", "regions.csv"):
        shutil.copy(ROOT / "data" / "iraq" / name, tmp_path / name)
    without = _loaded_by(["optimize", str(tmp_path), "--price", "80"])
    assert "revshare.analyses.optimize" in without
    assert _within(without, ("tomllib",)) == []
    assert "tomllib" in _loaded_by(["optimize", "data/iraq"])  # the probe can see it


def test_a_workbook_dataset_loads_the_sheet_reader(tmp_path: Path) -> None:
    """The reader a CSV dataset does without is imported for a workbook (the probe sees it)."""
    from revshare.data.workbook import write_dataset_workbook

    book = write_dataset_workbook(ROOT / "data" / "iraq", tmp_path / "iraq.xlsx")
    for dataset in (book, tmp_path):  # the workbook, and the folder that holds only it
        loaded = _loaded_by(["optimize", str(dataset), "--format", "json"])
        assert "revshare.analyses.optimize" in loaded
        assert "revshare.data.sheets" in loaded


def test_the_spaces_stripped_are_the_unicode_space_separators() -> None:
    """schema writes out the characters of category Zs (with tab) rather than finding them
    at every start: they are what the scan of U+0080 to U+3000 finds, plus space and tab."""
    from revshare.data.schema import _SPACES

    found = [chr(c) for c in range(0x80, 0x3001) if unicodedata.category(chr(c)) == "Zs"]
    assert _SPACES == " \t" + "".join(found)  # noqa: SIM300 (the module's value first)


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], *([c, "--help"] for c in COMMANDS)], ids=" ".join
)
def test_help_loads_no_solver_stack_and_no_library_layer(args: list[str]) -> None:
    loaded = _loaded_by(args)
    assert "revshare_cli.commands" in loaded  # the probe ran the command line
    assert _within(loaded, NOT_FOR_HELP) == []
    assert _within(loaded, tuple(f"revshare.{layer}" for layer in LIBRARY_LAYERS)) == []


def _imported_at_top(module: str) -> set[str]:
    """The modules of the command line that ``module``'s own top level imports."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return {
        f"revshare_cli.{node.module}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
    }


@pytest.mark.parametrize("command", sorted(ELSEWHERE))
def test_a_command_loads_no_other_commands_module(command: str) -> None:
    """`COMMAND --help` imports its own command's module and what that module imports: no
    module that only other commands need."""
    home = ELSEWHERE[command].partition(":")[0]
    others = {m.partition(":")[0] for m in ELSEWHERE.values()} - {home} - _imported_at_top(home)
    loaded = _loaded_by([command, "--help"])
    assert home in loaded
    assert sorted(others & loaded) == []


def test_the_commands_are_listed_without_importing_their_modules() -> None:
    """Listing, counting and testing the names import nothing; a lookup imports its module once
    and gives the command of that name."""
    homes = {
        "optimize": "revshare_cli.solving:optimize",
        "core": "revshare_cli.fear:core",
        "missing": "revshare_cli.no_such_module:missing",
    }
    commands = LazyCommands(homes)
    assert list(commands) == list(homes)
    assert len(commands) == 3
    assert "missing" in commands
    assert commands["optimize"].name == "optimize"
    assert commands["optimize"] is commands["optimize"]
    commands["extra"] = commands["core"]
    del commands["missing"]
    assert list(commands) == ["optimize", "core", "extra"]
    assert len(commands) == 3
    with pytest.raises(KeyError):
        del commands["missing"]
    with pytest.raises(KeyError):
        commands["absent"]


@pytest.mark.parametrize("command", sorted(ELSEWHERE))
def test_every_command_found_elsewhere_is_the_command_of_its_name(command: str) -> None:
    loaded = cli.main.commands[command]
    assert isinstance(loaded, click.Command)
    assert loaded.name == command
    assert cli.main.get_command(click.Context(cli.main), command) is loaded


@pytest.mark.parametrize("package", ["pulp", "highspy", "pandas", "numpy"])
def test_versions_are_the_installed_distributions(package: str) -> None:
    assert versions()[package] == md.version(package)


@pytest.mark.parametrize("name", DATASETS)
def test_a_loaded_dataset_is_the_territory_of_its_frames(name: str) -> None:
    """load_dataset skips the checks read_dataset made already; the territory is the same as
    the one built, with every check, from the frames it read."""
    loaded = load_dataset(ROOT / "data" / name)
    raw = read_dataset(ROOT / "data" / name)
    built = territory_from_frames(raw.fields, raw.population, raw.regions)
    for table in ("regions", "cells", "fields"):
        assert getattr(loaded, table).equals(getattr(built, table)), table
    prices = np.array([0.0, 25.0, 82.49, 150.0])
    a, b = loaded.money(prices), built.money(prices)
    for part in ("revenue", "region", "bloc", "outside"):
        assert np.array_equal(getattr(a, part), getattr(b, part)), part


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("factor", [0.5, 3.0])
def test_money_follows_a_replaced_table(name: str, factor: float) -> None:
    """The price-independent arrays behind money are built per territory: a territory made by
    replacing a table never reads the arrays of the one it came from."""
    t = load_dataset(ROOT / "data" / name)
    prices = np.array([30.0, 82.49])
    before = t.money(prices)  # builds t's arrays
    fields = t.fields.assign(share=t.fields["share"] * factor)
    scaled = dataclasses.replace(t, fields=fields).money(prices)
    for part in ("revenue", "region", "bloc", "outside"):
        assert np.allclose(getattr(scaled, part), factor * getattr(before, part), rtol=1e-12)
    assert np.array_equal(t.money(prices).revenue, before.revenue)


def test_transit_fees_are_the_outside_options_difference() -> None:
    """The fees of the cached arrays are those the outside options net: O_b = V_b - paid +
    received, on every shipped dataset at several prices."""
    for name in DATASETS:
        t = revshare.load_dataset(ROOT / "data" / name)
        for price in (10.0, 82.49, 150.0):
            fees = t.transit_fees(price)
            paid = fees.groupby("payer")["fee_usd"].sum()
            received = fees.groupby("payee")["fee_usd"].sum()
            expected = (
                t.bloc_revenue(price)
                .sub(paid, fill_value=0.0)
                .add(received, fill_value=0.0)
                .reindex(t.blocs)
            )
            assert np.allclose(t.outside_options(price), expected, rtol=1e-12, atol=1e-6)


def _rounded_region_by_region(
    region: pd.Series, x: np.ndarray, centre: float, revenue: float
) -> tuple[np.ndarray, int]:
    """The rounding as written before it found each region's cells in one pass."""
    by_region = pd.Series(x).groupby(region.to_numpy()).sum()
    names = [str(r) for r in by_region.index]
    top = round_money(
        np.append(by_region.to_numpy(), centre), [*names, "\uffff"], total=round(revenue)
    )
    out = np.zeros(len(x), dtype=np.int64)
    for i, r in enumerate(by_region.index):
        idx = np.flatnonzero(region.to_numpy() == r)
        out[idx] = round_money(x[idx], [str(k) for k in idx], total=int(top[i]))
    return out, int(top[-1])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("cells", "regions"), [(1, 1), (40, 7), (3000, 500)])
def test_whole_dollars_are_those_of_the_region_by_region_rounding(
    seed: int, cells: int, regions: int
) -> None:
    rng = np.random.default_rng(seed)
    names = np.array([f"r{k:04d}" for k in rng.permutation(regions)])
    region = pd.Series(names[rng.integers(0, regions, cells)])
    x = rng.random(cells) * 10.0 ** rng.integers(0, 9, cells)
    centre = float(rng.random() * x.sum())
    revenue = float(x.sum() + centre)
    got, others = _round_hierarchically(region, x, {"centre": centre}, revenue)
    got_centre = others["centre"]
    want, want_centre = _rounded_region_by_region(region, x, centre, revenue)
    assert np.array_equal(got, want)
    assert got_centre == want_centre
    assert int(got.sum()) + got_centre == round(revenue)
