"""Benchmark: explain's bisection in one warm-started HiGHS LP, against building the model for
every step.

The explanation of a structure that cannot hold (:mod:`revshare.analyses.explain`) tightens each
concession by bisection, 20 feasibility questions a changed parameter. It used to build the
model for each question (about 44 builds on data/iraq, 90% of explain's time); it now builds the
model three times a parameter (the two extreme values the bisection can try and once between,
to check that the model moves affinely with it) and answers each question by moving matrix
entries and bounds in one HiGHS instance (:class:`revshare.solve.program.Affine`). The
baseline, measured in the same run and alternately, is the rebuild path, which the in-place one
falls back to (``concession._Moving.build`` returning ``None``).

Cases: every shipped dataset (``--datasets`` to choose) with the ``federation`` preset and a few
override sets that no allocation meets. Each time is the best of ``--repeat`` runs of the whole
``optimize`` call (which explains). Every in-place explanation must equal the rebuild's exactly
(conflicts, concession, overrides, cost, uniqueness, alternative, verification); the script
exits 1 otherwise.

    PYTHONPATH=. python benchmarks/explain.py [--repeat 5] [--datasets iraq nigeria]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "floor+derivation": ["per_capita_floor=1", "derivation=0.9"],
    "cap+centre": ["per_capita_cap=1.05", "central_share=[0.5, 0.6]"],
    "retention+floor": ["bloc_retention=0.95", "per_capita_floor=0.8"],
    "secession+centre": ["secession_proof=true", "central_share=[0.6, 0.7]"],
}


def answer(error: Any) -> Any:
    """Everything an explanation says, comparable with ``==``."""
    e = getattr(error, "explanation", None)
    if e is None:
        return f"{type(error).__name__}: {error}"
    return (
        str(error),
        error.overrides,
        error.concession,
        e.conflict_labels,
        [(c.parameter, c.old, c.new, c.sentence) for c in e.changes],
        e.cost_usd,
        e.unique,
        e.alternative,
        e.verified,
    )


def run(t: Any, overrides: list[str], in_place: bool) -> tuple[Any, int, int, float]:
    """The explanation, the models built, the HiGHS solves and the seconds of one call."""
    import revshare
    from revshare.analyses import concession, explain
    from revshare.solve.instance import Instance

    counts = {"builds": 0, "solves": 0}
    build_model, optimise, moving = explain.build_model, Instance.optimise, concession._Moving.build

    def counted_build(*args: Any, **kwargs: Any) -> Any:
        counts["builds"] += 1
        return build_model(*args, **kwargs)

    def counted_optimise(*args: Any, **kwargs: Any) -> Any:
        counts["solves"] += 1
        return optimise(*args, **kwargs)

    explain.build_model = counted_build  # type: ignore[assignment]
    concession.build_model = counted_build  # type: ignore[assignment]
    Instance.optimise = counted_optimise  # type: ignore[method-assign]
    if not in_place:
        concession._Moving.build = classmethod(lambda *args: None)  # type: ignore[method-assign,assignment]
    started = time.perf_counter()
    try:
        revshare.optimize(t, "federation", overrides=overrides)
        out: Any = "feasible"
    except revshare.InfeasibleError as exc:
        out = answer(exc)
    finally:
        seconds = time.perf_counter() - started
        explain.build_model = build_model  # type: ignore[assignment]
        concession.build_model = build_model  # type: ignore[assignment]
        Instance.optimise = optimise  # type: ignore[method-assign]
        concession._Moving.build = moving  # type: ignore[method-assign]
    return out, counts["builds"], counts["solves"], seconds


def _check(answer: Any, same: bool) -> str:
    if not same:
        return "DIFFERENT EXPLANATION"
    return "feasible: nothing to explain" if answer == "feasible" else "same explanation"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=["iraq", "nigeria", "ghana", "sudan-2005"])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import revshare

    print(f"best of {args.repeat}, alternately; rebuild: a model built for every bisection step")
    head = ("dataset", "case", "builds", "solves", "rebuild s", "in place", "ratio")
    print("{:<11} {:<17} {:>7} {:>9} {:>9} {:>8} {:>6}  check".format(*head))
    failed = False
    total = {True: 0.0, False: 0.0}
    for name in args.datasets:
        t = revshare.load_dataset(ROOT / "data" / name)
        for case, overrides in CASES.items():
            best = {True: float("inf"), False: float("inf")}
            got: dict[bool, tuple[Any, int, int, float]] = {}
            for _ in range(args.repeat):
                for in_place in (False, True):  # alternately: the machine's load hits both
                    got[in_place] = run(t, overrides, in_place)
                    best[in_place] = min(best[in_place], got[in_place][3])
            same = got[True][0] == got[False][0]
            failed |= not same
            for k in total:
                total[k] += best[k]
            builds = f"{got[False][1]}/{got[True][1]}"
            solves = f"{got[False][2]}/{got[True][2]}"
            print(
                f"{name:<11} {case:<17} {builds:>7} {solves:>9} {best[False]:>9.3f} "
                f"{best[True]:>8.3f} {best[False] / best[True]:>6.2f}  "
                f"{_check(got[False][0], same)}",
                flush=True,
            )
    print(
        f"{'all':<11} {'':<17} {'':>7} {'':>9} {total[False]:>9.3f} {total[True]:>8.3f} "
        f"{total[False] / total[True]:>6.2f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
