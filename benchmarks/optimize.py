"""Benchmark: `revshare optimize data/iraq` and `revshare compare data/iraq` against
`python -c "import pandas, pulp"`.

Both are measured in the same run, as separate processes, so the ratio is independent of the
machine's speed. Also prints the model-build, solve and verify times from the provenance block.

    python benchmarks/optimize.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--structure", default="iraq-2005")
    args = parser.parse_args()
    baseline = wall([sys.executable, "-c", "import pandas, pulp"], args.repeat)
    cli = [
        sys.executable,
        str(ROOT / "cli.py"),
        "optimize",
        "data/iraq",
        "--structure",
        args.structure,
    ]
    full = wall(cli, args.repeat)
    out = subprocess.run(
        [*cli, "--format", "json"], check=True, cwd=ROOT, capture_output=True, text=True
    )
    seconds = json.loads(out.stdout)["provenance"]["seconds"]
    print(f"import pandas, pulp          {baseline * 1000:8.1f} ms (baseline)")
    print(
        f"revshare optimize data/iraq  {full * 1000:8.1f} ms  ratio {full / baseline:5.2f}x baseline"
    )
    for stage in ("build", "solve", "verify", "total"):
        print(f"  {stage:<8} {seconds[stage] * 1000:8.1f} ms (in process)")
    compare = wall([sys.executable, str(ROOT / "cli.py"), "compare", "data/iraq"], args.repeat)
    print(
        f"revshare compare data/iraq (all structures) {compare * 1000:8.1f} ms  "
        f"ratio {compare / baseline:5.2f}x baseline (issue 3: under 5 s)"
    )


if __name__ == "__main__":
    main()
