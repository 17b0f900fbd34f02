"""A model's diagram made interactive: the SVG Graphviz draws from the DOT writer
(:mod:`sipfsm.render.diagram`), with each state and transition marked for the page's script
and every RFC link pointing at the section's text on the page instead of rfc-editor.org.

Graphviz writes one ``<g class="node">`` per state (its ``<title>`` is the state's name) and
one ``<g class="edge">`` per edge, not in the order of the DOT source; so each edge line of the
DOT source gets an ``id`` first (``edge-start``, ``edge-0`` ...: the start arrow, then the edges
:func:`sipfsm.site.model_data.svg_edge_order` lists), which Graphviz copies to the SVG. The
marking checks each edge's endpoints against that list, so a change of the DOT writer cannot
silently mislabel a transition.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from sipfsm.errors import SipfsmError
from sipfsm.model.loader import Machine, Vocabulary
from sipfsm.render.diagram import render, to_dot
from sipfsm.site.model_data import section_anchor, svg_edge_order

_GROUP = re.compile(r'<g id="([^"]+)" class="(node|edge)">\s*<title>([^<]*)</title>')
_EDGE_LINE = re.compile(r"^  (\S+) -> (\S+) \[", re.M)
_HREF = re.compile(r'xlink:href="https://www\.rfc-editor\.org/rfc/rfc(\d+)(?:#section-([^"]*))?"')
_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"')


def _anchor(match: re.Match[str]) -> str:
    rfc, number = match.group(1), html.unescape(match.group(2) or "")
    ref = number if rfc == "3261" else f"RFC {rfc} {number}".strip()
    return f'xlink:href="#{section_anchor(ref or rfc)}"'


def interactive_svg(
    machine: Machine, profile: str, vocab: Vocabulary, directory: Path | None = None
) -> str:
    """The diagram of ``machine`` under ``profile`` as inline SVG for a page: states carry
    ``data-state``, edges ``data-edge`` (their index in :func:`svg_edge_order`), the start
    arrow ``data-start``; links go to ``#sec-...`` anchors."""
    order = svg_edge_order(machine, profile, vocab)
    count = {"n": -1}

    def edge_id(match: re.Match[str]) -> str:
        n = count["n"]
        count["n"] += 1
        return f'{match.group(0)}id="edge-{"start" if n < 0 else n}", '

    dot = _EDGE_LINE.sub(edge_id, to_dot(machine, profile, directory=directory))
    if count["n"] != len(order):
        raise SipfsmError(
            f"{machine.name} ({profile}): {count['n']} DOT edges, expected "
            f"{len(order)} (sipfsm/site/model_data.py svg_edge_order)"
        )
    svg = render(dot, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = _SIZE.sub(f'<svg class="diagram" data-profile="{profile}"', svg, count=1)

    def mark(match: re.Match[str]) -> str:
        gid, kind, title = (
            html.unescape(match.group(1)),
            match.group(2),
            html.unescape(match.group(3)),
        )
        head = match.group(0)
        if kind == "node":
            if title == "__start__":
                return head.replace('class="node"', 'class="node start"', 1)
            return head.replace('class="node"', f'class="node" data-state="{title}"', 1)
        if gid == "edge-start":
            return head.replace('class="edge"', 'class="edge" data-start="1"', 1)
        n = int(gid.removeprefix("edge-"))
        edge = order[n]
        if title != f"{edge.source}->{edge.dest}":
            raise SipfsmError(
                f"{machine.name} ({profile}): SVG edge {gid} is {title!r}, expected "
                f"{edge.source}->{edge.dest} (sipfsm/site/model_data.py svg_edge_order)"
            )
        return head.replace('class="edge"', f'class="edge" data-edge="{n}"', 1)

    svg = _GROUP.sub(mark, svg)
    svg = svg.replace(' id="', f' id="{profile}-')  # two profiles share a page: ids stay unique
    return _HREF.sub(_anchor, svg)
