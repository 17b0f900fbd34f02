"""One page per model: its diagram under each profile (clickable: a state or transition shows
its explanation, its timers and the RFC 3261 text of the section it cites), the controls that
fire events, the (state, event) table, and RFC 3261 against RFC 6026 side by side."""

from __future__ import annotations

from pathlib import Path

from sipfsm.model.loader import PROFILES, Machine, TimerTable, Vocabulary
from sipfsm.site.i18n import Catalog
from sipfsm.site.layout import e, page, section_blocks
from sipfsm.site.model_data import (
    cited_sections,
    external_url,
    machine_data,
    section_anchor,
)
from sipfsm.site.svg import interactive_svg


def file_name(machine: Machine) -> str:
    """The page of a model: ``model-invite_client.html``."""
    return f"model-{machine.name}.html"


def has_profiles(machine: Machine) -> bool:
    """Whether RFC 6026 (or RFC 4320) changes this machine: a state or rule of one profile."""
    everything = frozenset(PROFILES)
    return any(s.profiles != everything for s in machine.states) or any(
        r.profiles != everything for r in machine.rules
    )


def _table(machine: Machine, profile: str, cat: Catalog) -> str:
    """The (state, event) table: one row per event, one column per state, every pair decided."""
    states = machine.state_names(profile)
    head = "".join(f"<th>{e(s)}</th>" for s in states)
    rows = []
    for event in machine.events:
        cells = []
        for state in states:
            parts = []
            kinds = set()
            for rule in machine.decide(state, event, profile):
                kinds.add(rule.kind)
                what = (
                    f"→ {rule.dest}" if rule.kind == "transition" else cat.ui(f"kind_{rule.kind}")
                )
                guard = f" [{cat.guard(rule.guard)}]" if rule.guard else ""
                tip = ", ".join(str(a) for a in rule.actions) + f" ({rule.section})"
                parts.append(f'<span title="{e(tip)}">{e(what + guard)}</span>')
            kind = kinds.pop() if len(kinds) == 1 else "transition"
            cells.append(f'<td class="{kind}">{"<br>".join(parts)}</td>')
        rows.append(
            f"<tr><th>{e(cat.event(event))}<br><code>{e(event)}</code></th>{''.join(cells)}</tr>"
        )
    return (
        f'<div class="table-wrap" data-profile="{profile}"><table class="pairs">'
        f"<tr><th>{e(cat.ui('event'))} \\ {e(cat.ui('state'))}</th>{head}</tr>"
        f"{''.join(rows)}</table></div>"
    )


def _compare(machine: Machine, cat: Catalog, vocab: Vocabulary) -> str:
    """RFC 3261 as published beside RFC 3261 as amended: the states and rules of one profile
    only, in two columns."""
    columns = []
    for profile in PROFILES:
        items = []
        for s in machine.states:
            if s.profiles == frozenset({profile}):
                items.append(f"<li><b>{e(cat.ui('state'))} {e(s.name)}</b> ({e(s.section)})</li>")
        for r in machine.rules:
            if r.profiles == frozenset({profile}):
                what = f"→ {r.dest}" if r.kind == "transition" else cat.ui(f"kind_{r.kind}")
                sources = r.source
                guard = f" [{cat.guard(r.guard)}]" if r.guard else ""
                items.append(
                    f"<li>{e(sources)} · {e(cat.event(r.event))}{e(guard)} {e(what)}"
                    f" <small>({e(r.section)})</small></li>"
                )
        css = "only-3261" if profile == PROFILES[0] else "only-6026"
        columns.append(
            f'<div class="{css}"><h3>{e(cat.ui("profile_" + profile))}</h3>'
            f"<ul>{''.join(items) or '<li>—</li>'}</ul></div>"
        )
    return (
        f'<h2 id="compare">{e(cat.ui("compare"))}</h2><p>{e(cat.ui("compare_help"))} '
        f'<button id="side-by-side">{e(cat.ui("side_by_side"))}</button></p>'
        f'<div class="compare">{"".join(columns)}</div>'
    )


def diagrams(machine: Machine, vocab: Vocabulary, directory: Path | None = None) -> str:
    """The interactive diagrams of every profile, one after the other."""
    return "\n".join(interactive_svg(machine, p, vocab, directory) for p in PROFILES)


def model_page(
    machine: Machine,
    cat: Catalog,
    vocab: Vocabulary,
    table: TimerTable,
    directory: Path | None = None,
    svgs: str | None = None,
) -> str:
    """The whole page of one model in ``cat``'s language (``svgs``: its diagrams, already
    drawn by :func:`diagrams`, when another language's page drew them)."""
    svgs = svgs if svgs is not None else diagrams(machine, vocab, directory)
    profiles = "".join(
        f'<option value="{p}">{e(cat.ui("profile_" + p))}</option>' for p in PROFILES
    )
    base = table.base
    controls = f"""
<div class="controls">
<label>{e(cat.ui("profile"))} <select id="profile">{profiles}</select></label>
<label>{e(cat.ui("transport"))} <select id="transport"><option value="udp">UDP</option>
<option value="tcp">TCP</option></select></label>
<label>T1 <input id="t1" type="number" step="0.1" min="0.01" value="{base["T1"]}"></label>
<label>T2 <input id="t2" type="number" step="0.5" min="0.01" value="{base["T2"]}"></label>
<label>T4 <input id="t4" type="number" step="0.5" min="0.01" value="{base["T4"]}"></label>
</div>
<div class="status">{e(cat.ui("state"))}: <b id="current"></b> · {e(cat.ui("clock"))}:
<b id="clock"></b></div>
<p>{e(cat.ui("fire_help"))}</p>
<div id="events"></div>
<div class="controls"><button id="advance">{e(cat.ui("next_timer"))}</button>
<button id="plus1">{e(cat.ui("plus1"))}</button>
<button id="reset">{e(cat.ui("reset"))}</button></div>
<table id="timers"><tr><th>{e(cat.ui("timer"))}</th><th>{e(cat.ui("interval"))}</th>
<th>{e(cat.ui("remaining"))}</th></tr><tbody id="timer-rows"></tbody></table>
"""
    compare = _compare(machine, cat, vocab) if has_profiles(machine) else ""
    tables = "\n".join(
        f"<h3>{e(cat.ui('profile_' + p))}</h3>{_table(machine, p, cat)}" for p in PROFILES
    )
    sections = section_blocks(cat, cited_sections(machine), section_anchor, external_url)
    figure = f" · {e(machine.figure)}" if machine.figure else ""
    body = f"""
<p class="sub">{e(machine.title)} · RFC 3261 §{e(machine.section)}{figure}</p>
<p>{e(cat.ui("model_help"))}</p>
<div class="explorer">
<div id="diagrams">{svgs}</div>
<div>{controls}
<h2>{e(cat.ui("details"))}</h2>
<div id="detail"><p>{e(cat.ui("click_help"))}</p></div>
<h2>{e(cat.ui("trace"))}</h2>
<pre id="trace"></pre>
</div>
</div>
{compare}
<h2 id="table">{e(cat.ui("pairs"))}</h2>
<p>{e(cat.ui("pairs_help"))}</p>
{tables}
<h2 id="sections">{e(cat.ui("sections"))}</h2>
{sections}
"""
    data = {
        "model-data": machine_data(machine, vocab, table),
        "labels-data": cat.labels(machine),
        "ui-data": cat.ui_all(),
    }
    return page(cat, file_name(machine), cat.title(machine), body, kind="model", data=data)
