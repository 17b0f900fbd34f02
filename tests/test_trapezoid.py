"""RFC 3261 Figure 1 (section 4), played by ``sipfsm simulate trapezoid``, pinned message by
message from the RFC's text: the figure's F1-F14, the Via stack of 16.6 item 8 and its
unwinding by 16.7 item 3, Max-Forwards per hop (16.6 item 3), the To tag from F6 on (12.1.1),
the 100 Trying of each hop (16.2, 17.2.1), and the ACK and BYE end to end ("the ACK ... is sent
directly from Alice's softphone to Bob's SIP phone, bypassing the two proxies", section 4).

The expectations are written from Figure 1 and section 4, not from the models; the golden
ladder is compared in memory (nothing is written into the working tree).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sipfsm import Request, Response
from sipfsm.sim.network import Datagram
from sipfsm.sim.scenario import Played, play
from sipfsm.sim.scenario_ladder import figure_numbers, labels, text_ladder
from sipfsm.sim.scenario_svg import svg_ladder

GOLDEN = Path(__file__).parent / "golden" / "trapezoid.txt"

#: Figure 1, arrow by arrow: (F-number, from, to, method or status).
FIGURE_1 = [
    ("F1", "alice", "atlanta", "INVITE"),
    ("F2", "atlanta", "biloxi", "INVITE"),
    ("F3", "atlanta", "alice", 100),
    ("F4", "biloxi", "bob", "INVITE"),
    ("F5", "biloxi", "atlanta", 100),
    ("F6", "bob", "biloxi", 180),
    ("F7", "biloxi", "atlanta", 180),
    ("F8", "atlanta", "alice", 180),
    ("F9", "bob", "biloxi", 200),
    ("F10", "biloxi", "atlanta", 200),
    ("F11", "atlanta", "alice", 200),
    ("F12", "alice", "bob", "ACK"),
    ("F13", "bob", "alice", "BYE"),
    ("F14", "alice", "bob", 200),
]
HOSTS = {"alice": "pc33.atlanta.com", "atlanta": "atlanta.com", "biloxi": "biloxi.com"}


@cache
def _played() -> Played:
    return play("trapezoid")


def _figure() -> dict[str, Datagram]:
    played = _played()
    return {f: g for f, g in zip(figure_numbers(played), played.log, strict=True) if f is not None}


def _kind(g: Datagram) -> str | int:
    m = g.message
    return m.status if isinstance(m, Response) else str(m.method)


def _vias(f: str) -> list[str]:
    """The sent-by hosts of the Via stack of message ``f``, top first."""
    return [v.host for v in _figure()[f].message.via]


def test_f1_to_f14_in_the_figure_s_order_between_the_figure_s_hosts() -> None:
    got = [(f, g.src, g.dst, _kind(g)) for f, g in _figure().items()]
    assert got == FIGURE_1


def test_the_only_message_beyond_the_figure_is_bob_s_own_100() -> None:
    """17.2.1: Bob's INVITE server transaction sends a 100; Figure 1 draws none (a UAS whose TU
    answers within 200 ms may omit it). It goes one hop, to biloxi.com, and is not numbered."""
    played = _played()
    extra = [g for f, g in zip(figure_numbers(played), played.log, strict=True) if f is None]
    assert [(g.src, g.dst, _kind(g)) for g in extra] == [("bob", "biloxi", 100)]
    assert "(100 Trying)" in labels(played)


def test_each_proxy_pushes_its_via_on_the_invite() -> None:
    """16.6 item 8: each proxy inserts a Via with its own sent-by on top."""
    assert _vias("F1") == [HOSTS["alice"]]
    assert _vias("F2") == [HOSTS["atlanta"], HOSTS["alice"]]
    assert _vias("F4") == [HOSTS["biloxi"], HOSTS["atlanta"], HOSTS["alice"]]


def test_the_responses_unwind_the_via_stack_hop_by_hop() -> None:
    """8.2.6.2: Bob copies the Vias (F6, F9); 16.7 item 3: each proxy removes the top one."""
    for first, second, third in (("F6", "F7", "F8"), ("F9", "F10", "F11")):
        assert _vias(first) == _vias("F4")
        assert _vias(second) == _vias("F2")
        assert _vias(third) == _vias("F1")
    figure = _figure()
    assert [v.branch for v in figure["F6"].message.via] == [
        v.branch for v in figure["F4"].message.via
    ]


def test_every_branch_is_unique_and_carries_the_magic_cookie() -> None:
    """8.1.1.7, 16.6 item 8: a new branch per hop, each starting with z9hG4bK."""
    branches = [v.branch for v in _figure()["F4"].message.via]
    assert len(set(branches)) == 3
    assert all(b is not None and b.startswith("z9hG4bK") for b in branches)


def test_max_forwards_is_decremented_per_hop() -> None:
    """8.1.1.6: 70 from the UAC; 16.6 item 3: one less at each proxy."""
    figure = _figure()
    assert [figure[f].message.max_forwards for f in ("F1", "F2", "F4")] == [70, 69, 68]


def test_the_request_uri_is_retargeted_by_biloxi_only() -> None:
    """16.5-16.6 item 2: atlanta.com is not responsible for biloxi.com and forwards to the
    Request-URI; biloxi.com's location service gives Bob's Contact."""
    figure = _figure()
    uris = [str(figure[f].message.uri) for f in ("F1", "F2", "F4")]  # type: ignore[union-attr]
    assert uris == ["sip:bob@biloxi.com", "sip:bob@biloxi.com", "sip:bob@192.0.2.4"]


def test_the_to_tag_appears_from_f6_on_and_stays() -> None:
    """8.2.6.2, 12.1.1: Bob's responses carry his To tag; the 100s carry none (8.2.6.2 leaves
    a 100 without one, 17.2.1); Alice's ACK uses it (13.2.2.4) and Bob's BYE has it in From."""
    figure = _figure()
    for f in ("F1", "F2", "F3", "F4", "F5"):
        to = figure[f].message.to
        assert to is not None and to.tag is None, f
    tag = figure["F6"].message.to.tag  # type: ignore[union-attr]
    assert tag
    for f in ("F7", "F8", "F9", "F10", "F11", "F12"):
        assert figure[f].message.to.tag == tag, f  # type: ignore[union-attr]
    assert figure["F13"].message.from_.tag == tag  # type: ignore[union-attr]
    assert figure["F14"].message.from_.tag == tag  # type: ignore[union-attr]


def test_one_call_id_throughout() -> None:
    """8.1.1.4, 12: one Call-ID for the INVITE, its responses, the ACK and the BYE."""
    assert len({g.message.call_id for g in _figure().values()}) == 1


def test_each_100_trying_is_the_hop_s_own() -> None:
    """16.2, 17.2.1, 16.7 item 5: every proxy answers the INVITE it received with its own 100
    (Via stack as received) and forwards none."""
    figure = _figure()
    assert _vias("F3") == _vias("F1")
    assert _vias("F5") == _vias("F2")
    assert figure["F3"].sent == figure["F1"].arrives
    assert figure["F5"].sent == figure["F2"].arrives
    played = _played()
    hundreds = [
        g for g in played.log if isinstance(g.message, Response) and g.message.status == 100
    ]
    assert {(g.src, g.dst) for g in hundreds} == {
        ("atlanta", "alice"),
        ("biloxi", "atlanta"),
        ("bob", "biloxi"),
    }


def test_ack_and_bye_go_end_to_end_without_record_route() -> None:
    """Section 4: no proxy Record-Routes, so the ACK (F12) and the BYE (F13) go directly
    between the phones, to the Contacts of F1 and F9 (12.1.2 remote target), one Via each."""
    figure = _figure()
    assert all(not g.message.get_all("Record-Route") for g in figure.values())
    ack, bye = figure["F12"].message, figure["F13"].message
    assert isinstance(ack, Request) and isinstance(bye, Request)
    invite, ok = figure["F1"].message, figure["F9"].message
    assert str(ack.uri) == str(ok.contact[0].uri)  # type: ignore[union-attr]
    assert str(bye.uri) == str(invite.contact[0].uri)  # type: ignore[union-attr]
    assert len(ack.via) == len(bye.via) == 1
    assert not ack.route and not bye.route


def test_the_call_ends_with_every_element_quiet_and_nothing_refused() -> None:
    """Every transaction and timer is done (Timer C stopped by the 200, 16.7 item 2; L/M,
    K/J run out) and no element refused a message."""
    played = _played()
    assert played.network.quiet()
    for host in played.network.hosts.values():
        assert getattr(host.element, "errors", []) == [], host.name


def test_the_simulation_is_deterministic() -> None:
    """Same scenario, same bytes, same instants."""
    again = play("trapezoid")
    assert [(g.sent, g.src, g.dst, g.data) for g in again.log] == [
        (g.sent, g.src, g.dst, g.data) for g in _played().log
    ]


def test_the_committed_ladder_is_current() -> None:
    """The golden ladder (regenerate: sipfsm simulate trapezoid > tests/golden/trapezoid.txt)."""
    assert text_ladder(_played()) == GOLDEN.read_text(encoding="utf-8")


def test_the_ladder_shows_f1_to_f14_in_order() -> None:
    """One arrow per message, labelled with the figure's numbers and first lines."""
    text = text_ladder(_played())
    positions = [text.index(f"{f} ") for f, *_ in FIGURE_1]
    assert positions == sorted(positions)
    assert "F6 180 Ringing" in text and "F12 ACK" in text and "F14 200 OK" in text


