"""The HTML reports in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium (Debian's ``chromium`` package, installed by ``.ci/run``) is started with
``--remote-debugging-pipe``: it reads DevTools commands from file descriptor 3 and writes
replies and events to descriptor 4, NUL-terminated JSON, so no port, no network and no extra
Python package is needed. Each page must load with no console message of level error (CSP
violations and failed loads are reported there), no uncaught exception and no dialog; its charts
must be decoded images; and names that would run code if they were markup must stay text.
Screenshots are saved to ``tests/artifacts/`` (or ``$REVSHARE_ARTIFACTS``).

Layout (issue 15): every report kind is opened on a 1280-pixel screen and as printed on A4, and no
table may be wider than the box that holds it (nothing cut off, nothing to scroll sideways).
Each chart is opened on its own as the SVG it is, and the browser's own boxes of its text
(``getBBox`` under each element's transform, so rotated labels are boxes turned with them) must
not overlap one another.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import json
import os
import select
import subprocess
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import revshare
from revshare.analyses.compare import compare
from revshare.analyses.convention import apportion, territory_populations
from revshare.analyses.guarantees import guarantees
from revshare.analyses.periods import Fund, optimize_periods
from revshare.analyses.referendum import ratify
from revshare.reports import write_reports
from revshare.reports.comparison import write_comparison
from revshare.reports.convention import write_apportionment, write_referendum
from revshare.reports.fear import core_report, power_report, secession_report, write_report
from revshare.reports.guarantees import write_guarantees
from revshare.reports.html import allocation_html
from revshare.reports.periods import write_period_reports
from revshare.reports.sweep import sweep

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("REVSHARE_ARTIFACTS", Path(__file__).parent / "artifacts"))
DATA = Path(__file__).resolve().parent.parent / "data"
TIMEOUT = 60.0
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--remote-debugging-pipe",
]
# If any of these ran, it would set the title, set a flag, or open a dialog.
TITLE_PAYLOAD = "<script>document.title='pwned'</script>"
FLAG_PAYLOAD = "<img src=x onerror=\"window.pwned=1;document.title='pwned'\">"
ALERT_PAYLOAD = "<img src=x onerror=alert(1)>"
QUOTE_PAYLOAD = '"><svg onload="window.pwned=2">'
ARABIC = "بغداد"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)


class Browser:
    """A headless Chromium and a DevTools session on one page."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # bash (dash takes only one-digit descriptors) puts our pipe ends on descriptors 3 and
        # 4, where Chromium looks for them.
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        self.log = (profile / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", script, CHROMIUM, *FLAGS, f"--user-data-dir={profile}"],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        self.session = ""
        self.events: list[dict[str, Any]] = []
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
            self.session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=True)
        except BaseException:
            self.close()
            raise

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("method") == "Page.javascriptDialogOpening":
            # A dialog would block the page; dismiss it and let the test fail on the record.
            message = {
                "id": 0,
                "method": "Page.handleJavaScriptDialog",
                "params": {"accept": False},
                "sessionId": self.session,
            }
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")

    def open(self, path: Path) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": path.resolve().as_uri()}, session=True)
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self._event(self._read(deadline))

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        found = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Page.javascriptDialogOpening":
                found.append(f"dialog: {params.get('message')}")
        return found

    def screenshot(self, name: str) -> Path:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": 1280,
                "height": min(height, 12000),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session=True,
        )
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def hostile_territory() -> revshare.Territory:
    regions = [ALERT_PAYLOAD, FLAG_PAYLOAD, TITLE_PAYLOAD, QUOTE_PAYLOAD, ARABIC, "Basra"]
    factions = [TITLE_PAYLOAD, FLAG_PAYLOAD, ARABIC, ALERT_PAYLOAD]
    pop = pd.DataFrame(
        {
            "region": regions,
            "faction": [factions[i % len(factions)] for i in range(len(regions))],
            "population": [200_000 + 50_000 * i for i in range(len(regions))],
        }
    )
    blocs = pd.DataFrame(
        {
            "region": regions,
            "bloc": [QUOTE_PAYLOAD if i % 2 else ARABIC for i in range(len(regions))],
        }
    )
    fields = pd.DataFrame(
        {
            "field": ["F1", "F2"],
            "region": ["Basra", ALERT_PAYLOAD],
            "annual_revenue_usd": [3e9, 1e9],
        }
    )
    return revshare.territory_from_frames(fields, pop, blocs, name=TITLE_PAYLOAD)


