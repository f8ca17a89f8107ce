"""The HTML reports are self-contained and safe (docs/design.md#safe-reports), charts included."""

from __future__ import annotations

import base64
import dataclasses
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.analyses.compare import compare
from revshare.reports import charts
from revshare.reports.html import CSP, allocation_html, comparison_html

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</title><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
]
ARABIC = "بغداد"
OTHERS = ["x|y", "$x$ & ]]>", "北京", "Kirkuk"]
SVG = "{http://www.w3.org/2000/svg}"


def hostile_territory() -> revshare.Territory:
    """Regions, factions, blocs and the dataset itself named by the payloads."""
    regions = [*PAYLOADS, ARABIC, *OTHERS]
    factions = [ARABIC, *PAYLOADS, "$x$ & ]]>", "北京"]
    pop = pd.DataFrame(
        {
            "region": regions,
            "faction": [factions[i % len(factions)] for i in range(len(regions))],
            "population": [100_000 + 7_000 * i for i in range(len(regions))],
        }
    )
    blocs = pd.DataFrame(
        {"region": regions, "bloc": [PAYLOADS[4] if i % 2 else ARABIC for i in range(len(regions))]}
    )
    fields = pd.DataFrame(
        {"field": ["F1", "F2"], "region": [PAYLOADS[0], ARABIC], "annual_revenue_usd": [4e9, 1e9]}
    )
    return revshare.territory_from_frames(fields, pop, blocs, name=PAYLOADS[3])


@pytest.fixture(scope="module")
def hostile() -> revshare.Territory:
    return hostile_territory()


@pytest.fixture(scope="module")
def comparison(hostile):
    named = dataclasses.replace(revshare.PRESETS["confederation"], name=PAYLOADS[1])
    impossible = dataclasses.replace(
        revshare.PRESETS["federation"],
        name=PAYLOADS[4],
        bloc_share={ARABIC: 0.99},
        per_capita_floor=0.9,
    )
    return compare(hostile, ["federation", "partition", named, impossible], price=0)


@pytest.fixture(scope="module")
def allocation(comparison):
    return comparison.allocations["federation"]


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.bdi: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)
        if "bdi" in self.stack:
            self.bdi.append(data)


def assert_safe_page(html: str) -> Page:
    page = Page(html)
    names = [t for t, _ in page.tags]
    assert "script" not in names and "iframe" not in names and "object" not in names
    ids = {a["id"] for _, a in page.tags if a.get("id")}
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for key in ("src", "href", "action", "formaction", "srcset"):
            value = attrs.get(key)
            if value is None:
                continue
            if tag == "a" and key == "href":
                # the table of contents: a link to a section of this page, never elsewhere
                assert re.fullmatch(r"#s\d+", value) and value[1:] in ids, (tag, key, value)
            else:
                assert value.startswith("data:"), (tag, key, value[:40])
    img = [a for t, a in page.tags if t == "img"]
    assert img and all(a["src"].startswith("data:image/svg+xml;base64,") for a in img)
    head = names[: names.index("body")]
    assert head[:3] == ["html", "head", "meta"]
    assert page.tags[2][1] == {"charset": "utf-8"}
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
    text = "".join(page.text)
    for payload in PAYLOADS:
        assert payload in text, f"{payload!r} is shown as text"
    assert ARABIC in page.bdi
    return page


def test_comparison_page_escapes_every_payload_and_isolates_names(comparison):
    html = comparison_html(comparison)
    page = assert_safe_page(html)
    assert "</title><script>" not in html
    assert len([t for t, _ in page.tags if t == "img"]) == 3
    assert all(a.get("dir") == "auto" for t, a in page.tags if t == "bdi")
    assert PAYLOADS[4] + ": infeasible" in "".join(page.text)


def test_allocation_page_escapes_every_payload(allocation):
    page = assert_safe_page(allocation_html(allocation))
    assert len([t for t, _ in page.tags if t == "img"]) == 4
    assert "NOT OPTIMAL" not in "".join(page.text)


def test_a_result_not_proven_optimal_says_so_in_its_h1(allocation):
    html = allocation_html(dataclasses.replace(allocation, optimal=False))
    page = Page(html)
    assert page.tags[[t for t, _ in page.tags].index("h1")][1] == {"class": "banner"}
    assert "NOT OPTIMAL" in html.split("<h1", 2)[1]