def test_the_svg_ladder_links_every_message_to_its_full_text() -> None:
    """The SVG ladder: well-formed, F1-F14 in order, each arrow a link to the message's full
    text (drawn below, and its tooltip), the UAs' session states drawn; the committed one is
    current (compared in memory)."""
    import xml.etree.ElementTree as ET

    played = _played()
    svg = svg_ladder(played)
    assert svg == (GOLDEN.parent / "trapezoid.svg").read_text(encoding="utf-8")
    root = ET.fromstring(svg.encode())
    ns = "{http://www.w3.org/2000/svg}"
    links = root.findall(f"{ns}a")
    assert len(links) == len(played.log)
    ids = {g.get("id") for g in root.iter(f"{ns}g")}
    for link, g in zip(links, played.log, strict=True):
        assert link.get("href") == f"#m{g.n}" and f"m{g.n}" in ids
        tip = link.find(f"{ns}g/{ns}title")
        assert tip is not None and tip.text is not None
        assert tip.text == g.data.decode().replace("\r\n", "\n")  # lines as sent
    words = [t.text or "" for t in root.iter(f"{ns}text")]
    arrows = [w for w in words if w.split(" ")[0].startswith("F")]
    assert [w.split(" ")[0] for w in arrows][:14] == [f for f, *_ in FIGURE_1]
    assert "Confirmed" in words or "Established" in " ".join(words)
