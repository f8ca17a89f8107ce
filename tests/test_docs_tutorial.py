"""The tutorial (docs/tutorial.md), followed literally, ends with the files and figures it shows.

One test runs the page's steps in order in an empty folder with this interpreter; the other
creates a fresh virtual environment, installs the checkout into it, and runs every command as a
subprocess of that environment's ``revshare``, as a reader would (about 20 s; in CI too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
SHIPPED = ROOT / "docs" / "tutorial" / "meridia"

sys.path.insert(0, str(ROOT / "tools"))  # the mechanism is a tool of the checkout, not installed
import docs_examples  # noqa: E402


def _check_end_state(page, folder: Path, compared) -> None:
    assert not docs_examples.differences(compared), "\n\n".join(docs_examples.differences(compared))
    # the dataset the reader typed is the one that ships, file for file
    made = sorted(p.name for p in (folder / "meridia").iterdir())
    assert made == sorted(p.name for p in SHIPPED.iterdir())
    for name in made:
        assert (folder / "meridia" / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    # every report folder the page lists exists with exactly the files it shows
    for report in ("compare", "sweep"):
        assert (folder / "reports" / report / "manifest.json").is_file()
    commands = [c for b in page.blocks for c, _ in docs_examples.commands(b)]
    assert commands[0] == "revshare validate meridia"
    assert any(c.startswith("revshare sweep meridia") for c in commands)


def test_tutorial_followed_literally_ends_as_the_page_shows(tmp_path):
    page = docs_examples.parse_page(TUTORIAL)
    assert page.workdir == "empty"  # the reader starts from an empty folder
    compared = docs_examples.run_page(page, tmp_path)
    _check_end_state(page, tmp_path, compared)


def test_tutorial_dataset_is_marked_fictional():
    assert "fictional" in (SHIPPED / "SOURCES.md").read_text(encoding="utf-8").lower()
    assert "fictional" in TUTORIAL.read_text(encoding="utf-8").lower()


def test_tutorial_in_a_fresh_virtual_environment(tmp_path):
    env_dir = tmp_path / "venv"
    # revshare is installed from the checkout into the fresh environment (pip builds it in
    # isolation, as a reader's pip would); its dependencies are those this test runs with (a
    # .pth file names their folders, whether they are a virtual environment's or the system's),
    # so that only the build backend is fetched
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parents = [p for p in sys.path if p.endswith("-packages") and Path(p).is_dir()]
    (Path(purelib) / "parent-packages.pth").write_text("\n".join(parents) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(ROOT)],
        check=True,
    )
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    work = tmp_path / "work"
    work.mkdir()

    def runner(command: str, cwd: Path):
        return docs_examples.run_in_shell(command, cwd, env=env)

    located = subprocess.run(
        ["bash", "-c", "command -v revshare"], env=env, capture_output=True, text=True, check=True
    )
    assert located.stdout.strip() == str(env_dir / "bin" / "revshare")
    page = docs_examples.parse_page(TUTORIAL)
    compared = docs_examples.run_page(page, work, runner=runner)
    _check_end_state(page, work, compared)
