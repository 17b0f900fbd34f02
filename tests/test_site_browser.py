"""The teaching site in a real browser (issue 17): Debian's Chromium, headless, driven by
Selenium through Debian's chromedriver (``/usr/bin/chromium``, ``/usr/bin/chromedriver``;
nothing downloads a browser or a driver: both paths are given, and Selenium Manager is told to
stay offline).

Every page loads with no console message of level WARNING or SEVERE (the browser log), every
link on it resolves, the language switch leads to the same page in the other language on every
page; on a model page, clicking a transition shows the RFC 3261 text it cites, and firing
events moves the highlight and the timers as RFC 3261 17.1.1.2 and Table 4 say; the trapezoid
plays to F14. A screenshot of each kind of page is saved under the test's ``tmp_path``.

The oracles are RFC 3261's words (17.1.1.2's sentences, Table 4's values), not the models.
Without Chromium the tests skip (``tests/skips.toml``); the harness installs it when it can.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peer_harness
import pytest

from sipfsm.site import build_site

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out, "en", grammar=ROOT / "grammar")
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (printed at the end of the module)."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(shots: Path) -> Iterator[Any]:
    try:
        peer_harness.ensure_installed(peer_harness.BROWSER_PACKAGES)
    except peer_harness.PeerUnavailable as exc:
        pytest.skip(f"Debian's chromium and chromium-driver are unavailable: {exc}")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is missing")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1500,1000",
        "--lang=en",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    before = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch anything
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        if before is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = before
        print(f"\nscreenshots of the site: {shots}")


def _problems(driver: Any) -> list[str]:
    """The browser log's warnings and errors since the last call."""
    return [
        f"{e['level']}: {e['message']}"
        for e in driver.get_log("browser")
        if e["level"] in ("WARNING", "SEVERE")
    ]


def _open(driver: Any, page: Path) -> None:
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


#: The JavaScript that lists every link of the page: (href attribute, resolved URL). An SVG
#: ``<a>`` with only ``xlink:title`` is Graphviz's tooltip, not a link; an HTML one must link.
_LINKS = """
return Array.from(document.querySelectorAll('a')).filter(a =>
  !(a instanceof SVGElement) || a.hasAttribute('xlink:href') || a.hasAttribute('href')
).map(a => {
  const raw = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
  return [raw, raw ? new URL(raw, document.baseURI).href : ''];
});
"""


def _check_links(driver: Any, page: Path, ids: dict[Path, set[str]]) -> None:
    for raw, url in driver.execute_script(_LINKS):
        assert raw, f"{page.name}: a link without a target"
        if url.startswith("https://www.rfc-editor.org/rfc/"):
            continue  # another RFC than 3261, which the site does not ship
        assert url.startswith("file://"), f"{page.name}: {raw} leaves the site"
        path, _, frag = url.removeprefix("file://").partition("#")
        target = Path(path)
        assert target.is_file(), f"{page.name}: {raw} -> {target}"
        if frag and target.suffix == ".html":
            if target not in ids:
                ids[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text("utf-8")))
            assert frag in ids[target], f"{page.name}: {raw}: no id {frag} in {target.name}"


def _kind(page: Path) -> str:
    return page.stem.split("-")[0]


def test_every_page_loads_cleanly_and_every_link_resolves(
    browser: Any, site: Path, shots: Path
) -> None:
    pages = sorted((site / "en").glob("*.html")) + sorted((site / "zh").glob("*.html"))
    assert len(pages) > 40
    ids: dict[Path, set[str]] = {}
    shot: set[str] = set()
    _problems(browser)
    for page in [site / "index.html", *pages]:
        _open(browser, page)
        assert _problems(browser) == [], page
        if page.parent == site:
            assert browser.current_url.endswith("/en/index.html")  # the entry opens --lang
            continue
        _check_links(browser, page, ids)
        kind = f"{page.parent.name}-{_kind(page)}"
        if kind not in shot and page.stem not in ("scenario-busy", "model-dialog"):
            shot.add(kind)
            browser.save_screenshot(str(shots / f"{kind}-{page.stem}.png"))
    assert {"en-index", "en-model", "en-timers", "en-abnf", "en-scenario", "en-glossary"} <= shot