def chart_documents(html: str) -> list[ET.Element]:
    page = Page(html)
    prefix = "data:image/svg+xml;base64,"
    return [
        ET.fromstring(base64.b64decode(a["src"][len(prefix) :])) for t, a in page.tags if t == "img"
    ]


def test_chart_svgs_hold_names_as_escaped_text_only(comparison):
    svgs = chart_documents(comparison_html(comparison))
    texts = []
    for root in svgs:
        assert root.tag == SVG + "svg"
        for el in root.iter():
            local = el.tag.split("}")[-1]
            assert local not in ("script", "foreignObject", "image", "a", "iframe"), local
            assert not [k for k in el.attrib if k.lower().startswith("on")]
            for key, value in el.attrib.items():
                if key.endswith("href"):
                    assert value.startswith("#"), value
            if local == "text":
                texts.append("".join(el.itertext()))
    shown = " ".join(texts)
    assert charts.short(PAYLOADS[4]) in shown  # a region name as a tick label, as text
    assert ARABIC in shown and "$x$ & ]]>" in shown


def test_charts_are_reproducible(comparison, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert comparison_html(comparison) == comparison_html(comparison)


def test_the_page_loads_nothing_from_outside(comparison):
    html = comparison_html(comparison)
    for needle in ("http://", "https://", "//cdn", "@import", "url("):
        assert needle not in html


def test_lorenz_points_start_at_zero_and_end_at_one():
    x, y = charts.lorenz_points([3.0, 1.0, 2.0], [1.0, 1.0, 2.0])
    assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert list(x) == [0.0, 0.25, 0.75, 1.0]
    assert list(y) == pytest.approx([0.0, 1 / 8, 5 / 8, 1.0])
    assert charts.lorenz_points([0.0, 0.0], [1.0, 1.0])[0].size == 0


def test_long_names_are_shortened_for_charts_only():
    assert charts.short("a" * 40) == "a" * 27 + "…"
    assert charts.short("two\nlines") == "two lines"


@pytest.mark.parametrize("value", [-0.4, -1e-9, -0.0, 0.0, 0.4, -0.49999])
def test_an_amount_that_rounds_to_zero_prints_as_zero_never_minus_zero(value):
    from revshare.reports.html import usd

    assert usd(value) == "0"


def test_no_figure_prints_as_minus_zero(comparison, allocation):
    for html in (comparison_html(comparison), allocation_html(allocation)):
        text = "".join(Page(html).text)
        assert not re.search(r"(?<![\d,.])-0(?![\d.,])", text)


@pytest.mark.parametrize("pages", ["comparison", "allocation"])
def test_every_money_column_says_which_money_it_counts(pages, comparison, allocation):
    """A header of money a head names its view; the glossary under the tables defines both."""
    html = comparison_html(comparison) if pages == "comparison" else allocation_html(allocation)
    page = Page(html)
    text = "".join(page.text)
    assert "direct" in text and "served" in text
    assert any(t == "ul" and a.get("class") == "glossary" for t, a in page.tags)
    for term in ("Gini", "Loosemore-Hanby", "secession-proof", "centre"):
        assert re.search(rf"(?m)^{term}: ", text) or f"{term}: " in text, term
    headers = re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    for h in headers:
        if "a head" in h or "per head" in h:
            assert "direct" in h or "served" in h or "centre" in h, h


@pytest.mark.parametrize("sections", [0, 1, 3, 4, 9])
def test_a_long_page_gets_a_table_of_contents_linking_to_its_sections(sections):
    from revshare.reports.html import CONTENTS_FROM, with_contents

    body = "<p>lede</p>" + "".join(f"<h2>part &lt;{i}&gt;</h2><p>x</p>" for i in range(sections))
    out = with_contents(body)
    page = Page(out)
    ids = [a["id"] for t, a in page.tags if t == "h2"]
    assert ids == [f"s{i}" for i in range(1, sections + 1)]
    links = [a["href"] for t, a in page.tags if t == "a"]
    assert links == ([f"#{i}" for i in ids] if sections >= CONTENTS_FROM else [])
    if links:
        assert out.index("<nav") < out.index('<h2 id="s1">')
        assert "part &lt;0&gt;</a>" in out  # the heading's text stays escaped in its link


@pytest.fixture(scope="module")
def iraq_comparison():
    from pathlib import Path

    iraq = revshare.load_dataset(Path(__file__).resolve().parent.parent / "data" / "iraq")
    return compare(
        iraq,
        [
            "unified",
            "federation",
            "confederation",
            "partition",
            "iraq-2005",
            "iraq-2005-krg17",
            "nigeria-derivation",
        ],
    )


def _bar_charts(c):
    from revshare.analyses.guarantees import guarantees

    g = guarantees(
        revshare.load_dataset(__import__("pathlib").Path(__file__).parent.parent / "data" / "iraq"),
        ["unified", "partition"],
        capture=False,
    ).table
    fair = g.assign(
        fair_per_head=g["fair_usd"] / g["population"],
        guaranteed_per_head=g["guaranteed_usd"] / g["population"],
    )
    one = c.factions[c.factions["structure"] == "partition"]  # no centre: no light part
    return {
        "per head, seven structures": charts.per_head_bars(c.factions, group_label="faction"),
        "per head, no centre": charts.per_head_bars(one, group_label="faction"),
        "surplus": charts.surplus_bars(c.blocs),
        "surplus, all accept": charts.surplus_bars(c.blocs[c.blocs["accepts"]]),
        "guarantees": charts.guarantee_bars(fair, group_label="bloc"),
    }


def test_bar_charts_use_few_colours_and_every_swatch_matches_a_bar(iraq_comparison):
    """At most six colours whatever the number of structures; each colour is drawn at least
    twice, in the legend and in a bar, so no swatch stands for nothing."""
    for name, svg in _bar_charts(iraq_comparison).items():
        fills = re.findall(r"fill:\s*(#[0-9a-f]{6})", svg)
        colours = {f: fills.count(f) for f in fills if f != "#ffffff"}
        assert 1 <= len(colours) <= 6, (name, colours)
        assert all(n >= 2 for n in colours.values()), (name, colours)


def test_series_that_coincide_are_named_together():
    same = charts.coincident(
        {"a": np.array([1.0, 2.0]), "b": np.array([1.0, 3.0]), "c": np.array([1.0, 2.0])}
    )
    assert same == [("a", "c"), ("b",)]
    curves = {n: (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.2) for n in ("x", "y")}
    svg = charts.lorenz_curves({**curves, "z": (np.array([1.0, 1.0, 5.0]), np.ones(3), 0.4)})
    assert "x = y (Gini 0.200)" in svg and "z (Gini 0.400)" in svg


@pytest.mark.parametrize(
    "path",
    [
        "built-in",
        "dataset",
        "/tmp/deals/federation-with-a-fund.toml",
        "relative/deals/x.toml",
        "C:\\deals\\round 3\\a&b.toml",
        "/tmp/<script>alert(1)</script>/x.toml",
        '/tmp/"><img src=x onerror=alert(1)>/x.toml',
        "//double//slashes/",
        f"/{ARABIC}/اتفاق.toml",
    ],
)
def test_a_path_breaks_only_after_its_separators_and_is_escaped_first(path):
    from markupsafe import escape

    from revshare.reports.cells import path_breaks

    html = str(path_breaks(path))
    names = re.findall(r'<span class="name">(.*?)</span>', html)
    assert "<wbr>".join(f'<span class="name">{n}</span>' for n in names) == html
    assert "".join(names) == str(escape(path))  # the names, in order, are the escaped path
    assert all(n.endswith(("/", "\\")) for n in names[:-1])  # a break only after a separator
    assert not any(c in n for n in names for c in "<>\"'")
    separators = sum(path[:-1].count(c) for c in "/\\")  # one name after each inner separator
    assert len(names) == separators + 1


@pytest.fixture(scope="module")
def referendum(hostile):
    from revshare.analyses.referendum import ratify

    return ratify(hostile, "federation", "partition", "majority", price=0)


def test_the_referendum_page_is_escaped_and_labels_its_money(referendum):
    from revshare.reports.convention_html import referendum_html

    html = referendum_html(referendum)
    page = Page(html)
    names = [t for t, _ in page.tags]
    assert "script" not in names and "img" not in names
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
    text = "".join(page.text)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert ARABIC in page.bdi
    assert ("RATIFIED" if referendum.verdict else "REJECTED") in text
    assert [h for _, h in re.findall(r"<h2( [^>]*)?>(.*?)</h2>", html)] == [
        "Blocs",
        "Regions",
        "Factions",
        "Provenance",
    ]
    headers = re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    money = [h for h in headers if "USD" in h]
    assert len(money) == 3 and all("served" in h for h in money)
    assert text.count("served: direct money plus") == 3  # the glossary under each table
    assert not re.search(r"(?<![\d,.])-0(?![\d.,])", text)
