"""Benchmark: periods with a stabilisation fund at district scale, and the formulation ratio.

1. The issue's instance: a generated dataset of 774 regions x 5 factions (``revshare.data.synthetic``,
   seed 1) over 120 monthly periods with a fund (benchmark: the 12-month moving average price;
   at most half the balance spent a month), about half a million cell-period values, solved and
   verified by ``revshare.optimize_periods``. Prints wall time, peak memory (max RSS) and the LP
   solves. Targets (issue 12): under 60 s and 1 GB on the 2-core machine. Each run is a
   subprocess (so its peak RSS is its own), first the baseline, ``before``: every leximin round,
   no pinned-group proof (``highs_executor.PROVE_PINNED`` off), then ``after``, the plan as it
   ships; ``--repeat`` alternates them again. Every period's money (each cell and the centre)
   of every run is checked against the first baseline's to 1e-9 of that period's revenue; the
   script exits 1 if any differs.

2. The ratio, at a size both can do (``--ratio-regions``, 12 periods), for the same answer: the
   leximin allocation (federation's rules, objective leximin) with the fund's flows fixed by its
   rules. The straightforward formulation is one LP over every period with a variable per cell
   and period, each period's rules (budget, central share, derivation, equal money per head
   within a region) and one max-min level column in every cell-period row, passed to HiGHS as
   arrays (no PuLP overhead); its leximin rounds raise the lowest level, fix the cells that cannot
   rise (by their duals) and repeat, timed from the first ``run()``. Ours is
   ``optimize_periods``: a variable per region, no column shared across periods, each period
   re-solved in place, build and verification included. Prints both times, their ratio and how
   far apart the two allocations are.

    python benchmarks/periods.py [--regions 774 --periods 120] [--repeat 1] [--ratio-regions 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np

import revshare
from revshare.analyses.periods import Fund, mechanical_flows, optimize_periods
from revshare.data.dataset import indicator_matrix
from revshare.data.synthetic import price_path, synthetic_territory

FUND = Fund(window=12, spend_rule=0.5)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_instance(regions: int, factions: int, periods: int, before: bool, out: Path) -> None:
    """One run, in this process: prints its numbers as JSON and saves its money to ``out``."""
    from revshare.solve import highs_executor

    highs_executor.PROVE_PINNED = not before
    t = synthetic_territory(regions=regions, factions=factions, seed=1)
    path = price_path(periods, seed=1)
    started = time.perf_counter()
    result = optimize_periods(t, "federation", path, fund=FUND)
    seconds = time.perf_counter() - started
    np.savez(
        out,
        cells=result.cells["usd"].to_numpy().reshape(periods, -1),
        centre=result.flows["centre_usd"].to_numpy(),
        revenue=result.flows["distributable_usd"].to_numpy(),
    )
    print(
        json.dumps(
            {
                "cells": len(t.cells),
                "values": len(result.cells),
                "seconds": seconds,
                "peak_mb": peak_mb(),
                "lp_solves": result.provenance["lp_solves"],
                "violation_usd": result.verification["max_violation_usd"],
                "parts": result.provenance["seconds"],
            }
        )
    )


def big(regions: int, factions: int, periods: int, repeat: int) -> tuple[list[dict], bool]:
    """The baseline and the plan, alternately, each in its own subprocess; their money
    checked against the first baseline's."""
    runs, agree, reference = [], True, None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            for before in (True, False):
                label = "before" if before else "after"
                out = Path(tmp) / f"{label}{k}.npz"
                child = f"{regions}:{factions}:{periods}:{int(before)}:{out}"
                done = subprocess.run(
                    [sys.executable, __file__, "--child", child],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                r = json.loads(done.stdout.strip().splitlines()[-1])
                money = np.load(out)
                if reference is None:
                    reference = {key: money[key] for key in money.files}
                gap = _gap(reference, money)
                agree &= gap <= 1e-9
                r.update(run=label, gap=gap)
                runs.append(r)
                print(
                    f"{regions} regions x {factions} factions ({r['cells']} cells) x {periods} "
                    f"periods, fund, {label:<6}: {r['values']:,} cell-period values in "
                    f"{r['seconds']:.1f} s, peak memory {r['peak_mb']:,.0f} MB, "
                    f"{r['lp_solves']} LP solves, largest violation {r['violation_usd']:.3g} USD; "
                    f"{'OK' if gap <= 1e-9 else 'DIFFERS'} ({gap:.1e} of a period's revenue "
                    "from the first baseline)",
                    flush=True,
                )
    after = [r for r in runs if r["run"] == "after"]
    slowest = max(r["seconds"] for r in after)
    peak = max(r["peak_mb"] for r in after)
    met = slowest < 60 and peak < 1024
    print(
        f"  after, slowest run: {slowest:.1f} s, {peak:,.0f} MB: targets (60 s, 1 GB) "
        f"{'met' if met else 'NOT met'}"
    )
    return runs, agree


def _gap(reference: dict[str, np.ndarray], money: np.lib.npyio.NpzFile) -> float:
    """The largest difference in any period's money (a cell or the centre), over that period's
    revenue."""
    cells = np.abs(reference["cells"] - money["cells"]).max(axis=1)
    centre = np.abs(reference["centre"] - money["centre"])
    return float((np.maximum(cells, centre) / reference["revenue"]).max())


def straightforward(t: revshare.Territory, structure: revshare.Structure, path) -> float:
    """HiGHS time for the one-LP formulation of the module docstring."""
    flows = mechanical_flows(t, path, FUND)
    years = path["years"].to_numpy()
    money = t.money(path["price"].to_numpy())
    factor = flows["distributable_usd"].to_numpy() / money.revenue
    scale = 1e-6
    R = flows["distributable_usd"].to_numpy() * scale
    V_r = money.region * factor[:, None] * scale  # factor already holds the period length
    cells = t.cells
    pop = cells["population"].to_numpy(dtype=float)
    region_of = indicator_matrix(cells["region"], t.regions.index)
    T, C = len(path), len(cells)
    lo_cs, hi_cs = structure.central_share
    # columns: x[t, c] (T*C), g[t] (T), level (1)
    n = T * C + T + 1
    level = n - 1
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lower = np.zeros(n)
    lower[level] = -highspy.kHighsInf
    h.addVars(n, lower, np.full(n, highspy.kHighsInf))
    starts, index, value, row_lo, row_hi = [0], [], [], [], []
    level_rows: list[int] = []  # row of cell-period k * C + c

    def row(cols, coefs, lo, hi):
        index.extend(cols)
        value.extend(coefs)
        starts.append(len(index))
        row_lo.append(lo)
        row_hi.append(hi)

    for k in range(T):
        x = k * C + np.arange(C)
        g = T * C + k
        row([*x, g], [1.0] * (C + 1), R[k], R[k])  # budget
        row([g], [1.0], lo_cs * R[k], hi_cs * R[k])  # central share
        for r in range(len(t.regions)):
            members = x[region_of[:, r] > 0]
            if structure.derivation > 0 and V_r[k, r] > 0:
                row(
                    members,
                    [1.0] * len(members),
                    structure.derivation * V_r[k, r],
                    highspy.kHighsInf,
                )
            first = members[0]
            for c in members[1:]:  # equal money per head within the region
                row([c, first], [1.0 / pop[c - k * C], -1.0 / pop[first - k * C]], 0.0, 0.0)
        for c in range(C):  # the max-min level in every cell-period row
            level_rows.append(len(row_lo))
            rate = 1.0 / (scale * pop[c] * years[k])  # USD per head a year
            row([x[c], level], [rate, -1.0], 0.0, highspy.kHighsInf)
    h.addRows(
        len(row_lo),
        np.array(row_lo),
        np.array(row_hi),
        len(index),
        np.array(starts[:-1], dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value),
    )
    h.changeColCost(level, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    level_row = np.array(level_rows)
    started = time.perf_counter()
    free = np.arange(T * C)
    rounds = 0
    while len(free):  # leximin: raise the lowest, fix the cells that cannot rise, repeat
        h.run()
        rounds += 1
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, h.getModelStatus()
        sol = h.getSolution()
        lam = sol.col_value[level]
        dual = np.abs(np.asarray(sol.row_dual)[level_row[free]])
        blocked = free[dual > 1e-9]
        if not len(blocked):
            money = np.asarray(sol.col_value)[free]
            rate = money / (scale * np.tile(pop, T)[free] * np.repeat(years, C)[free])
            blocked = free[rate <= lam + 1e-9 * max(1.0, abs(lam))]
        rows = level_row[blocked].astype(np.int32)
        h.changeRowsBounds(
            len(rows),
            rows,
            np.full(len(rows), -highspy.kHighsInf),
            np.full(len(rows), highspy.kHighsInf),
        )
        floor = (
            (lam - 1e-9 * max(1.0, abs(lam)))
            * scale
            * np.tile(pop, T)[blocked]
            * np.repeat(years, C)[blocked]
        )
        h.changeColsBounds(
            len(blocked), blocked.astype(np.int32), floor, np.full(len(blocked), highspy.kHighsInf)
        )
        free = np.setdiff1d(free, blocked)
    seconds = time.perf_counter() - started
    x = np.asarray(h.getSolution().col_value)[: T * C].reshape(T, C) / scale
    return seconds, rounds, x


def ratio(regions: int, factions: int, periods: int) -> dict[str, float]:
    t = synthetic_territory(regions=regions, factions=factions, seed=1)
    path = price_path(periods, seed=1)
    structure = revshare.PRESETS["federation"]
    structure = dataclasses.replace(structure, objective="leximin")
    plain, rounds, x = straightforward(t, structure, path)
    started = time.perf_counter()
    result = optimize_periods(t, structure, path, fund=FUND)
    ours = time.perf_counter() - started
    mine = result.cells["usd"].to_numpy().reshape(x.shape)
    gap = float(np.max(np.abs(mine - x)) / result.flows["distributable_usd"].max())
    print(
        f"formulations at {regions} regions x {factions} factions x {periods} periods (leximin, "
        f"fund): straightforward {plain:.2f} s (HiGHS only, {rounds} rounds), ours {ours:.2f} s "
        f"(build, solve, verify): ratio {plain / ours:.1f}x; the two allocations differ by "
        f"{gap:.1e} of a period's money"
    )
    return {"straightforward_s": plain, "ours_s": ours, "ratio": plain / ours, "difference": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=774)
    parser.add_argument("--factions", type=int, default=5)
    parser.add_argument("--periods", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ratio-regions", type=int, default=200)
    parser.add_argument("--ratio-periods", type=int, default=12)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        regions, factions, periods, before, out = args.child.split(":", 4)
        big_instance(int(regions), int(factions), int(periods), before == "1", Path(out))
        return
    out: dict[str, object] = {"ratio": ratio(args.ratio_regions, args.factions, args.ratio_periods)}
    agree = True
    if not args.skip_big:
        out["big"], agree = big(args.regions, args.factions, args.periods, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
