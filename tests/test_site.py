"""The teaching site (issue 17), without a browser: the RFC 3261 text cut by section, the pages
written (both languages, every link resolving, nothing from the network), and what a model page
embeds for its script. The browser tests are ``tests/test_site_browser.py``.

The oracles are RFC 3261's own words: a section's text is checked against sentences of the RFC,
a model page's data against transitions 17.1.1.2 states in prose.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sipfsm.site import build_site
from sipfsm.site.rfc_text import section

ROOT = Path(__file__).resolve().parent.parent


class _Links(HTMLParser):
    """The ids, links and loaded resources of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for key in ("href", "xlink:href"):
            if values.get(key) and tag in ("a", "link"):
                (self.resources if tag == "link" else self.links).append(str(values[key]))
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.resources.append(str(values["src"]))


def _read(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out, "zh", grammar=ROOT / "grammar")
    return out


def _pages(site: Path) -> Iterator[Path]:
    yield from sorted(site.rglob("*.html"))


# --- RFC 3261 by section ---------------------------------------------------------------------


def test_a_section_is_its_heading_and_text_without_page_breaks() -> None:
    s = section("17.1.1.2")
    assert s is not None and s.title == "Formal Description"
    assert s.text.startswith("17.1.1.2 Formal Description")
    # 17.1.1.2, paragraph 1 and the 2xx paragraph, as printed.
    flat = " ".join(s.text.split())
    assert 'The initial state, "calling", MUST be entered when the TU initiates' in flat
    assert "the matching client transaction is destroyed by the first 2xx" in flat
    assert "[Page" not in s.text and "June 2002" not in s.text and "\f" not in s.text
    assert "17.1.1.3" not in s.text.splitlines()[-1]  # ends before the next heading


def test_a_section_holds_its_subsections() -> None:
    s = section("17.1.1")
    assert s is not None
    assert "17.1.1.1 Overview of INVITE Transaction" in s.text
    assert "Figure 5: INVITE client transaction" in s.text
    assert "17.1.2 Non-INVITE Client Transaction" not in s.text


def test_a_reference_with_an_item_and_another_rfcs_section() -> None:
    from sipfsm.site.model_data import rfc3261_number, section_anchor

    assert rfc3261_number("16.3 item 4") == "16.3"
    assert rfc3261_number("RFC 6026 8.4") is None
    assert section_anchor("10.3 step 2") == "sec-10.3"
    assert section_anchor("RFC 6026 8.4") == "sec-RFC-6026-8.4"
    assert section("RFC 6026 8.4") is None
    assert section("99.9") is None
    s4 = section("4")
    assert s4 is not None and "Figure 1: SIP session setup example with SIP trapezoid" in s4.text


# --- the pages -------------------------------------------------------------------------------


def test_every_page_in_both_languages(site: Path) -> None:
    en = {p.name for p in (site / "en").glob("*.html")}
    zh = {p.name for p in (site / "zh").glob("*.html")}
    assert en == zh
    for name in (
        "index.html",
        "timers.html",
        "abnf.html",
        "glossary.html",
        "scenarios.html",
        "scenario-trapezoid.html",
        "model-invite_client.html",
        "model-dialog.html",
        "model-invite_session_client.html",
        "model-registrar.html",
    ):
        assert name in en
    assert (site / "assets" / "site.js").is_file() and (site / "assets" / "site.css").is_file()
    entry = (site / "index.html").read_text(encoding="utf-8")
    assert "url=zh/index.html" in entry  # --lang zh opens the Chinese site


def test_every_link_resolves_and_nothing_comes_from_the_network(site: Path) -> None:
    ids = {p: _read(p).ids for p in _pages(site)}
    external: set[str] = set()
    for page in _pages(site):
        links = _read(page)
        for res in links.resources:
            assert not re.match(r"^[a-z]+:", res), f"{page.name} loads {res}"
            assert (page.parent / res).resolve().is_file(), f"{page.name}: {res}"
        for href in links.links:
            if href.startswith("https://"):
                external.add(href.split("#")[0])
                continue
            path, _, frag = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            assert target.is_file(), f"{page}: {href}"
            if frag and target.suffix == ".html":
                assert frag in ids[target], f"{page.name}: {href}"
    # Only the other RFCs, which do not ship, are linked outside the site.
    assert external <= {f"https://www.rfc-editor.org/rfc/rfc{n}" for n in (4235, 4320, 6026)}


