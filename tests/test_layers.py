"""The layers point down only (docs/design.md#layers) and start-up loads only what is used.

The import contract in pyproject.toml (``[tool.importlinter]``) is checked here as in CI, and
checked to fail: on a copy of the package with an import that runs back up a layer, one that
closes a cycle inside a layer, a module given no layer, and a module that imports the package
face.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package in ``root`` with the contract of this checkout."""
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contract_holds() -> None:
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # data reaching up to the reports
        ("data/synthetic.py", "from ..reports import safe", "revshare.data is not allowed to import"),
        # the sweep's chunk streaming reaching up to the reports, as it did through reports/safe
        ("analyses/chunks.py", "from ..reports import safe", "revshare.analyses is not allowed"),
        # the model reaching up to the solver
        ("model/lp.py", "from ..solve import plan", "revshare.model is not allowed to import"),
        # a helper of the analyses reaching up to the analyses over many solves
        ("analyses/pool.py", "from . import sweep", "revshare.analyses.pool is not allowed"),
        # a cycle inside the analyses layer: sweep imports compare, compare imports sweep
        ("analyses/compare.py", "from . import sweep", "No cycles among the modules of a layer BROKEN"),
        # a module, and a folder, the contract does not place
        ("unplaced.py", "", "revshare.unplaced"),
        ("solve/unplaced.py", "", "revshare.solve.unplaced"),
        # a module reading the version from the package face, which imports every layer
        ("analyses/chunks.py", "from .. import __version__", "revshare.analyses.chunks is not allowed"),
    ],
)
def test_the_import_contract_fails_on_a_breach(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copytree(ROOT / "revshare", tmp_path / "revshare", ignore=shutil.ignore_patterns("*.pyc"))
    target = tmp_path / "revshare" / module
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(old + f"\n{line}\n", encoding="utf-8")
    run = _lint(tmp_path)
    assert run.returncode != 0
    assert broken in run.stdout + run.stderr


def _loaded_after(code: str) -> set[str]:
    """The top-level names of the modules loaded by a fresh interpreter running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(run.stdout.split())


HEAVY = {"pandas", "numpy", "pulp", "highspy", "matplotlib", "jinja2", "tqdm", "distributed"}


def test_import_revshare_and_the_cli_load_no_heavy_module() -> None:
    assert not _loaded_after("import revshare") & HEAVY
    assert not _loaded_after("import cli") & HEAVY


def test_the_public_names_are_the_functions_even_after_their_modules_load() -> None:
    import revshare
    import revshare.analyses.compare
    import revshare.analyses.optimize
    import revshare.analyses.sweep
    import revshare.analyses.validate
    import revshare.reports.sweep

    for name in ("optimize", "compare", "validate"):
        assert callable(getattr(revshare, name)), name
        assert getattr(revshare, name).__module__ == f"revshare.analyses.{name}"
    assert revshare.sweep.__module__ == "revshare.reports.sweep"  # the sweep with its reports
    assert set(revshare.__all__) <= set(dir(revshare))
    for name in revshare.__all__:
        assert getattr(revshare, name) is not None, name
