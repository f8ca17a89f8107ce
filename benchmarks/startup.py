"""Benchmark: start-up of `revshare optimize data/iraq` against `python -c "import pandas, pulp"`.

The two commands run alternately (A B A B ...) after a warm-up run of each that leaves their
bytecode cached, so that a drift in the machine's speed touches both alike. Each run's CPU time
(user + system, from the operating system's accounting of the finished process) and wall time
are taken; the ratio A/B is formed pair by pair and its minimum and median printed. Target: the
median within 1.3x (issue 12). Then the packages the command loads beyond the baseline's, with
how many of their modules, largest first: where the rest of the start-up goes.

    python benchmarks/startup.py [--runs 15] [--dataset data/iraq]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = [sys.executable, "-c", "import pandas, pulp"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of ``cmd``."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def loaded(cmd: list[str], env: dict[str, str]) -> set[str]:
    """The modules loaded at the end of ``cmd`` (a ``python -c`` command line)."""
    code, args = cmd[2], cmd[3:]
    probe = (
        f"import sys\nsys.argv = ['-c', *{args!r}]\n"
        f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return set(run.stderr.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dataset", default="data/iraq")
    args = parser.parse_args()
    command = [sys.executable, "-c", "import cli; cli.main()", "optimize", args.dataset]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    timed(command, env)  # warm-up: bytecode written, files in the page cache
    timed(BASELINE, env)
    pairs = [(timed(command, env), timed(BASELINE, env)) for _ in range(args.runs)]
    for i, what in enumerate(("cpu", "wall")):
        a = [p[0][i] for p in pairs]
        b = [p[1][i] for p in pairs]
        ratio = [x / y for x, y in zip(a, b, strict=True)]
        print(
            f"{what}: optimize median {statistics.median(a):.3f} s, baseline median "
            f"{statistics.median(b):.3f} s; ratio min {min(ratio):.2f}x, "
            f"median {statistics.median(ratio):.2f}x"
        )
    extra = loaded(command, env) - loaded(BASELINE, env)
    packages = collections.Counter(m.split(".")[0] for m in extra)
    print(
        f"beyond the baseline: {len(extra)} modules; "
        + ", ".join(f"{p} {n}" for p, n in packages.most_common(12))
    )


if __name__ == "__main__":
    main()
