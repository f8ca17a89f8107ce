"""The HTML reports in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium (Debian's ``chromium`` package, installed by ``.ci/run``) is started with
``--remote-debugging-pipe``: it reads DevTools commands from file descriptor 3 and writes
replies and events to descriptor 4, NUL-terminated JSON, so no port, no network and no extra
Python package is needed. Each page must load with no console message of level error (CSP
violations and failed loads are reported there), no uncaught exception and no dialog; its charts
must be decoded images; and names that would run code if they were markup must stay text.
Screenshots are saved to ``tests/artifacts/`` (or ``$REVSHARE_ARTIFACTS``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import revshare
from revshare.analyses.compare import compare
from revshare.reports.comparison import write_comparison
from revshare.reports.html import allocation_html

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
