"""Benchmark: the nash cutting planes and explain's elastic LP, in place against through PuLP.

Issue 12 wants every LP a command solves to be executed by the one in-place HiGHS executor. Two
had still gone through PuLP under it, a fresh HiGHS model each solve: the nash objective's
tangent-cut rounds (:mod:`revshare.solve.nash`) and the elastic LP of the explanation of an
infeasible structure (:mod:`revshare.analyses.explain`). Both now run in one HiGHS instance
(:mod:`revshare.solve.lp`), warm-started; ``revshare.solve.lp.IN_PLACE = False`` restores the
PuLP path (and explain's bisection building the model for every step, which
benchmarks/explain.py times on its own), which is this benchmark's baseline, measured in the
same run, alternately.

Cases, on data/iraq, data/nigeria and a generated dataset (``revshare generate --regions 300
--seed 1``, 5 factions; ``--regions`` for other sizes):

- ``optimize``: ``objective=nash`` with ``secession_cost=0.2`` (and ``central_share=0``,
  ``derivation=0``, as in tests/test_nash.py), the whole ``optimize`` call; the cut loop's LP
  solves are counted;
- ``optimize`` on the same dataset with ``secession_cost=0.2`` alone, which no allocation meets:
  the nash error path (``least_cost``, ``_best_floor``);
- ``explain``: ``optimize`` on a structure that cannot hold (``per_capita_floor=1``,
  ``derivation=0.9``), which explains it; the elastic LP's solves are counted.

Each time is the best of ``--repeat`` runs. Every in-place answer is checked against PuLP's: the
nash objective within ``GAP`` and bloc money within 1e-9 of revenue, the same nash error text, the
same explanation (conflicts, overrides, cost within 1e-9 of revenue). The script exits 1 if any
check fails, except bloc money that differs by more than 1e-9 of revenue but less than the loop's
own accuracy (10 sqrt(GAP) of revenue, as tests/test_nash.py allows), which is printed: the last
cut LP can have an optimal face along which money moves at the same objective value, and the
two paths may end at different points of it.

    PYTHONPATH=. python benchmarks/nash.py [--repeat 5] [--regions 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NASH = ["objective=nash", "central_share=0", "derivation=0", "secession_cost=0.2"]
NO_SURPLUS = ["objective=nash", "secession_cost=0.2"]
CANNOT_HOLD = ["per_capita_floor=1", "derivation=0.9"]


class Counter:
    """Counts calls to a function or method, and the time spent in them, while installed."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.calls, self.seconds = owner, name, 0, 0.0
        self.original = getattr(owner, name)

    def __enter__(self) -> Counter:
        original = self.original

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(self.owner, self.name, counted)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.name, self.original)


def run(call: Callable[[], Any], in_place: bool) -> tuple[Any, int, float]:
    """``call()``'s result (or the error it raised), the LP solves of the part measured (the
    cut loop and its error path, or the elastic LP) and the seconds spent in that part."""
    from revshare.analyses import explain
    from revshare.solve import lp, nash

    lp.IN_PLACE = in_place
    solves = [
        Counter(lp.InPlaceLp, "optimum"),
        Counter(lp.PulpLp, "optimum"),
        Counter(explain._Elastic, "solve"),
    ]
    # the HiGHS executor imports solve_nash when it first needs it, from the module
    parts = [Counter(nash, "solve_nash"), Counter(explain, "_Elastic")]
    for c in [*solves, *parts]:
        c.__enter__()
    try:
        try:
            out = call()
        except Exception as exc:  # the explanation is the answer of the infeasible cases
            out = exc
    finally:
        for c in [*solves, *parts]:
            c.__exit__()
        lp.IN_PLACE = True
    part = sum(c.seconds for c in parts) + solves[2].seconds  # the elastic LP: built, solved
    return out, sum(c.calls for c in solves), part


def money(a: Any) -> list[float]:
    if isinstance(a, Exception):
        raise a
    return [*a.blocs.sort_values("bloc")["usd"].tolist(), a.centre_usd]