def test_the_language_switch_works_on_every_page(browser: Any, site: Path) -> None:
    for page in sorted((site / "en").glob("*.html")):
        _open(browser, page)
        browser.find_element(By.ID, "lang-switch").click()
        WebDriverWait(browser, 10).until(lambda d: "/zh/" in d.current_url)
        assert browser.current_url.endswith(f"/zh/{page.name}")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
        nav = browser.find_element(By.TAG_NAME, "nav").text
        assert "状态机" in nav and "定时器" in nav and "术语表" in nav, page.name
        browser.find_element(By.ID, "lang-switch").click()
        WebDriverWait(browser, 10).until(lambda d: "/en/" in d.current_url)
        assert browser.current_url.endswith(f"/en/{page.name}")
        assert "Timers" in browser.find_element(By.TAG_NAME, "nav").text
    assert _problems(browser) == []


def _flat(text: str) -> str:
    return " ".join(text.split())


def _edge(driver: Any, source: str, dest: str) -> Any:
    """The drawn edge source -> dest of the diagram shown."""
    for g in driver.find_elements(By.CSS_SELECTOR, "svg.diagram.shown g.edge[data-edge]"):
        title = g.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        if title == f"{source}->{dest}":
            return g
    raise AssertionError(f"no edge {source}->{dest}")


def test_clicking_a_transition_shows_its_rfc_text(browser: Any, site: Path, shots: Path) -> None:
    _open(browser, site / "en" / "model-invite_client.html")
    edge = _edge(browser, "Calling", "Proceeding")
    edge.find_element(By.TAG_NAME, "text").click()
    detail = browser.find_element(By.ID, "detail")
    rfc = _flat(browser.find_element(By.ID, "detail-rfc").text)
    # RFC 3261 17.1.1.2, as printed.
    assert rfc.startswith("17.1.1.2 Formal Description")
    assert (
        'If the client transaction receives a provisional response while in the "Calling" '
        'state, it transitions to the "Proceeding" state.'
    ) in rfc
    assert "Calling → Proceeding" in detail.text and "17.1.1.2" in detail.text
    browser.save_screenshot(str(shots / "en-model-clicked-transition.png"))
    # A state: its explanation and its section's text.
    node = browser.find_element(By.CSS_SELECTOR, 'svg.diagram.shown g.node[data-state="Completed"]')
    node.find_element(By.TAG_NAME, "text").click()
    assert browser.find_element(By.CSS_SELECTOR, "#detail h3").text == "Completed"
    assert "timer D" in _flat(browser.find_element(By.ID, "detail-rfc").text)
    assert _problems(browser) == []


def _timers(driver: Any) -> dict[str, tuple[str, str]]:
    """The running timers shown: name -> (interval, remaining)."""
    out = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#timer-rows tr"):
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        out[cells[0]] = (cells[1], cells[2])
    return out


def _fire(driver: Any, event: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'#events button[data-event="{event}"]').click()


def _highlighted(driver: Any) -> list[str]:
    nodes = driver.find_elements(By.CSS_SELECTOR, "svg.diagram.shown g.node.current")
    return [n.get_attribute("data-state") for n in nodes]


def test_firing_events_moves_the_highlight_and_the_timers(
    browser: Any, site: Path, shots: Path
) -> None:
    """RFC 3261 17.1.1.2 over UDP with T1 = 500 ms: Timer A starts at T1 and Timer B at 64*T1;
    when A fires it is reset to 2*T1; a provisional response moves Calling to Proceeding, where
    the request is no longer retransmitted; a 300-699 response moves to Completed, with Timer
    D at least 32 s; over TCP Timer A is not used (Table 4: "for UDP only")."""
    _open(browser, site / "en" / "model-invite_client.html")
    assert _highlighted(browser) == ["Calling"]
    assert _timers(browser) == {"A": ("0.5 s", "0.5 s"), "B": ("32 s", "32 s")}
    browser.find_element(By.ID, "advance").click()  # Timer A fires
    assert browser.find_element(By.ID, "clock").text == "0.5 s"
    assert _timers(browser)["A"] == ("1 s", "1 s")
    assert _timers(browser)["B"] == ("32 s", "31.5 s")
    assert _highlighted(browser) == ["Calling"]
    _fire(browser, "recv_1xx")
    assert _highlighted(browser) == ["Proceeding"]
    assert browser.find_element(By.ID, "current").text == "Proceeding"
    assert "A" not in _timers(browser)  # no retransmission in Proceeding
    taken = browser.find_elements(By.CSS_SELECTOR, "svg.diagram.shown g.edge.taken title")
    assert [t.get_attribute("textContent") for t in taken] == ["Calling->Proceeding"]
    browser.find_element(By.ID, "plus1").click()
    assert browser.find_element(By.ID, "clock").text == "1.5 s"
    _fire(browser, "recv_3xx_6xx")
    assert _highlighted(browser) == ["Completed"]
    interval, _ = _timers(browser)["D"]
    assert float(interval.removesuffix(" s")) >= 32
    browser.save_screenshot(str(shots / "en-model-fired.png"))
    # Over TCP: no Timer A; Timer B is still 64*T1; with T1 = 1 s it is 64 s.
    Select(browser.find_element(By.ID, "transport")).select_by_value("tcp")
    assert _highlighted(browser) == ["Calling"] and set(_timers(browser)) == {"B"}
    t1 = browser.find_element(By.ID, "t1")
    t1.clear()
    t1.send_keys("1\n")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", t1)
    assert _timers(browser)["B"] == ("64 s", "64 s")
    assert _problems(browser) == []


