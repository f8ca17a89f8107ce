"""Start-up: a command loads what it needs and no more, and what was made lazy, cached or done in
one pass gives the same answers (the versions in the provenance, the money of a territory, a
loaded dataset, the whole dollars of every cell)."""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.analyses.optimize import _round_hierarchically, versions
from revshare.data.dataset import load_dataset, territory_from_frames
from revshare.data.readers import read_dataset
from revshare.model.metrics import round_money

ROOT = Path(__file__).resolve().parent.parent
DATASETS = sorted(p.name for p in (ROOT / "data").iterdir() if (p / "fields.csv").exists())

# Modules that `optimize` does not need on a feasible structure: the explanation of an
# infeasible one, the other analyses, the sweep engine. (importlib.metadata, which revshare no
# longer reads, still comes with scipy.sparse through numpy.testing.)
NOT_NEEDED = (
    "revshare.analyses.explain",
    "revshare.analyses.periods",
    "revshare.analyses.compare",
    "revshare.analyses.sweep",
    "revshare.solve.engine",
    "matplotlib",
    "jinja2",
    "tqdm",
)


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


@pytest.mark.parametrize(
    "args",
    [
        ["optimize", "data/iraq"],
        ["optimize", "data/sudan-2005", "--structure", "confederation", "--format", "json"],
    ],
)
def test_optimize_loads_only_what_it_needs(args: list[str]) -> None:
    loaded = _loaded_by(args)
    assert "revshare.analyses.optimize" in loaded  # the probe ran the command
    assert sorted(m for m in NOT_NEEDED if m in loaded) == []


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