CHECKS = """(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode()));
  const all = [...document.querySelectorAll('*')];
  return {
    title: document.title,
    pwned: window.pwned === undefined ? null : window.pwned,
    scripts: document.scripts.length,
    handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    charts: imgs.filter(i => i.src.startsWith('data:image/svg+xml;base64,')
                             && i.naturalWidth > 100 && i.naturalHeight > 100).length,
    images: imgs.length,
    svgInPage: document.querySelectorAll('svg').length,
    text: document.body.innerText,
    bdi: [...document.querySelectorAll('bdi')].map(b => b.textContent),
  };
})()"""


def load(browser: Browser, path: Path) -> dict[str, Any]:
    browser.open(path)
    state = browser.evaluate(CHECKS)
    assert browser.errors() == []
    return state


def test_iraq_comparison_report_loads_cleanly_with_its_charts(browser, tmp_path):
    c = compare(revshare.load_dataset(DATA / "iraq"), "all")
    out = write_comparison(c, tmp_path / "iraq")
    state = load(browser, out / "report.html")
    assert state["title"] == "Comparison of structures on \u2068iraq\u2069"
    assert state["charts"] == state["images"] == 3
    assert "Condorcet winner" in state["text"]
    browser.screenshot("compare-iraq.png")


def test_hostile_names_run_nothing(browser, tmp_path):
    t = hostile_territory()
    named = dataclasses.replace(revshare.PRESETS["confederation"], name=FLAG_PAYLOAD)
    c = compare(t, ["federation", "partition", named], price=0)
    out = write_comparison(c, tmp_path / "hostile")
    state = load(browser, out / "report.html")
    assert state["title"] == f"Comparison of structures on \u2068{TITLE_PAYLOAD}\u2069"
    assert state["pwned"] is None
    assert (state["scripts"], state["handlers"], state["svgInPage"]) == (0, 0, 0)
    assert state["charts"] == state["images"] == 3
    for payload in (TITLE_PAYLOAD, FLAG_PAYLOAD, ALERT_PAYLOAD, QUOTE_PAYLOAD):
        assert payload in state["text"]
    assert ARABIC in state["bdi"]
    browser.screenshot("compare-hostile.png")


def test_allocation_report_with_hostile_names_runs_nothing(browser, tmp_path):
    a = revshare.optimize(hostile_territory(), "federation", price=0)
    path = tmp_path / "allocation.html"
    path.write_text(allocation_html(a), encoding="utf-8")
    state = load(browser, path)
    assert (
        state["title"] == f"Allocation under \u2068federation\u2069 on \u2068{TITLE_PAYLOAD}\u2069"
    )
    assert state["pwned"] is None
    assert (state["scripts"], state["handlers"]) == (0, 0)
    assert state["charts"] == state["images"] == 4
    for payload in (TITLE_PAYLOAD, FLAG_PAYLOAD, ALERT_PAYLOAD, QUOTE_PAYLOAD):
        assert payload in state["text"]
    browser.screenshot("allocation-hostile.png")


def test_the_harness_would_notice_a_payload_that_ran(browser, tmp_path):
    """Without escaping and CSP, the same payloads run; and a CSP refusal is an error."""
    bare = tmp_path / "bare.html"
    bare.write_text(f"<!DOCTYPE html><title>t</title>{FLAG_PAYLOAD}{ALERT_PAYLOAD}", "utf-8")
    browser.open(bare)
    deadline = time.monotonic() + TIMEOUT
    # The broken images' error handlers may run after the load event: poll for their effects.
    while not (
        browser.evaluate("window.pwned") == 1
        and any(e.startswith("dialog:") for e in browser.errors())
    ):
        assert time.monotonic() < deadline, "the unguarded payloads never ran"
        time.sleep(0.05)
    guarded = tmp_path / "guarded.html"
    guarded.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        f"<title>t</title>{TITLE_PAYLOAD}",
        "utf-8",
    )
    browser.open(guarded)
    assert browser.evaluate("document.title") == "t"
    assert any("Content Security Policy" in e for e in browser.errors())


