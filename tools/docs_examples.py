"""Run the examples of README.md and docs/**/*.md and compare what they print with the page.

One mechanism for every page (tests/test_docs_examples.py runs it; ``python tools/docs_examples.py
--update`` rewrites the printed outputs from live runs, ``--check`` reports differences). What a
page may hold:

- a fenced ``console`` block: lines ``$ COMMAND`` each followed by what it prints (stdout and stderr
  as a terminal shows them). A line that is only ``...`` stands for any number of lines. Commands
  starting ``revshare`` run in this process through Click's test runner; others run in a shell.
- a fenced ``sh`` block: its ``revshare`` lines run and must succeed; what they print is not shown.
- a fenced ``python`` block: run, in one namespace per page, in order. A fenced ``text`` block just
  after it, marked ``<!-- output -->``, is what it prints.
- a fenced block marked ``<!-- file: PATH -->``: written to PATH in the page's working directory
  before the next block runs (the tutorial's hand-made dataset).

Options, in an HTML comment just before a block (invisible on the site):
``<!-- example: exit=3 -->`` (the expected exit status of its commands, default 0), ``slow``
(run only by the slow tests), ``skip=REASON`` (never run, e.g. ``skip=needs-a-dask-cluster``,
``skip=interactive`` for a shell's completion).

Working directory: every page runs in a fresh temporary directory. By default it holds links to
the checkout's ``data/`` and ``docs/``, so that ``revshare optimize data/iraq --out reports/x``
runs as written from the top of a checkout and writes into the temporary directory; a page whose
first lines carry ``<!-- examples: workdir=empty -->`` starts from an empty folder (the tutorial).

Comparison: exact, after removing trailing spaces and trailing blank lines; timings (a number
followed by ``s``, ``ms`` or ``/s``) match within a factor of ``TIMING_FACTOR`` (tools/docs_outputs.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from docs_outputs import Mismatch, matches, rewrite

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\s*$")
OPTIONS = re.compile(r"^<!--\s*(example|file|output)\s*:?\s*(.*?)\s*-->\s*$")
PAGE_OPTIONS = re.compile(r"^<!--\s*examples:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced block of a page and the options written before it."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    body: list[str]
    options: dict[str, str] = field(default_factory=dict)
    output_of: Block | None = None  # for a ``text`` block marked ``<!-- output -->``
    output: Block | None = None  # the output block of a ``python`` block

    @property
    def runnable(self) -> bool:
        """Whether the mechanism runs this block (a command, code or a file to write)."""
        if "skip" in self.options:
            return False
        return "file" in self.options or self.lang in ("console", "sh", "python")

    @property
    def slow(self) -> bool:
        """Whether the block is run only by the slow tests."""
        return "slow" in self.options

    @property
    def name(self) -> str:
        """A test id: the page and the line of the block."""
        return f"{_shown_path(self.page)}:{self.line}"


@dataclass
class Page:
    """A Markdown page's blocks, in order, and where they run."""

    path: Path
    blocks: list[Block]
    workdir: str  # "sandbox" (links to data/ and docs/) or "empty"

    @property
    def name(self) -> str:
        """The page's path from the top of the checkout."""
        return _shown_path(self.path)


