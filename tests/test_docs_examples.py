"""Every command and code example of README.md and docs/ runs, and prints what its page shows.

The mechanism is tools/docs_examples.py (its docstring says how a page marks its examples);
``python tools/docs_examples.py --update`` rewrites the shown outputs from live runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # the mechanism is a tool of the checkout, not installed
import docs_examples  # noqa: E402
import docs_outputs  # noqa: E402

# The tutorial runs in tests/test_docs_tutorial.py, which also checks the files it ends with.
TUTORIAL = "docs/tutorial.md"
ALL_PAGES = [page for page in docs_examples.pages() if any(b.runnable for b in page.blocks)]
PAGES = [page for page in ALL_PAGES if page.name != TUTORIAL]
SLOW_PAGES = [page for page in PAGES if any(b.runnable and b.slow for b in page.blocks)]


def test_the_examples_cover_the_readme_and_the_tutorial():
    names = {page.name for page in ALL_PAGES}
    assert {"README.md", TUTORIAL} <= names
    console = [b for page in ALL_PAGES for b in page.blocks if b.lang == "console" and b.runnable]
    assert len(console) >= 10


def test_every_shown_command_is_an_example_that_runs():
    # a command shown with a prompt in a block of another kind would never be run
    hidden = [
        b.name
        for page in docs_examples.pages()
        for b in page.blocks
        if b.lang not in ("console", "sh") and b.body and b.body[0].startswith("$ ")
    ]
    assert hidden == []
    # a block that cannot run here says why (skip=needs-a-dask-cluster, skip=interactive)
    unexplained = [b.name for page in ALL_PAGES for b in page.blocks if b.options.get("skip") == ""]
    assert unexplained == []
    skipped = [b for page in ALL_PAGES for b in page.blocks if "skip" in b.options]
    assert len(skipped) <= 10  # skipping is the exception


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_examples_print_what_the_page_shows(page, tmp_path):
    compared = docs_examples.run_page(page, tmp_path)
    assert not docs_examples.differences(compared), "\n\n".join(docs_examples.differences(compared))


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=[page.name for page in SLOW_PAGES])
def test_page_examples_with_the_slow_ones(page, tmp_path):
    compared = docs_examples.run_page(page, tmp_path, include_slow=True)
    assert not docs_examples.differences(compared)


SHOWN = ["a  1", "...", "c  3", "...", "e  5"]


@pytest.mark.parametrize(
    ("shown", "printed", "expected"),
    [
        (["x  "], ["x"], True),  # trailing spaces are not compared
        (["x"], ["x", "", ""], True),  # nor trailing blank lines
        (["x"], ["y"], False),
        (["x"], ["x", "y"], False),  # an extra line is a difference
        (SHOWN, ["a  1", "b  2", "c  3", "d  4", "e  5"], True),
        (SHOWN, ["a  1", "c  3", "e  5"], True),  # "..." may stand for no line
        (SHOWN, ["a  1", "b  2", "c  4", "d  4", "e  5"], False),  # a middle line changed
        (SHOWN, ["a  1", "b  2", "c  3", "d  4", "e  6"], False),  # the last line changed
        (["a", "..."], ["a", "b", "c"], True),
        (["a", "..."], ["b", "a"], False),
        (["done in 1.5 s"], ["done in 9.0 s"], True),  # timings within a factor of 10
        (["done in 1.5 s"], ["done in 20 s"], False),
        (["12 scenarios/s"], ["130 scenarios/s"], False),  # "/s" is not a timing unit here
        (["rate 12/s"], ["rate 100/s"], True),
        (["Gini 0.0731"], ["Gini 0.0732"], False),  # money and metrics are exact
    ],
)
def test_outputs_match_exactly_except_elisions_and_timings(shown, printed, expected):
    assert docs_outputs.matches(shown, printed) is expected


@pytest.mark.parametrize(
    ("shown", "printed"),
    [
        (["old"], ["new", "lines"]),
        (["a 1", "...", "z 9"], ["a 2", "b 3", "c 4", "z 8"]),
        (["a 1", "    ...", "t 1", "u 1", "...", "z 9"], ["a 2", "b", "t 5", "u 6", "v", "z 7"]),
    ],
)
def test_update_rewrites_an_output_so_that_it_matches(shown, printed):
    new = docs_outputs.rewrite(shown, printed)
    assert docs_outputs.matches(new, printed)
    assert sum(line.strip() == "..." for line in new) == sum(
        line.strip() == "..." for line in shown
    )


@pytest.mark.parametrize("blank", [0, 1, 2])
def test_update_keeps_a_shown_end_that_starts_with_blank_lines(blank):
    """The shown end is placed by its first line with text: a blank line has the shape of every
    blank line, and placing by it dropped the table after the elision (the README's bloc table)."""
    shown = ["head 1", "...", *[""] * blank, "bloc 1", "row 1", "", "summary 1"]
    printed = ["head 2", "more", "", "other 2", *[""] * blank, "bloc 2", "row 2", "", "summary 2"]
    expected = ["head 2", "...", *[""] * blank, "bloc 2", "row 2", "", "summary 2"]
    assert docs_outputs.rewrite(shown, printed) == expected


def test_update_rewrites_a_page_in_place(tmp_path, monkeypatch):
    page_path = tmp_path / "page.md"
    page_path.write_text(
        "# t\n\n```console\n$ echo one\nstale\n$ echo two\ntwo\n```\n\n```python\nprint(3)\n```\n"
        "<!-- output -->\n```text\n4\n```\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(docs_examples, "ROOT", tmp_path)
    page = docs_examples.parse_page(page_path)
    page.workdir = "empty"
    compared = docs_examples.run_page(page, tmp_path)
    assert len(docs_examples.differences(compared)) == 2
    assert docs_examples.update_page(page, compared)
    again = docs_examples.parse_page(page_path)
    again.workdir = "empty"
    assert not docs_examples.differences(docs_examples.run_page(again, tmp_path))
    assert "$ echo two\ntwo\n" in page_path.read_text(encoding="utf-8")


def test_a_wrong_exit_status_fails(tmp_path):
    page_path = tmp_path / "page.md"
    page_path.write_text("<!-- example: exit=3 -->\n```console\n$ true\n```\n", encoding="utf-8")
    page = docs_examples.parse_page(page_path)
    page.workdir = "empty"
    with pytest.raises(docs_examples.Mismatch, match="exited 0, the page says 3"):
        docs_examples.run_page(page, tmp_path)
