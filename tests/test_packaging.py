"""Issue 15, item 7: what an install provides.

An install adds two top-level packages, ``revshare`` (the library) and ``revshare_cli`` (its
command line), and nothing else: ``cli.py`` at the top of a checkout is not installed, so
``import cli`` cannot clash with another package's module. The console script and
``python -m revshare`` run the same command group, and ``revshare/py.typed`` ships, so that mypy
finds the library's types (PEP 561) in a regular install and in an editable install made with
``--config-settings editable_mode=strict`` (setuptools' default editable mode loads the package
through an import hook that type checkers do not run).

The fast tests read the packaging metadata setuptools writes (``egg_info``: the top-level names,
the entry points, the file list); the slow one installs into a fresh virtual environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRICT = ("--config-settings", "editable_mode=strict")  # an editable install type checkers see
PROJECT = ("revshare", "revshare_cli", "pyproject.toml", "README.md", "cli.py")


def _copy_project(target: Path) -> Path:
    """The files an install reads (and ``cli.py``, to show it is left out), without build debris."""
    target.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``.egg-info`` folder setuptools writes for this project."""
    project = _copy_project(tmp_path_factory.mktemp("pkg") / "project")
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info"],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (info,) = project.glob("*.egg-info")
    return info


def test_only_the_library_and_its_command_line_are_top_level(metadata: Path) -> None:
    assert (metadata / "top_level.txt").read_text().split() == ["revshare", "revshare_cli"]
    sources = (metadata / "SOURCES.txt").read_text().split()
    shipped = {s.split("/")[0] for s in sources if s.endswith(".py")}
    assert shipped == {"revshare", "revshare_cli"}


def test_the_console_script_is_the_command_group(metadata: Path) -> None:
    entry = (metadata / "entry_points.txt").read_text()
    assert "[console_scripts]\nrevshare = revshare_cli:main" in entry


def test_the_types_marker_and_the_templates_ship(metadata: Path) -> None:
    sources = set((metadata / "SOURCES.txt").read_text().split())
    assert "revshare/py.typed" in sources
    assert "revshare/__main__.py" in sources
    assert any(s.startswith("revshare/reports/templates/") for s in sources)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "revshare"],
        [sys.executable, str(ROOT / "cli.py")],
    ],
    ids=["python -m revshare", "python cli.py"],
)
def test_every_entry_runs_the_same_command_group(command: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("revshare, version")
    listing = subprocess.run([*command, "structures"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0 and listing.stdout.startswith("unified ")


@pytest.mark.slow
def test_a_fresh_editable_install(tmp_path: Path) -> None:
    """``pip install -e . --config-settings editable_mode=strict`` in a new virtual environment:
    the script, ``python -m revshare``, no ``cli`` module, and mypy sees the types (3-5 minutes:
    pip fetches the dependencies)."""
    project = _copy_project(tmp_path / "project")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    python = str(bin_dir / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "-e", str(project), "mypy", *STRICT],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    user = tmp_path / "user"
    user.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=user, env=env, capture_output=True, text=True, timeout=300)

    assert run(str(bin_dir / "revshare"), "--version").stdout.startswith("revshare, version")
    assert run(python, "-m", "revshare", "--version").stdout.startswith("revshare, version")
    assert "No module named 'cli'" in run(python, "-c", "import cli").stderr
    # the editable tree holds the two packages and nothing else
    (pth,) = (env_dir / "lib").glob("python3*/site-packages/__editable__.revshare-*.pth")
    tree = Path(pth.read_text().strip())
    assert sorted(p.name for p in tree.iterdir()) == ["revshare", "revshare_cli"]
    # mypy finds the library's types: a wrong use is an error naming them, a right one is clean
    (user / "wrong.py").write_text("import revshare\n\nn: int = revshare.load_dataset('x')\n")
    (user / "right.py").write_text(
        "import revshare\n\nt: revshare.Territory = revshare.load_dataset('x')\n"
    )
    wrong = run(python, "-m", "mypy", "--no-incremental", "wrong.py")
    assert 'expression has type "Territory"' in wrong.stdout, wrong.stdout
    right = run(python, "-m", "mypy", "--no-incremental", "right.py")
    assert right.returncode == 0, right.stdout
