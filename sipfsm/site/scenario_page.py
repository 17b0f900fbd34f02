"""The simulated scenarios as animated ladders: RFC 3261 Figure 1 (the trapezoid of section 4,
F1-F14) and the others of ``sipfsm/sim/scenarios/``, played on the virtual network by
:func:`sipfsm.sim.scenario.play` exactly as ``sipfsm simulate`` plays them.

The page draws the whole ladder (one column per host, one arrow per datagram, numbered as
:mod:`sipfsm.sim.scenario_ladder` numbers them) and its script reveals it message by message,
showing each message's bytes and the session state of every UA, as its machines entered them.
"""

from __future__ import annotations

from typing import Any

from sipfsm.sim.scenario import Played, play, scenario_names
from sipfsm.sim.scenario_ladder import labels
from sipfsm.site.i18n import Catalog
from sipfsm.site.layout import e, page

COLUMN = 170
ROW = 30
TOP = 64
LEFT = 90


def file_name(name: str) -> str:
    """The page of a scenario: ``scenario-trapezoid.html``."""
    return f"scenario-{name}.html"


def _states(played: Played) -> list[list[tuple[str, str]]]:
    """For each row of the log, the (host, state) of each UA session state entered before the
    row after it was sent (what the UA's machines did on that message)."""
    rows: list[list[tuple[str, str]]] = [[] for _ in played.log]
    sent = [g.sent for g in played.log]
    for name, host in played.network.hosts.items():
        for step in getattr(host.element, "trace", []):
            if not step.what.startswith("enter "):
                continue
            later = [i for i, t in enumerate(sent) if t > step.t]
            row = later[0] - 1 if later else len(sent) - 1
            rows[max(row, 0)].append((name, step.what.removeprefix("enter ")))
    return rows


def scenario_data(played: Played) -> dict[str, Any]:
    """What the page's script plays: every message with its label, hosts, times and bytes."""
    states = _states(played)
    return {
        "name": played.name,
        "columns": [name for name, _ in played.columns],
        "messages": [
            {
                "label": label,
                "from": g.src,
                "to": g.dst,
                "sent": round(g.sent, 6),
                "lost": g.lost,
                "message": g.data.decode("utf-8", "replace").replace("\r\n", "\n"),
                "states": states[i],
            }
            for i, (g, label) in enumerate(zip(played.log, labels(played), strict=True))
        ],
    }


def ladder_svg(played: Played) -> str:
    """The ladder as inline SVG, one ``g.msg`` per datagram (``data-row``) for the player."""
    columns = played.columns
    where = {name: i for i, (name, _) in enumerate(columns)}
    width = LEFT + COLUMN * len(columns)
    bottom = TOP + (len(played.log) + 1) * ROW
    out = [
        f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{bottom + 10}" width="{width}" font-family="monospace" font-size="12">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for i, (name, label) in enumerate(columns):
        x = LEFT + i * COLUMN + COLUMN // 2
        out.append(f'<text x="{x}" y="24" text-anchor="middle" font-weight="bold">{e(name)}</text>')
        out.append(f'<text x="{x}" y="40" text-anchor="middle" fill="#555">{e(label)}</text>')
        out.append(f'<line x1="{x}" y1="{TOP - 14}" x2="{x}" y2="{bottom}" stroke="#999"/>')
    for row, (g, text) in enumerate(zip(played.log, labels(played), strict=True)):
        y = TOP + row * ROW + 10
        a = LEFT + where[g.src] * COLUMN + COLUMN // 2
        b = LEFT + where[g.dst] * COLUMN + COLUMN // 2
        dash = ' stroke-dasharray="4,3"' if g.lost else ""
        out.append(
            f'<g class="msg" data-row="{row}"><text x="4" y="{y}" fill="#555">{g.sent:7.3f}</text>'
            f'<line x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="black"{dash} '
            f'marker-end="url(#arrow)"/><text x="{min(a, b) + 8}" y="{y - 5}">{e(text)}</text>'
            "</g>"
        )
    out.append("</svg>")
    return "\n".join(out)


def scenario_page(played: Played, cat: Catalog) -> str:
    """The page of one played scenario in ``cat``'s language."""
    data = played.data["scenario"]
    hosts = "".join(
        f'<tr><td>{e(name)}</td><td>{e(label)}</td><td data-host-state="{e(name)}">—</td></tr>'
        for name, label in played.columns
    )
    figure = data.get("figure", "")
    body = f"""
<p class="sub">{e(figure)} · RFC 3261 §{e(data.get("section", "4"))}</p>
<p>{e(cat.ui("ladder_help"))}</p>
<div class="controls">
<button id="play">{e(cat.ui("play"))}</button> <button id="back">{e(cat.ui("back"))}</button>
<button id="step">{e(cat.ui("step"))}</button> <button id="end">{e(cat.ui("to_end"))}</button>
<label>{e(cat.ui("speed"))} <select id="speed"><option value="700">1x</option>
<option value="250">3x</option><option value="60">10x</option></select></label>
<span><b id="count"></b> · <b id="step-label"></b></span>
</div>
<div class="ladder-box">
<div>{ladder_svg(played)}</div>
<div>
<h2>{e(cat.ui("elements"))}</h2>
<table><tr><th>{e(cat.ui("host"))}</th><th>{e(cat.ui("role"))}</th>
<th>{e(cat.ui("session_state"))}</th></tr>{hosts}</table>
<h2>{e(cat.ui("message"))}</h2>
<pre id="message"></pre>
</div>
</div>
"""
    title = f"{data.get('title', played.name)}"
    payload = {"scenario-data": scenario_data(played), "ui-data": cat.ui_all()}
    return page(cat, file_name(played.name), title, body, kind="scenario", data=payload)


def play_all() -> list[Played]:
    """Every shipped scenario, played (deterministic: each has its seed)."""
    return [play(name) for name in scenario_names()]


def scenarios_index(played: list[Played], cat: Catalog) -> str:
    """The list of the scenarios."""
    cards = "".join(
        f'<div class="card"><h3><a href="{file_name(p.name)}">{e(p.name)}</a></h3>'
        f"<p>{e(p.data['scenario'].get('title', ''))} · {len(p.log)} "
        f"{e(cat.ui('messages'))}</p></div>"
        for p in played
    )
    body = f'<p>{e(cat.ui("scenarios_help"))}</p><div class="cards">{cards}</div>'
    return page(cat, "scenarios.html", cat.ui("nav_scenarios"), body)