# --- layout: tables inside their boxes, chart text apart -------------------------------------

SCREEN = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
# A4 less the page's 12 mm side margins, at the CSS 96 pixels an inch.
PRINTED = {
    "width": round((210 - 24) / 25.4 * 96),
    "height": 1100,
    "deviceScaleFactor": 1,
    "mobile": False,
}

TABLES = """(() => {
  const page = (document.querySelector('main') || document.body).getBoundingClientRect();
  return [...document.querySelectorAll('table')].map((t, i) => {
    const box = t.parentElement;
    let h = t.previousElementSibling;
    let above = box.previousElementSibling;
    while (above && !/^H[1-3]$/.test(above.tagName)) above = above.previousElementSibling;
    return {
      table: i, heading: above ? above.textContent.trim().slice(0, 80) : '',
      boxScroll: box.scrollWidth, boxClient: box.clientWidth,
      right: t.getBoundingClientRect().right, pageRight: page.right,
    };
  });
})()"""

# Each text element's box in its own coordinates, turned by its transform to the page's.
TEXT_BOXES = """(() => [...document.querySelectorAll('text')].map(t => {
  const b = t.getBBox(), m = t.getCTM();
  const at = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
  return {text: t.textContent, corners: [at(b.x, b.y), at(b.x + b.width, b.y),
    at(b.x + b.width, b.y + b.height), at(b.x, b.y + b.height)], area: b.width * b.height};
}).filter(t => t.area > 0 && t.text.trim()))()"""

SVG_PREFIX = "data:image/svg+xml;base64,"


def _separated(a: list[list[float]], b: list[list[float]], slack: float = 0.75) -> bool:
    """Whether two convex quadrilaterals are apart (separating axis theorem); boxes that
    overlap by less than ``slack`` pixels, the fonts' own leading, count as apart."""
    for quad in (a, b):
        for (x1, y1), (x2, y2) in itertools.pairwise([*quad, quad[0]]):
            nx, ny = y1 - y2, x2 - x1
            norm = (nx * nx + ny * ny) ** 0.5 or 1.0
            pa = [(x * nx + y * ny) / norm for x, y in a]
            pb = [(x * nx + y * ny) / norm for x, y in b]
            if max(pa) - slack <= min(pb) or max(pb) - slack <= min(pa):
                return True
    return False


def overlapping_text(browser: Browser, svg: bytes, folder: Path, name: str) -> list[str]:
    path = folder / f"{name}.svg"
    path.write_bytes(svg)
    browser.open(path)
    boxes = browser.evaluate(TEXT_BOXES)
    assert boxes, f"{name}: a chart with no text"
    return [
        f"{a['text']!r} and {b['text']!r}"
        for a, b in itertools.combinations(boxes, 2)
        if not _separated(a["corners"], b["corners"])
    ]