def agree(old: Any, new: Any, revenue: float) -> str:
    """'' if the two answers agree, else what differs."""
    if isinstance(old, Exception) or isinstance(new, Exception):
        if type(old) is not type(new):
            return f"{type(old).__name__} vs {type(new).__name__}"
        e_old, e_new = getattr(old, "explanation", None), getattr(new, "explanation", None)
        if e_old is None or e_new is None:
            return "" if str(old) == str(new) else "different error text"
        if e_old.conflict_labels != e_new.conflict_labels:
            return "different conflicts"
        if old.overrides != new.overrides or e_old.unique != e_new.unique:
            return f"different concession: {old.overrides} vs {new.overrides}"
        if abs(e_old.cost_usd - e_new.cost_usd) > 1e-9 * revenue:
            return f"cost {e_old.cost_usd} vs {e_new.cost_usd}"
        return ""
    from revshare.solve.nash import GAP

    if abs(old.objective_value - new.objective_value) > GAP * abs(old.objective_value):
        return f"objective {old.objective_value!r} vs {new.objective_value!r}"
    worst = max(abs(x - y) for x, y in zip(money(old), money(new), strict=True)) / revenue
    if worst <= 1e-9:
        return ""
    # the last cut LP's optimum can be a face along which money moves at the same objective;
    # the loop fixes money only to about sqrt(GAP) of each surplus (tests/test_nash.py)
    verdict = "FAILS" if worst > 10 * GAP**0.5 else "within the nash gap's own bound"
    return f"bloc money differs by {worst:.2g} of revenue: {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--regions", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import revshare
    from revshare.data.synthetic import synthetic_territory

    territories = {
        "iraq": revshare.load_dataset(ROOT / "data" / "iraq"),
        "nigeria": revshare.load_dataset(ROOT / "data" / "nigeria"),
        f"generated-{args.regions}": synthetic_territory(regions=args.regions, factions=5, seed=1),
    }
    cases = {"optimize nash": NASH, "nash, no surplus": NO_SURPLUS, "explain": CANNOT_HOLD}
    print(
        f"best of {args.repeat}; PuLP: through PuLP, a fresh HiGHS model each LP (the baseline); "
        "part: the nash loop (and its error path) or the elastic LP; LPs: its solves"
    )
    head = ("dataset", "case", "LPs", "part PuLP", "in place", "ratio", "all PuLP", "in place")
    print("{:<14} {:<17} {:>5} {:>9} {:>8} {:>6} {:>8} {:>8} {:>6}  check".format(*head, "ratio"))
    failed = False
    for name, t in territories.items():
        revenue = revshare.optimize(t, "federation").revenue_usd
        for case, overrides in cases.items():

            def call(t: revshare.Territory = t, overrides: list[str] = overrides) -> Any:
                return revshare.optimize(t, "federation", overrides=overrides)

            best = {True: float("inf"), False: float("inf")}
            part = dict(best)
            answers: dict[bool, tuple[Any, int, float]] = {}
            for _ in range(args.repeat):
                for in_place in (False, True):  # alternately: the machine's load hits both
                    started = time.perf_counter()
                    answers[in_place] = run(call, in_place)
                    best[in_place] = min(best[in_place], time.perf_counter() - started)
                    part[in_place] = min(part[in_place], answers[in_place][2])
            (old, old_lps, _), (new, new_lps, _) = answers[False], answers[True]
            problem = agree(old, new, revenue)
            failed |= bool(problem) and "own bound" not in problem
            lps = str(new_lps) if new_lps == old_lps else f"{old_lps}/{new_lps}"
            print(
                f"{name:<14} {case:<17} {lps:>5} {part[False]:>9.3f} {part[True]:>8.3f} "
                f"{part[False] / part[True]:>6.2f} {best[False]:>8.3f} {best[True]:>8.3f} "
                f"{best[False] / best[True]:>6.2f}  {problem or 'same answer'}",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