def test_the_language_switch_links_the_same_page(site: Path) -> None:
    for page in _pages(site):
        if page.parent == site:
            continue
        html = page.read_text(encoding="utf-8")
        other = "zh" if page.parent.name == "en" else "en"
        assert f'id="lang-switch" href="../{other}/{page.name}"' in html, page


def _embedded(page: Path, element: str) -> Any:
    html = page.read_text(encoding="utf-8")
    m = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', html, re.S)
    assert m, element
    return json.loads(m.group(1))


def test_a_model_page_embeds_the_rules_the_rfc_states(site: Path) -> None:
    """17.1.1.2: a provisional response in "Calling" moves to "Proceeding"; a 300-699 response
    in "Proceeding" moves to "Completed" and the ACK is sent; Timer B in "Calling" ends it."""
    data = _embedded(site / "en" / "model-invite_client.html", "model-data")
    rules = data["profiles"]["rfc3261"]["rules"]

    def dest(state: str, event: str) -> set[str]:
        return {r["dest"] for r in rules if r["source"] == state and r["event"] == event}

    assert dest("Calling", "recv_1xx") == {"Proceeding"}
    assert dest("Proceeding", "recv_3xx_6xx") == {"Completed"}
    assert dest("Calling", "timer_B") == {"Terminated"}
    ack = next(r for r in rules if r["source"] == "Proceeding" and r["event"] == "recv_3xx_6xx")
    assert "send_ack" in [a[0] for a in ack["actions"]]
    assert ack["anchor"] == "sec-17.1.1.2"
    html = (site / "en" / "model-invite_client.html").read_text(encoding="utf-8")
    assert 'id="sec-17.1.1.2"' in html and "Formal Description" in html
    # The diagram: each state clickable, each drawn transition numbered for the script.
    for state in ("Calling", "Proceeding", "Completed", "Terminated"):
        assert f'data-state="{state}"' in html
    edges = data["profiles"]["rfc6026"]["edges"]
    for n in range(len(edges)):
        assert f'data-edge="{n}"' in html
    # RFC 6026 8.4 (Accepted) exists only under the amended profile: the comparison shows it.
    assert 'id="compare"' in html and "Accepted" in html


def test_the_trapezoid_page_has_f1_to_f14(site: Path) -> None:
    data = _embedded(site / "en" / "scenario-trapezoid.html", "scenario-data")
    labels = [m["label"] for m in data["messages"]]
    numbered = [lab.split()[0] for lab in labels if lab.startswith("F")]
    assert numbered == [f"F{n}" for n in range(1, 15)]
    # Figure 1: F1 INVITE, F6 180 Ringing, F9 200 OK, F12 ACK, F13 BYE, F14 200 OK.
    for expected in (
        "F1 INVITE",
        "F6 180 Ringing",
        "F9 200 OK",
        "F12 ACK",
        "F13 BYE",
        "F14 200 OK",
    ):
        assert expected in labels


def test_the_abnf_browser_links_rule_by_rule(site: Path) -> None:
    html = (site / "en" / "abnf.html").read_text(encoding="utf-8")
    # RFC 3261 25.1: Via = ( "Via" / "v" ) HCOLON via-parm *(COMMA via-parm)
    via = re.search(r'<div class="rule" data-name="via" id="r-via"><pre>(.*?)</pre>', html, re.S)
    assert via, "no Via rule"
    for name in ("hcolon", "via-parm", "comma"):
        assert f'href="#r-{name}"' in via.group(1)
        assert f'id="r-{name}"' in html
    assert 'href="#r-reason"' in html  # RFC 3326's header, in message-header's list


def test_the_timer_page_embeds_table_4(site: Path) -> None:
    data = _embedded(site / "en" / "timers.html", "timers-data")
    timers = data["timers"]
    # RFC 3261 Table 4: Timer B 64*T1; Timer D > 32 s for UDP, 0 s for TCP; Timer E T1.
    assert timers["B"]["unreliable"] == "64*T1"
    assert timers["D"]["reliable"] == "0"
    assert timers["E"]["unreliable"] == "T1" and timers["E"]["cap"] == "T2"
    assert data["base"] == {"T1": 0.5, "T2": 4.0, "T4": 5.0}
