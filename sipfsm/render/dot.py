"""The DOT writer: the Graphviz source of a model's diagram, built deterministically from the
model data alone (the golden files in ``diagrams/`` are its output, byte for byte).

States are boxes, top to bottom, terminal states at the bottom, like RFC 3261 Figures 5-8
(section 17); the title is the label of a borderless cluster holding the machine, at the top,
and the legend is the graph's own label, at the bottom.
"""

from __future__ import annotations

from pathlib import Path

from sipfsm.errors import ModelError
from sipfsm.model.loader import (
    DEFAULT_PROFILE,
    PROFILES,
    Machine,
    State,
    TimerTable,
    Vocabulary,
    load_timers,
    load_vocabulary,
)
from sipfsm.render.dot_syntax import attr_list, escape, quote
from sipfsm.render.drawing import Edge, absorbed, drawn_edges, state_status
from sipfsm.render.html_labels import (
    edge_colour,
    edge_html,
    edge_tip,
    loop_row,
    state_html,
    tooltip,
)
from sipfsm.render.labels import live_under, make_label
from sipfsm.render.legend import legend
from sipfsm.render.palette import (
    ADDED,
    ADDED_FILL,
    FONT,
    HIGHLIGHT,
    HIGHLIGHT_FILL,
    INK,
    MUTED,
    REMOVED,
    STATE_FILL,
    TERMINAL_FILL,
)
from sipfsm.render.sections import section_title, section_url

_NODE_DEFAULTS = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": STATE_FILL,
    "color": INK,
    "fontname": FONT,
    "fontsize": "13",
    "fontcolor": INK,
    "margin": "0.22,0.08",
    "penwidth": "1.4",
}
_EDGE_DEFAULTS = {
    "color": INK,
    "fontname": FONT,
    "fontsize": "10",
    "fontcolor": INK,
    "arrowsize": "0.8",
    "penwidth": "1.2",
}


def to_dot(
    machine: Machine,
    profile: str = DEFAULT_PROFILE,
    highlight: str | None = None,
    *,
    directory: Path | None = None,
) -> str:
    """The DOT source of ``machine`` under ``profile``, optionally emphasising one state.

    ``directory`` is the models folder the vocabulary and timers come from (default
    ``models/``). The text is byte-stable: same model, same output.
    """
    if profile not in PROFILES:
        raise ModelError(
            machine.file, "profile", f"unknown profile {profile!r} (known: {', '.join(PROFILES)})"
        )
    vocab = load_vocabulary(directory)
    table = load_timers(directory)
    all_edges = drawn_edges(machine, profile, vocab)
    shown = [
        s
        for s in machine.states
        if profile in s.profiles
        or any(e.status == "removed" and s.name in (e.source, e.dest) for e in all_edges)
    ]
    names = [s.name for s in shown]
    statuses = {e.status for e in all_edges}
    statuses |= {state_status(machine, s.name, profile) for s in shown}
    if highlight is not None and highlight not in machine.state_names(profile):
        raise ModelError(
            machine.file,
            "highlight",
            f"unknown state {highlight!r} under profile {profile} "
            f"(states: {', '.join(machine.state_names(profile))})",
        )

    lines = [f"digraph {quote(machine.name)} {{"]
    lines.append(
        "  graph "
        + attr_list(_graph_attrs(machine, legend(machine, profile, table, statuses)))
        + ";"
    )
    lines.append("  node " + attr_list(_NODE_DEFAULTS) + ";")
    lines.append("  edge " + attr_list(_EDGE_DEFAULTS) + ";")
    lines.append("  subgraph cluster_machine {")
    lines.append("  graph " + attr_list(_title_attrs(machine, profile)) + ";")
    lines.extend(_start_lines(machine, vocab, profile, table))
    for state in shown:
        lines.append(_state_line(machine, state, profile, highlight, vocab, all_edges))

    # Terminal states at the bottom, like the RFC figures.
    terminals = [s.name for s in shown if s.terminal]
    if terminals:
        lines.append("  { rank=sink; " + " ".join(quote(n) for n in terminals) + " }")

    # Transitions; those into terminal states last, so they route around the rest. Loops are
    # drawn inside their state (Graphviz does not keep other edges off loop labels).
    terminal_names = set(terminals)
    for edge in sorted(all_edges, key=lambda e: e.dest in terminal_names):
        if edge.source != edge.dest:
            lines.append(_edge_line(edge, profile, highlight))
    lines.append("  }")
    lines.append("}")
    assert all(n in names for e in all_edges for n in (e.source, e.dest))
    return "\n".join(lines) + "\n"


