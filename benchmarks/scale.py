"""Benchmark: `optimize` at scale, against the objective LP alone solved once by raw highspy.

On ``revshare.data.synthetic`` datasets (5 factions, seed 1) of each size, for the default structure
(federation) and for ``objective=leximin``: wall time of ``revshare.analyses.optimize``, its LP solves,
peak RSS, and the baseline (the objective stage's LP alone, passed to one highspy instance as
arrays and solved once). Each size and objective runs in its own subprocess, so ``ru_maxrss`` is
that run's peak. Every answer is checked against a reference to 1e-9 of revenue: with
``--before``, the same size and objective solved the way the executor did before the pinned-group
proof and the primal simplex (``before`` rows, every leximin round with HiGHS's default simplex);
else the money in ``--reference``, a JSON file written by an earlier run with ``--save``.

Targets (issue 12): 5,000 regions in under 60 s and 2 GB each objective; 2,000 regions within
10x the one-LP baseline; growth from 300 to 5,000 regions no steeper than regions^1.5.

    python benchmarks/scale.py [--sizes 18,300,2000,5000] [--timeout 900] [--before]
        [--save answers.json | --reference answers.json]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OBJECTIVES = {"federation": [], "leximin": ["objective=leximin"]}


def child(regions: int, objective: str, before: bool) -> dict[str, object]:
    """One run, in this process: the optimize call and the one-LP baseline. ``before``: every
    leximin round, no pinned-group proof, HiGHS's default simplex strategy throughout."""
    import highspy
    import numpy as np

    import revshare
    from revshare.data.structures import apply_overrides, resolve
    from revshare.data.synthetic import synthetic_territory
    from revshare.model.lp import build_model
    from revshare.model.objectives import OBJECTIVES as OBJ
    from revshare.model.objectives import level_offsets
    from revshare.solve import highs_executor

    t = synthetic_territory(regions=regions, factions=5, seed=1)
    highs_executor.PROVE_PINNED = not before
    options = {"simplex_strategy": 1} if before else None  # HiGHS's default, the dual simplex
    started = time.perf_counter()
    a = revshare.optimize(t, "federation", overrides=OBJECTIVES[objective], solver_options=options)
    seconds = time.perf_counter() - started
    structure = apply_overrides(resolve("federation", t.structures), OBJECTIVES[objective])
    m = build_model(t, structure, a.price)
    obj = OBJ[structure.objective](m)
    if obj.expression is None:  # leximin's first stage: maximise the lowest level
        level = m.prob.add_variable("bench_level")
        offsets = level_offsets(m)
        for k, z in enumerate(m.z):
            m.prob.addConstraint(level - z <= offsets[k], f"bench_level_{k}")
        expr, sense = level + 0, -1
    else:
        expr, sense = obj.expression, obj.sense
    baseline = _one_lp(m.prob, expr, sense, highspy, np)
    return {
        "regions": regions,
        "cells": len(t.cells),
        "objective": objective,
        "seconds": seconds,
        "lp_solves": a.provenance["solver_stages"],
        "baseline_seconds": baseline,
        "revenue": a.revenue_usd,
        "cells_usd": a.cells["usd"].tolist(),
        "centre_usd": a.centre_usd,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _one_lp(prob, expr, sense, highspy, np) -> float:  # type: ignore[no-untyped-def]
    """Seconds to solve the objective LP once in a fresh highspy instance (arrays built first)."""
    variables = prob.variables()
    col = {v.name: i for i, v in enumerate(variables)}
    inf = highspy.kHighsInf
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
    cost = np.zeros(len(variables))
    for v, c in expr.items():
        cost[col[v.name]] = c
    starts, index, value, lo, hi = [0], [], [], [], []
    for c in prob.constraints():
        for v, coef in c.items():
            index.append(col[v.name])
            value.append(coef)
        starts.append(len(index))
        rhs = -float(c.constant)
        lo.append(rhs if c.sense >= 0 else -inf)
        hi.append(rhs if c.sense <= 0 else inf)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(len(variables), lower, upper)
    h.changeColsCost(len(variables), np.arange(len(variables), dtype=np.int32), cost)
    h.addRows(
        len(lo),
        np.array(lo),
        np.array(hi),
        len(index),
        np.array(starts[:-1], dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value),
    )
    h.changeObjectiveSense(highspy.ObjSense.kMinimize if sense > 0 else highspy.ObjSense.kMaximize)
    started = time.perf_counter()
    h.run()
    return time.perf_counter() - started


def run(regions: int, objective: str, before: bool, timeout: float) -> dict[str, object] | None:
    cmd = [sys.executable, __file__, "--child", f"{regions}:{objective}:{int(before)}"]
    try:
        out = subprocess.run(
            cmd, check=True, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="18,300,2000,5000")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--before", action="store_true", help="also run the old round rule")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        regions, objective, before = args.child.split(":")
        print(json.dumps(child(int(regions), objective, before == "1")))
        return
    reference = json.loads(args.reference.read_text()) if args.reference else {}
    saved: dict[str, object] = {}
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'regions':>7} {'cells':>6} {'objective':<10} {'run':<6} {'seconds':>8} {'LPs':>5} "
        f"{'peak MB':>8} {'1-LP s':>7} {'ratio':>6}  answer"
    )
    seconds: dict[tuple[str, str, int], float] = {}
    for objective in OBJECTIVES:
        for regions in sizes:
            key = f"{regions}:{objective}"
            ref = reference.get(key)
            for before in [True, False] if args.before else [False]:
                r = run(regions, objective, before, args.timeout)
                label = "before" if before else "after"
                if r is None:
                    print(f"{regions:>7} {'':>6} {objective:<10} {label:<6} not finished")
                    continue
                money = {k: r[k] for k in ("revenue", "cells_usd", "centre_usd")}
                seconds[objective, label, regions] = float(r["seconds"])  # type: ignore[arg-type]
                if before:
                    ref = money
                    check = "reference"
                else:
                    saved[key] = money
                    check = _agree(ref, money) if ref else "no reference"
                print(
                    f"{regions:>7} {r['cells']:>6} {objective:<10} {label:<6} "
                    f"{r['seconds']:>8.2f} {r['lp_solves']:>5} {r['peak_mb']:>8.0f} "
                    f"{r['baseline_seconds']:>7.3f} "
                    f"{float(r['seconds']) / float(r['baseline_seconds']):>6.1f}  {check}",  # type: ignore[arg-type]
                    flush=True,
                )
        small, big = min([s for s in sizes if s >= 300] or sizes), max(sizes)
        for label in ("before", "after"):
            if small < big and {(objective, label, small), (objective, label, big)} <= set(seconds):
                slope = math.log(
                    seconds[objective, label, big] / seconds[objective, label, small]
                ) / math.log(big / small)
                print(
                    f"  {objective} {label}: time grows as regions^{slope:.2f} from {small} to {big}"
                )
    if args.save:
        args.save.write_text(json.dumps(saved))


def _agree(ref: dict[str, object], money: dict[str, object]) -> str:
    """Whether ``money`` equals the reference to 1e-9 of revenue, and the largest gap."""
    gap = max(
        abs(float(a) - float(b))
        for a, b in zip(
            [*ref["cells_usd"], ref["centre_usd"]],  # type: ignore[list-item]
            [*money["cells_usd"], money["centre_usd"]],  # type: ignore[list-item]
            strict=True,
        )
    ) / float(ref["revenue"])  # type: ignore[arg-type]
    return f"{'OK' if gap <= 1e-9 else 'DIFFERS'} ({gap:.1e} of revenue)"


if __name__ == "__main__":
    main()