def layout_problems(browser: Browser, report: Path, folder: Path) -> list[str]:
    """Tables wider than their box on a screen or on paper, and chart text that overlaps."""
    found = []
    for medium, metrics in (("screen", SCREEN), ("print", PRINTED)):
        browser.call("Emulation.setEmulatedMedia", {"media": medium}, session=True)
        browser.call("Emulation.setDeviceMetricsOverride", metrics, session=True)
        browser.open(report)
        for t in browser.evaluate(TABLES):
            if t["boxScroll"] > t["boxClient"] + 1 or t["right"] > t["pageRight"] + 1:
                found.append(
                    f"{medium}: table {t['table']} under {t['heading']!r} is "
                    f"{t['boxScroll']} px wide in a box of {t['boxClient']} px"
                )
    browser.call("Emulation.setEmulatedMedia", {"media": ""}, session=True)
    browser.call("Emulation.clearDeviceMetricsOverride", session=True)
    browser.open(report)
    sources = browser.evaluate("[...document.images].map(i => i.src)")
    for k, src in enumerate(s for s in sources if s.startswith(SVG_PREFIX)):
        svg = base64.b64decode(src[len(SVG_PREFIX) :])
        found += [f"chart {k}: {o}" for o in overlapping_text(browser, svg, folder, f"chart{k}")]
    return found


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def sudan() -> revshare.Territory:
    return revshare.load_dataset(DATA / "sudan-2005")


