"""The documentation site builds in strict mode and loads nothing from another host.

``mkdocs build --strict`` fails on any warning: a broken link or anchor, a page missing from the
navigation, a docstring mkdocstrings cannot render, a command mkdocs-click cannot import.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Attributes through which a page loads something (a plain <a href> is a link, not a load).
LOADS = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
}
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)
CSS_LOAD = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.I)


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in LOADS and values.get(LOADS[tag]):
            self.loaded.append(values[LOADS[tag]] or "")
        if values.get("style"):
            self.inline_css.append(values["style"] or "")
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def external_loads(site: Path) -> list[str]:
    """Every URL of another host that a built page or its stylesheets would load."""
    found = []
    for page in site.rglob("*.html"):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [f"{page.name}: {url}" for url in parser.loaded if EXTERNAL.match(url)]
        found += [
            f"{page.name}: {url}" for css in parser.inline_css for url in CSS_LOAD.findall(css)
        ]
    for sheet in site.rglob("*.css"):
        found += [f"{sheet.name}: {url}" for url in CSS_LOAD.findall(sheet.read_text("utf-8"))]
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def test_site_builds_strictly_with_every_page(site: Path) -> None:
    for page in ("index", "tutorial", "concepts", "design", "cli", "api"):
        assert (site / f"{page}.html").is_file()
    assert len(list((site / "howto").glob("*.html"))) == 6


def test_site_loads_nothing_from_another_host(site: Path) -> None:
    assert external_loads(site) == []


def test_cli_reference_covers_every_command(site: Path) -> None:
    from revshare_cli import main

    reference = (site / "cli.html").read_text(encoding="utf-8")
    for name in main.commands:  # type: ignore[attr-defined]
        assert f"revshare {name}" in reference, name


def test_api_reference_covers_every_public_name(site: Path) -> None:
    import revshare

    reference = (site / "api.html").read_text(encoding="utf-8")
    for name in revshare.__all__:
        if name != "__version__":
            assert f'id="revshare.{name}"' in reference, name


CITATION = re.compile(r"docs/([\w/-]+)\.md#([\w-]+)")


def cited_sections() -> set[tuple[str, str]]:
    """Every section of a docs page (``docs/<page>.md#<section>``) cited in code, tests or README."""
    files = [ROOT / "README.md", ROOT / "cli.py"]
    for folder in ("revshare", "revshare_cli", "tests"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return {m for f in files for m in CITATION.findall(f.read_text(encoding="utf-8"))}


def test_every_cited_section_of_the_docs_exists(site: Path) -> None:
    missing = [
        f"docs/{page}.md#{anchor}"
        for page, anchor in sorted(cited_sections())
        if not (site / f"{page}.html").is_file()
        or f'id="{anchor}"' not in (site / f"{page}.html").read_text(encoding="utf-8")
    ]
    assert missing == []


def comments_and_docstrings(path: Path) -> list[str]:
    """The comments and docstrings of a Python file (what cites the design)."""
    source = path.read_text(encoding="utf-8")
    texts = [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            texts.append(ast.get_docstring(node) or "")
    return texts


def test_code_cites_the_docs_not_files_outside_the_repository() -> None:
    outside = re.compile(r"\b(DESIGN|RELIABILITY)\.md\b")
    citing = [
        f"{path.relative_to(ROOT)}: {text.strip()[:60]}"
        for folder in ("revshare", "revshare_cli", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for text in comments_and_docstrings(path)
        if outside.search(text)
    ]
    assert citing == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://cdn.example/x.js"></script>', 1),
        ('<link rel="stylesheet" href="//fonts.example/css">', 1),
        ('<img src="http://example.org/a.png">', 1),
        ('<div style="background: url(https://example.org/a.png)"></div>', 1),
        ("<style>@import 'https://fonts.example/css';</style>", 1),
        ('<a href="https://www.mkdocs.org/">MkDocs</a>', 0),  # a link the reader may follow
        ('<script src="js/base.js"></script><img src="compare-report.png">', 0),
    ],
)
def test_external_loads_are_found(tmp_path: Path, html: str, expected: int) -> None:
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    assert len(external_loads(tmp_path)) == expected