def test_the_trapezoid_plays_to_f14(browser: Any, site: Path, shots: Path) -> None:
    _open(browser, site / "en" / "scenario-trapezoid.html")
    assert browser.find_element(By.ID, "count").text == "0 / 15"
    browser.find_element(By.ID, "step").click()
    assert browser.find_element(By.ID, "step-label").text == "F1 INVITE"
    assert browser.find_element(By.ID, "message").text.startswith("INVITE sip:bob@biloxi.com")
    Select(browser.find_element(By.ID, "speed")).select_by_value("60")
    browser.find_element(By.ID, "play").click()
    try:
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "count").text == "15 / 15")
    except TimeoutException:
        pytest.fail(f"stopped at {browser.find_element(By.ID, 'count').text}")
    assert browser.find_element(By.ID, "step-label").text == "F14 200 OK"
    assert browser.find_element(By.ID, "message").text.startswith("SIP/2.0 200 OK")
    hidden = browser.find_elements(By.CSS_SELECTOR, "svg.ladder g.msg.hidden")
    assert hidden == []
    states = {
        td.get_attribute("data-host-state"): td.text
        for td in browser.find_elements(By.CSS_SELECTOR, "[data-host-state]")
    }
    assert states["alice"] != "—" and states["bob"] != "—"  # the UAs' machines moved
    browser.save_screenshot(str(shots / "en-scenario-played.png"))
    assert _problems(browser) == []


def test_the_timer_calculator_follows_t1(browser: Any, site: Path) -> None:
    """Table 4: Timer B = 64*T1, Timer E starts at T1 and doubles up to T2, Timer K = T4."""
    _open(browser, site / "en" / "timers.html")

    def cell(timer: str, column: str) -> str:
        return str(
            browser.find_element(By.CSS_SELECTOR, f'tr[data-timer="{timer}"] .{column}').text
        )

    assert cell("B", "udp") == "32 s" and cell("K", "udp") == "5 s" and cell("K", "tcp") == "0 s"
    t1 = browser.find_element(By.ID, "t1")
    t1.clear()
    t1.send_keys("2")
    assert cell("B", "udp") == "128 s"
    # E fires at 2, 2+4, 6+4 ... (T2 = 4 s caps the interval).
    assert cell("E", "sequence").startswith("2 s, 6 s, 10 s, 14 s")
    assert _problems(browser) == []


def test_the_abnf_links_go_rule_to_rule(browser: Any, site: Path) -> None:
    _open(browser, site / "en" / "abnf.html")
    via = browser.find_element(By.ID, "r-via")
    via.find_element(By.CSS_SELECTOR, 'a[href="#r-via-parm"]').click()
    assert browser.current_url.endswith("#r-via-parm")
    target = browser.find_element(By.ID, "r-via-parm")
    assert target.text.startswith("via-parm")
    box = browser.find_element(By.ID, "filter")
    box.send_keys("cseq")
    shown = [
        d.get_attribute("data-name")
        for d in browser.find_elements(By.CSS_SELECTOR, "div.rule")
        if d.is_displayed()
    ]
    assert "cseq" in shown and "via" not in shown
    assert _problems(browser) == []


def test_nothing_was_fetched_from_the_network(browser: Any, site: Path) -> None:
    """The pages' resources (scripts, styles, images) are all files of the site."""
    _open(browser, site / "en" / "model-invite_session_client.html")
    urls = browser.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href], img[src], "
        "iframe[src], object[data], embed[src], image')).map(e => e.src || e.href || e.data "
        "|| e.getAttribute('href') || e.getAttribute('xlink:href'))"
    )
    assert len(urls) == 2 and all(u.startswith("file://") for u in urls), urls
    # and the page's script ran: the machine is in its initial state, its events offered.
    assert browser.find_element(By.ID, "current").text == "Calling"
    assert browser.find_elements(By.CSS_SELECTOR, "#events button.transition")