def _allocation(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    return write_reports(revshare.optimize(sudan, "sudan-cpa-2005"), folder)


def _comparison(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    return write_comparison(compare(iraq, "all"), folder)


def _comparison_with_a_deal(folder: Path, sudan: revshare.Territory, iraq) -> Path:
    return write_comparison(compare(sudan, "all"), folder)


def _sweep(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    scenarios = revshare.price_grid("30:120:3")
    sweep(
        iraq, ["federation", "iraq-2005", "partition", "unified"], scenarios, workers=1, out=folder
    )
    return folder


def _sweep_grid(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    scenarios = revshare.price_grid("40:100:20")
    sweep(
        iraq,
        ["federation", "confederation"],
        scenarios,
        params=["derivation=0:0.3:0.1"],
        workers=1,
        out=folder,
    )
    return folder


def _periods(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    path = pd.DataFrame(
        {"period": range(8), "price": [80, 60, 45, 70, 95, 85, 50, 75], "years": 1 / 12}
    )
    result = optimize_periods(iraq, "iraq-2005", path, fund=Fund(benchmark_price=70.0))
    return write_period_reports(result, folder)


def _guarantees(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    return write_guarantees(guarantees(iraq, ["federation", "partition"]), folder)


def _convention(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    seats = apportion(
        territory_populations(iraq), 100, "huntington-hill", min_seats=1, unit="region"
    )
    return write_apportionment(seats, folder)


LONG_FOLDERS = (
    "negotiation-round-3-proposals",
    "shared-drive-of-the-committee",
    "drafts-from-the-ministry",
    "revenue-sharing-working-group",
)
"""Folders of a long path (over 150 characters with the file's name): each name as long as a
real one, so that the page can keep every name whole and still fit the table in its box."""


def _long_path_deals(folder: Path) -> list[str]:
    """Two structures read from files at long paths (a Unix one, and one with a backslash in
    a folder's name, which the page breaks at too)."""
    paths = []
    for n, top in enumerate(["deals", "deals\\windows-share"]):
        place = folder.parent / f"{folder.name}-{n}" / top / Path(*LONG_FOLDERS)
        place.mkdir(parents=True)
        name = f"long-deal-{n}"
        path = place / f"{name}-with-a-fund.toml"
        path.write_text(f'[structures.{name}]\ndescription = "x"\nextends = "federation"\n')
        paths.append(str(path))
    return paths


def _comparison_long_paths(folder: Path, sudan: revshare.Territory, iraq) -> Path:
    names = ["federation", "unified", *_long_path_deals(folder)]
    return write_comparison(compare(iraq, names), folder)


def _referendum(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    return write_referendum(ratify(sudan, "sudan-cpa-2005", "unified", "bloc-veto"), folder)


def _core(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    names = ["unified", "federation", "confederation", "partition", "iraq-2005", "iraq-2005-krg17"]
    return write_report(core_report(revshare.core(iraq, names)), folder)


def _power(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    seats = revshare.apportion_territory(iraq, 100, "huntington-hill", by="region")
    return write_report(
        power_report(iraq.name, "seats", revshare.seat_power(seats, Fraction(1, 2))), folder
    )


def _secession(folder: Path, sudan: revshare.Territory, iraq: revshare.Territory) -> Path:
    paths = revshare.read_periods(DATA / "iraq" / "brent-2005-2024.csv")
    vote = revshare.secession_vote(sudan, "sudan-cpa-2005", paths, vote_after=6, by="region")
    return write_report(secession_report(sudan.name, vote), folder)


KINDS = {
    "allocation": _allocation,
    "core": _core,
    "power": _power,
    "secession": _secession,
    "comparison-long-paths": _comparison_long_paths,
    "referendum": _referendum,
    "comparison": _comparison,
    "comparison-deal": _comparison_with_a_deal,
    "sweep": _sweep,
    "sweep-grid": _sweep_grid,
    "periods": _periods,
    "guarantees": _guarantees,
    "convention": _convention,
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_report_fits_its_page_and_its_charts_text_does_not_overlap(
    browser, tmp_path, kind, iraq, sudan
):
    out = KINDS[kind](tmp_path / kind, sudan, iraq)
    report = out / "report.html"
    state = load(browser, report)
    assert (state["scripts"], state["handlers"]) == (0, 0)
    assert layout_problems(browser, report, tmp_path) == []
    browser.open(report)
    browser.screenshot(f"layout-{kind}.png")


# Each path cell's pieces between line-break opportunities, and how many lines each is laid on.
PATH_PIECES = """(() => [...document.querySelectorAll('td.path bdi')].map(cell =>
  [...cell.querySelectorAll('span.name')].map(n => {
    const r = document.createRange(); r.selectNodeContents(n);
    const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
    return {text: n.textContent, lines: tops.size, top: Math.min(...tops)};
  })))()"""


def test_long_paths_break_at_their_separators_and_never_inside_a_name(browser, tmp_path, iraq):
    """Issue 15: the compare report's "source" column breaks a path after a ``/`` or ``\\``,
    never in the middle of a folder's or file's name, on screen and on paper (where the long
    paths do wrap)."""
    report = _comparison_long_paths(tmp_path / "paths", iraq, iraq) / "report.html"
    for medium, metrics in (("screen", SCREEN), ("print", PRINTED)):
        browser.call("Emulation.setEmulatedMedia", {"media": medium}, session=True)
        browser.call("Emulation.setDeviceMetricsOverride", metrics, session=True)
        browser.open(report)
        cells = [c for c in browser.evaluate(PATH_PIECES) if len(c) > 1]
        assert len(cells) == 2, (medium, cells)
        for pieces in cells:
            assert "".join(p["text"] for p in pieces).endswith("-with-a-fund.toml")
            assert all(p["text"].endswith(("/", "\\")) for p in pieces[:-1]), pieces
            assert [p["text"] for p in pieces if p["lines"] != 1] == [], medium
            assert len({p["top"] for p in pieces}) > 1, (medium, "expected the path to wrap")
    browser.call("Emulation.setEmulatedMedia", {"media": ""}, session=True)
    browser.call("Emulation.clearDeviceMetricsOverride", session=True)


def test_the_layout_check_finds_a_wide_table_and_overlapping_text(browser, tmp_path):
    """The checks can fail: a table wider than its box, and two labels drawn on each other."""
    wide = "".join(f"<td>{'x' * 40}{i}</td>" for i in range(12))
    page = tmp_path / "wide.html"
    page.write_text(
        f'<!DOCTYPE html><main style="width:600px"><div class="scroll" '
        f'style="overflow-x:auto"><table><tr>{wide}</tr></table></div></main>',
        "utf-8",
    )
    found = layout_problems(browser, page, tmp_path)
    assert any("screen: table 0" in f for f in found) and any("print: table 0" in f for f in found)
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
        b'<text x="10" y="50" style="font: 12px sans-serif">federation</text>'
        b'<text x="30" y="55" transform="rotate(30 30 55)" style="font: 12px sans-serif">'
        b'partition</text><text x="10" y="90" style="font: 12px sans-serif">apart</text></svg>'
    )
    assert overlapping_text(browser, svg, tmp_path, "overlap") == ["'federation' and 'partition'"]
