"""The ladder of a played scenario as SVG: the text ladder's columns, arrows and labels
(:mod:`sipfsm.sim.scenario_ladder`), each arrow linked to the message's full text (drawn below the
ladder, and as the arrow's tooltip), and the UAs' session states where they change.

Deterministic (no clock, no random, fixed geometry): the same scenario gives the same bytes.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from sipfsm.sim.scenario import Played
from sipfsm.sim.scenario_ladder import labels

COLUMN = 190
ROW = 34
TOP = 70
LEFT = 120
TEXT_LINE = 14


def _x(index: int) -> int:
    return LEFT + index * COLUMN


def _states(played: Played) -> dict[int, list[tuple[str, str]]]:
    """Row -> (host, state) of each UA session state entered, at the first row sent after it."""
    out: dict[int, list[tuple[str, str]]] = {}
    sent = [g.sent for g in played.log]
    for name, host in played.network.hosts.items():
        for step in getattr(host.element, "trace", []):
            if not step.what.startswith("enter "):
                continue
            row = next((i for i, t in enumerate(sent) if t >= step.t), len(sent) - 1)
            out.setdefault(row, []).append((name, step.what[len("enter ") :]))
    return out


def svg_ladder(played: Played) -> str:
    """The ladder as an SVG document."""
    columns = played.columns
    where = {name: i for i, (name, _) in enumerate(columns)}
    rows = len(played.log)
    bottom = TOP + (rows + 1) * ROW
    texts = [g.data.decode("utf-8", "replace").split("\r\n") for g in played.log]
    height = bottom + 40 + sum(len(t) + 2 for t in texts) * TEXT_LINE
    width = _x(len(columns) - 1) + COLUMN
    data = played.data["scenario"]
    title = f"{data.get('figure', data['name'])}: {data.get('title', '')}".rstrip(": ")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
        f'<text x="10" y="20" font-size="14">{escape(title)}</text>',
    ]
    for i, (name, label) in enumerate(columns):
        x = _x(i)
        out.append(f'<text x="{x}" y="42" text-anchor="middle">{escape(name)}</text>')
        out.append(f'<text x="{x}" y="56" text-anchor="middle" fill="#555">{escape(label)}</text>')
        out.append(f'<line x1="{x}" y1="{TOP - 6}" x2="{x}" y2="{bottom}" stroke="#999"/>')
    states = _states(played)
    for row, (g, text) in enumerate(zip(played.log, labels(played), strict=True)):
        y = TOP + (row + 1) * ROW
        a, b = _x(where[g.src]), _x(where[g.dst])
        dash = ' stroke-dasharray="4,3"' if g.lost else ""
        full = escape(g.data.decode("utf-8", "replace").replace("\r\n", "\n"))
        out.append(f'<a href="#m{g.n}"><g><title>{full}</title>')
        out.append(f'<text x="6" y="{y}" fill="#555">{g.sent:8.3f}</text>')
        out.append(
            f'<line x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="black"{dash} '
            'marker-end="url(#arrow)"/>'
        )
        out.append(f'<text x="{min(a, b) + 6}" y="{y - 5}">{escape(text)}</text></g></a>')
        for host, state in states.get(row, []):
            x = _x(where[host]) + 4
            out.append(
                f'<text x="{x}" y="{y + 13}" font-size="10" fill="#06c">{escape(state)}</text>'
            )
    y = bottom + 30
    for g, lines in zip(played.log, texts, strict=True):
        out.append(
            f'<g id="m{g.n}"><text x="10" y="{y}" font-weight="bold">#{g.n} '
            f"{escape(g.src)} -&gt; {escape(g.dst)} at {g.sent:.3f}</text>"
        )
        for line in lines:
            if line:
                y += TEXT_LINE
                out.append(f'<text x="24" y="{y}">{escape(line)}</text>')
        out.append("</g>")
        y += 2 * TEXT_LINE
    out.append("</svg>")
    return "\n".join(out) + "\n"
