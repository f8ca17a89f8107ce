"""Issue 11, class 23: one rule for structures that cannot apply, in ``compare`` and ``sweep``.

When several structures run, one that cannot apply to the dataset (a preset needing
``area_km2``; a dataset structure naming a bloc that does not exist; ``sudan-cpa-2005`` on Iraq) is
a row with its reason and the others are solved; named alone it is exit 2. A structure without a
proven, verified optimum makes both commands exit 4 and write no report.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import revshare
from revshare.errors import NotOptimalError

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def misfit_dataset(tmp_path: Path) -> Path:
    """Iraq without area and need columns, with a dataset structure naming a missing bloc."""
    folder = tmp_path / "iraq-lean"
    shutil.copytree(ROOT / "data" / "iraq", folder)
    lines = (folder / "regions.csv").read_text(encoding="utf-8").splitlines()
    (folder / "regions.csv").write_text(
        "\n".join(",".join(line.split(",")[:2]) for line in lines) + "\n", encoding="utf-8"
    )
    (folder / "structures.toml").write_text(
        'default_price = 80\n[structures.ghost]\nextends = "federation"\n'
        "bloc_share = { Atlantis = 0.1 }\n",
        encoding="utf-8",
    )
    return folder


MISFITS = {"nigeria-derivation": "area_km2", "sudan-cpa-2005": "'south'", "ghost": "'Atlantis'"}


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_structures_that_cannot_apply_are_rows_with_their_reason(misfit_dataset, command):
    args = [command, str(misfit_dataset), "--structures", "all"]
    args += ["--prices", "70,90"] if command == "sweep" else []
    code, out, err = run(*args)
    assert code == 0, err
    for name in MISFITS:
        assert any(name in line and "not applicable" in line for line in out.splitlines()), name


def test_the_library_gives_each_misfit_its_reason(misfit_dataset):
    c = revshare.compare(revshare.load_dataset(misfit_dataset), "all")
    assert set(c.not_applicable) == set(MISFITS)
    for name, word in MISFITS.items():
        assert word in c.not_applicable[name]
    assert "federation" in c.feasible


@pytest.mark.parametrize("name", sorted(MISFITS))
@pytest.mark.parametrize("command", ["compare", "sweep", "optimize"])
def test_a_structure_that_cannot_apply_named_alone_is_exit_2(misfit_dataset, command, name):
    flag = "--structure" if command == "optimize" else "--structures"
    args = [command, str(misfit_dataset), flag, name]
    args += ["--prices", "80"] if command == "sweep" else []
    code, _, err = run(*args)
    assert code == 2, err
    assert "revshare: error:" in err


def test_compare_with_an_unproven_structure_exits_4_and_writes_no_report(monkeypatch, tmp_path):
    compare_module = importlib.import_module("revshare.analyses.compare")
    real = compare_module.optimize

    def flaky(territory, structure, **kwargs):
        if structure.name == "partition":
            raise NotOptimalError("the solver stopped at a limit")
        return real(territory, structure, **kwargs)

    monkeypatch.setattr(compare_module, "optimize", flaky)
    out = tmp_path / "report"
    code, stdout, err = run(
        "compare",
        str(ROOT / "data" / "iraq"),
        "--structures",
        "federation,partition",
        "--out",
        str(out),
    )
    assert code == 4, err
    assert "partition" in err and "no report written" in err
    assert "not optimal" in stdout  # the table still says which one and why
    assert not out.exists()