def _shown_path(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _parse_options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for word in text.split():
        key, _, value = word.partition("=")
        options[key] = value
    return options


def parse_page(path: Path) -> Page:
    """Return the fenced blocks of a Markdown page with their options."""
    lines = path.read_text(encoding="utf-8").splitlines()
    workdir = "sandbox"
    for line in lines[:5]:
        found = PAGE_OPTIONS.match(line)
        if found:
            workdir = _parse_options(found.group(1)).get("workdir", "sandbox")
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        option = OPTIONS.match(line)
        fence = FENCE.match(line)
        if option:
            kind, rest = option.groups()
            if kind == "example":
                pending.update(_parse_options(rest))
            else:
                pending[kind] = rest
        elif fence:
            end = index + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            block = Block(path, index + 1, fence.group(1), lines[index + 1 : end], pending)
            if "output" in pending and blocks and blocks[-1].lang == "python":
                block.output_of, blocks[-1].output = blocks[-1], block
            blocks.append(block)
            pending = {}
            index = end
        elif line.strip():
            pending = {}
        index += 1
    return Page(path, blocks, workdir)


def pages() -> list[Page]:
    """Every page with examples: README.md and docs/**/*.md."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [parse_page(path) for path in paths]


# ---- running --------------------------------------------------------------------------------


@dataclass
class Run:
    """What one command printed, and its exit status."""

    command: str
    output: str
    status: int


Runner = Callable[[str, Path], Run]


def run_in_process(command: str, cwd: Path) -> Run:
    """Run a command line as a user would type it; ``revshare`` runs in this process."""
    args = shlex.split(command)
    if args and args[0] == "revshare":
        from click.testing import CliRunner

        from revshare_cli import main

        with _chdir(cwd):
            result = CliRunner().invoke(main, args[1:], prog_name="revshare")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(command, result.output, result.exit_code)
    return run_in_shell(command, cwd)


def run_in_shell(command: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run a command line in a POSIX shell, stdout and stderr together as a terminal shows them."""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return Run(command, done.stdout, done.returncode)


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def prepare(page: Page, workdir: Path) -> None:
    """Fill a fresh working directory as the page expects."""
    if page.workdir == "sandbox":
        for name in ("data", "docs"):
            (workdir / name).symlink_to(ROOT / name, target_is_directory=True)


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """The commands of a console or sh block, each with the lines the page shows it print."""
    if block.lang == "sh":
        return [(line.strip(), []) for line in block.body if line.strip().startswith("revshare ")]
    found: list[tuple[str, list[str]]] = []
    for line in block.body:
        if line.startswith("$ "):
            found.append((line[2:].strip(), []))
        elif found:
            found[-1][1].append(line)
    return found


@dataclass
class Output:
    """What a page shows a block (or its ``index``-th command) print, and what it printed."""

    block: Block
    index: int
    shown: list[str]
    printed: list[str]


def run_block(
    block: Block,
    workdir: Path,
    namespace: dict[str, object],
    runner: Runner = run_in_process,
) -> list[Output]:
    """Run one block; return every output to compare.

    Raises
    ------
    Mismatch
        When a command exits with another status than the page says.
    """
    if "file" in block.options:
        target = workdir / block.options["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(block.body) + "\n", encoding="utf-8")
        return []
    if block.lang == "python":
        return _run_python(block, workdir, namespace)
    expected_status = int(block.options.get("exit", "0"))
    compared: list[Output] = []
    for index, (command, shown) in enumerate(commands(block)):
        run = runner(command, workdir)
        if run.status != expected_status:
            raise Mismatch(
                f"{block.name}: `{command}` exited {run.status}, the page says {expected_status}"
                f"\n{run.output}"
            )
        if block.lang == "console":
            compared.append(Output(block, index, shown, run.output.splitlines()))
    return compared


def _run_python(block: Block, workdir: Path, namespace: dict[str, object]) -> list[Output]:
    printed = io.StringIO()
    code = compile("\n".join(block.body) + "\n", block.name, "exec")
    with _chdir(workdir), contextlib.redirect_stdout(printed):
        exec(code, namespace)
    if block.output is None:
        return []
    return [Output(block.output, 0, block.output.body, printed.getvalue().splitlines())]


# ---- the whole page -------------------------------------------------------------------------


def run_page(
    page: Page,
    workdir: Path,
    include_slow: bool = False,
    runner: Runner = run_in_process,
) -> list[Output]:
    """Run a page's blocks in order in ``workdir``; return every output to compare."""
    prepare(page, workdir)
    namespace: dict[str, object] = {"__name__": "__main__"}  # as a script run by itself
    compared: list[Output] = []
    for block in page.blocks:
        if block.runnable and (include_slow or not block.slow):
            compared.extend(run_block(block, workdir, namespace, runner))
    return compared


def differences(compared: list[Output]) -> list[str]:
    """A readable report of every output that differs from its page."""
    return [
        f"{out.block.name}: the page shows\n"
        + "\n".join(out.shown)
        + "\nbut the example printed\n"
        + "\n".join(out.printed)
        for out in compared
        if not matches(out.shown, out.printed)
    ]


def update_page(page: Page, compared: list[Output]) -> bool:
    """Rewrite the page's shown outputs from live runs; return whether anything changed."""
    lines = page.path.read_text(encoding="utf-8").splitlines()
    stale = [out for out in compared if not matches(out.shown, out.printed)]
    blocks = {out.block.line: out.block for out in stale}
    for line in sorted(blocks, reverse=True):  # from the end, so that earlier lines stay put
        block = blocks[line]
        fresh = {o.index: rewrite(o.shown, o.printed) for o in stale if o.block is block}
        body = fresh.get(0, [])
        if block.lang == "console":
            body = []
            for index, (command, shown) in enumerate(commands(block)):
                body += [f"$ {command}", *fresh.get(index, shown)]
        lines[line : line + len(block.body)] = body
    if blocks:
        page.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bool(blocks)


def main(argv: list[str] | None = None) -> int:
    """``python tools/docs_examples.py [--update] [--slow] [PAGE ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="pages to run (default: all)")
    parser.add_argument("--update", action="store_true", help="rewrite outputs from live runs")
    parser.add_argument("--slow", action="store_true", help="run the slow examples too")
    args = parser.parse_args(argv)
    chosen = [
        page
        for page in pages()
        if not args.pages or page.name in args.pages or str(page.path) in args.pages
    ]
    failed = 0
    for page in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            compared = run_page(page, Path(tmp), include_slow=args.slow)
        if args.update:
            if update_page(page, compared):
                print(f"updated {page.name}")
        else:
            for report in differences(compared):
                failed += 1
                print(report, end="\n\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
