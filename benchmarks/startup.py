"""Benchmark: start-up of `revshare optimize data/iraq` against `python -c "import pandas, pulp"`.

The commands run in rounds, each round running every command once (the baseline first), after
a warm-up run of each that leaves its bytecode cached: a drift in the machine's speed (two cores
shared with other work) touches every command of a round alike. Each run's CPU time (user +
system, from the operating system's accounting of the finished process) and wall time are
taken; the ratio to the baseline is formed round by round and its minimum and median printed,
with the baseline's own times from the same run. Target: the median within 1.3x (issue 12).

``--against REF`` also runs the command as the git revision REF has it (its tree exported to a
temporary folder) in the same rounds: before and after from one run (also as their own ratio,
round by round, which a busy machine blurs less than two ratios to the baseline), and the
modules REF loads that this checkout no longer does. ``--instructions`` adds each command's count of executed
instructions (valgrind's callgrind, one run each, about a minute), in its main thread and in
all: unlike time, it does not move with the machine's load (the main thread's count repeats). Last, the packages the command loads beyond the baseline's, with
how many of their modules, largest first: where the rest of the start-up goes.

    python benchmarks/startup.py [--pairs 31] [--dataset data/iraq] [--against HEAD~1]
                                 [--instructions]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import pandas, pulp"
COMMAND = "import cli; cli.main()"
TARGET = 1.3


def environment(tree: Path) -> dict[str, str]:
    """The environment of a run from ``tree``: its modules first, bytecode written and read."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def timed(cmd: list[str], tree: Path) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of ``cmd`` in ``tree``."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=environment(tree), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {code} in {tree}")
    return usage.ru_utime + usage.ru_stime, wall


def loaded(code: str, args: list[str], tree: Path) -> set[str]:
    """The modules loaded at the end of ``python -c code args...`` run in ``tree``."""
    probe = (
        f"import sys\nsys.argv = ['-c', *{args!r}]\n"
        f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tree,
        env=environment(tree),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return set(run.stderr.split())


def instructions(cmd: list[str], tree: Path) -> tuple[int, int] | None:
    """Instructions one run of ``cmd`` executes in its main thread and in all its threads
    (valgrind's callgrind, a count per thread), or None without valgrind. The main thread's
    count repeats to a few thousand; the solver's worker threads wait by spinning, which adds
    10-20 million that move from run to run."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--separate-threads=yes",
                f"--callgrind-out-file={out}/cg.out",
                *cmd,
            ],
            cwd=tree,
            env={**environment(tree), "PYTHONHASHSEED": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        counts = {}
        for path in Path(out).glob("cg.out-*"):
            totals = [ln for ln in path.read_text().splitlines() if ln.startswith("totals:")]
            counts[path.name] = int(totals[0].split()[1]) if totals else 0
    if not counts:
        return None
    return counts[min(counts)], sum(counts.values())  # cg.out-01 is the main thread


def export(ref: str, into: Path) -> Path:
    """The tree of the git revision ``ref`` of this checkout, written under ``into``."""
    tree = into / "ref"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def report(name: str, runs: list[tuple[float, float]], base: list[tuple[float, float]]) -> None:
    """The median times of ``runs`` and their ratios to the baseline's runs of the same rounds."""
    for i, what in enumerate(("cpu", "wall")):
        ratio = [r[i] / b[i] for r, b in zip(runs, base, strict=True)]
        median = statistics.median(ratio)
        verdict = "within" if median <= TARGET else "over"
        print(
            f"  {name:<8} {what:<4} median {statistics.median(r[i] for r in runs):.3f} s; "
            f"ratio min {min(ratio):.2f}x, median {median:.2f}x ({verdict} {TARGET}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", "--runs", type=int, default=31, help="rounds (default 31)")
    parser.add_argument("--dataset", default="data/iraq")
    parser.add_argument("--against", metavar="REF", help="also the git revision REF, e.g. HEAD~3")
    parser.add_argument("--instructions", action="store_true", help="count with valgrind too")
    args = parser.parse_args()
    argv = ["optimize", args.dataset]
    base = [sys.executable, "-c", BASELINE]
    command = [sys.executable, "-c", COMMAND, *argv]
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this": ROOT}
        if args.against:
            trees[args.against] = export(args.against, Path(scratch))
        for tree in trees.values():
            timed(command, tree)  # warm-up: bytecode written, files in the page cache
        timed(base, ROOT)
        runs: dict[str, list[tuple[float, float]]] = {"baseline": [], **{k: [] for k in trees}}
        for _ in range(args.pairs):
            runs["baseline"].append(timed(base, ROOT))
            for name, tree in trees.items():
                runs[name].append(timed(command, tree))
        print(
            f'`revshare {" ".join(argv)}` against `python -c "{BASELINE}"`, '
            f"{args.pairs} rounds, this run:"
        )
        for i, what in enumerate(("cpu", "wall")):
            times = [r[i] for r in runs["baseline"]]
            print(
                f"  baseline {what:<4} median {statistics.median(times):.3f} s, "
                f"min {min(times):.3f} s"
            )
        for name in trees:
            report(name, runs[name], runs["baseline"])
        if args.against:  # this checkout against REF directly, round by round: the finer test
            for i, what in enumerate(("cpu", "wall")):
                ratio = [a[i] / b[i] for a, b in zip(runs["this"], runs[args.against], strict=True)]
                print(
                    f"  this/{args.against} {what:<4} ratio min {min(ratio):.3f}x, "
                    f"median {statistics.median(ratio):.3f}x"
                )
        if args.instructions:
            counts = {"baseline": instructions(base, ROOT)}
            counts.update({k: instructions(command, t) for k, t in trees.items()})
            first = counts["baseline"]
            if first:
                print("instructions (one run each, valgrind): main thread; all threads")
                for name, count in counts.items():
                    main, every = count or (0, 0)
                    print(
                        f"  {name:<8} {main:>14,} ({main / first[0]:.3f}x); "
                        f"{every:>14,} ({every / first[1]:.3f}x)"
                    )
        floor = loaded(BASELINE, [], ROOT)
        mods = {k: loaded(COMMAND, argv, t) for k, t in trees.items()}
    extra = mods["this"] - floor
    packages = collections.Counter(m.split(".")[0] for m in extra)
    print(
        f"beyond the baseline: {len(extra)} modules; "
        + ", ".join(f"{p} {n}" for p, n in packages.most_common(12))
    )
    if args.against:
        gone = sorted(mods[args.against] - mods["this"])
        new = sorted(mods["this"] - mods[args.against])
        print(f"no longer loaded ({len(gone)}): {' '.join(gone) or '-'}")
        print(f"newly loaded ({len(new)}): {' '.join(new) or '-'}")


if __name__ == "__main__":
    main()