def _graph_attrs(machine: Machine, legend_label: str) -> dict[str, str]:
    """The graph's attributes: top-to-bottom layout, the legend as its label at the bottom."""
    return {
        "rankdir": "TB",
        "newrank": "true",
        "splines": "true",
        "nodesep": "0.7",
        "ranksep": "0.75",
        "pad": "0.3",
        "fontname": FONT,
        "bgcolor": "white",
        "labelloc": "b",
        "labeljust": "l",
        "fontsize": "10",
        "fontcolor": INK,
        "label": legend_label,
        "tooltip": f"{machine.title} ({section_title(machine.section)})",
    }


def _title_attrs(machine: Machine, profile: str) -> dict[str, str]:
    """The borderless cluster holding the machine: its title, section and profile at the top."""
    return {
        "peripheries": "0",
        "labelloc": "t",
        "labeljust": "c",
        "fontsize": "16",
        "label": f"<<B>{escape(machine.title)}</B>"
        f'<BR/><FONT POINT-SIZE="11" COLOR="{MUTED}">'
        f"{escape(section_title(machine.section))} · profile {profile}</FONT>>",
        "tooltip": f"{machine.title} ({section_title(machine.section)})",
        "URL": section_url(machine.section),
    }


def _start_lines(machine: Machine, vocab: Vocabulary, profile: str, table: TimerTable) -> list[str]:
    """The initial marker with the start arrow (the transaction is created); a timer of
    another profile (``timers.toml``) is not drawn: it does not run under this one."""
    start = machine.start
    actions = [a for a in start.actions if live_under(a, profile, table)]
    start_label = make_label(start.event, None, actions, start.label, vocab)
    marker = {
        "shape": "point",
        "width": "0.18",
        "style": "filled",
        "fillcolor": INK,
        "tooltip": tooltip([start.section], "the transaction is created"),
        "URL": section_url(start.section),
    }
    arrow = {
        "label": edge_html(start_label, INK),
        "penwidth": "1.6",
        "tooltip": tooltip([start.section], start_label.text()),
        "URL": section_url(start.section),
    }
    return [
        "  __start__ " + attr_list(marker) + ";",
        f"  __start__ -> {quote(machine.initial)} " + attr_list(arrow) + ";",
    ]


def _state_line(
    machine: Machine,
    state: State,
    profile: str,
    highlight: str | None,
    vocab: Vocabulary,
    all_edges: list[Edge],
) -> str:
    """The DOT line of one state, styled by what the profile changed and the highlight."""
    status = state_status(machine, state.name, profile)
    attrs: dict[str, str] = {}
    sec_colour = MUTED
    if state.terminal:
        attrs.update({"shape": "doubleoctagon", "fillcolor": TERMINAL_FILL, "style": "filled"})
    if status == "added":
        attrs.update({"color": ADDED, "fillcolor": ADDED_FILL, "penwidth": "2"})
        sec_colour = ADDED
    elif status == "removed":
        attrs.update(
            {
                "color": REMOVED,
                "fontcolor": REMOVED,
                "fillcolor": "white",
                "style": "rounded,dashed,filled",
            }
        )
        sec_colour = REMOVED
    if state.name == highlight:
        attrs.update({"color": HIGHLIGHT, "fillcolor": HIGHLIGHT_FILL, "penwidth": "3"})
    absorbs = absorbed(machine, state.name, profile, vocab) if status != "removed" else []
    loops = [
        loop_row(e, profile, state.name == highlight)
        for e in all_edges
        if e.source == e.dest == state.name
    ]
    attrs["label"] = state_html(state.name, state.section, absorbs, sec_colour, loops)
    tip = tooltip([state.section], state.doc or state.name)
    if status == "added":
        tip = f"added by {tip}"
    elif status == "removed":
        tip = f"RFC 3261 only, replaced under profile {profile}: {tip}"
    attrs["tooltip"] = tip
    attrs["URL"] = section_url(state.section)
    return f"  {quote(state.name)} {attr_list(attrs)};"


def _edge_line(edge: Edge, profile: str, highlight: str | None) -> str:
    """The DOT line of one edge."""
    colour = edge_colour(edge)
    attrs = {"label": edge_html(edge.label, colour), "color": colour, "fontcolor": colour}
    if edge.status == "added":
        attrs["penwidth"] = "2"
    elif edge.status == "removed":
        attrs["style"] = "dashed"
    if highlight is not None and edge.source == highlight:
        attrs["penwidth"] = "3"
        attrs["color"] = f"{HIGHLIGHT}:{colour}:{HIGHLIGHT}"
    attrs["tooltip"] = edge_tip(edge, profile)
    attrs["URL"] = section_url(edge.rules[0].section)
    return f"  {quote(edge.source)} -> {quote(edge.dest)} {attr_list(attrs)};"
