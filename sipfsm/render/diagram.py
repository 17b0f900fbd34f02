"""Draw any model of ``models/`` as a Graphviz diagram, from its data alone.

The pictures follow the convention of RFC 3261 Figures 5-8 (section 17): states are boxes,
top to bottom, and every transition is labelled with the event over the action to take, in
the RFC's own wording (the rule's ``label``, else the vocabulary's labels). Each label has a
small orange line listing the timer work (``stop A, B · start D``), every node and edge links
to its RFC section, a legend explains the styles and gives the Table 4 values (17.1.1.1) of
the timers the machine uses, and under the amended profile (``rfc6026``) what RFC 6026
changes against RFC 3261 is drawn in blue (added) and dashed grey (replaced).

The DOT text is built here, deterministically (golden files in ``diagrams/``); Graphviz's
``dot`` turns it into SVG or PNG.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sipfsm.errors import ModelError, SipfsmError
from sipfsm.model.loader import (
    DEFAULT_PROFILE,
    PROFILES,
    Action,
    Machine,
    Rule,
    TimerTable,
    Vocabulary,
    Window,
    load_timers,
    load_vocabulary,
    seconds,
)
from sipfsm.model.machine import set_svg_renderer

#: The profile that is RFC 3261 as published; the others are drawn as changes against it.
BASE_PROFILE = PROFILES[0]
#: Output formats ``dot`` is asked for (``dot`` itself means the DOT source, unrendered).
FORMATS: tuple[str, ...] = ("dot", "svg", "png")

FONT = "Helvetica,Arial,sans-serif"

# The palette: one ink for ordinary transitions, orange for everything about timers, red for
# transport errors, blue for what the amendments add, grey for what they replace.
INK = "#2c3e50"
STATE_FILL = "#eaf1f8"
TERMINAL_FILL = "#e5e7e9"
TIMER = "#c0580f"
ERROR = "#b03a2e"
ADDED = "#1f6fd1"
ADDED_FILL = "#dcebfc"
REMOVED = "#98a2ab"
HIGHLIGHT = "#d4a017"
HIGHLIGHT_FILL = "#fff4cc"
MUTED = "#6b7b8c"


class DotMissingError(SipfsmError):
    """Graphviz's ``dot`` program is not installed (Debian package ``graphviz``)."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's `dot` program was not found on PATH; it renders SVG and PNG. "
            "Install the Debian package graphviz (sudo apt-get install graphviz), "
            "or ask for --format dot only."
        )


# --- sections and links ---------------------------------------------------------------------


def section_url(section: str) -> str:
    """The rfc-editor.org link of a section: ``17.1.1.2`` (RFC 3261) or ``RFC 6026 8.4``."""
    rfc, number = "3261", section.strip()
    parts = number.split()
    if len(parts) >= 2 and parts[0] == "RFC":
        rfc, number = parts[1], (parts[2] if len(parts) > 2 else "")
    number = number.strip("()")
    base = f"https://www.rfc-editor.org/rfc/rfc{rfc}"
    return f"{base}#section-{number}" if number else base


def section_title(section: str) -> str:
    """``17.1.1.2`` -> ``RFC 3261 §17.1.1.2``; ``RFC 6026 8.4`` -> ``RFC 6026 §8.4``."""
    parts = section.split(maxsplit=2)
    if len(parts) >= 2 and parts[0] == "RFC":
        rest = f" §{parts[2]}" if len(parts) > 2 else ""
        return f"RFC {parts[1]}{rest}"
    return f"RFC 3261 §{section}"


def _short_section(section: str) -> str:
    """The section as drawn small under a state name: ``§17.1.1.2`` or ``RFC 6026 §8.4``."""
    title = section_title(section)
    return title.removeprefix("RFC 3261 ")


# --- DOT text -------------------------------------------------------------------------------


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _h(text: str) -> str:
    """Text escaped for an HTML-like label."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _attrs(attrs: dict[str, str]) -> str:
    """``[k="v", ...]``; values starting with ``<`` are HTML-like labels and go unquoted."""
    out = []
    for key, value in attrs.items():
        out.append(f"{key}={value}" if value.startswith("<") else f"{key}={_q(value)}")
    return "[" + ", ".join(out) + "]"


# --- labels ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    """An edge label: the event (with guard) over the action, and the timer work."""

    event: str
    action: str
    timers: str

    def text(self) -> str:
        """The label as one line of plain text (tests, tooltips, tables)."""
        line = f"{self.event} / {self.action}"
        return f"{line} ({self.timers})" if self.timers else line


def timer_work(actions: Sequence[Action], vocab: Vocabulary) -> str:
    """The timer actions, grouped by verb in order: ``stop A, B · start D``."""
    groups: dict[str, list[str]] = {}
    for action in actions:
        term = vocab.actions[action.verb]
        if not term.takes_timer or action.timer is None:
            continue
        if term.takes_interval:
            text = term.label.format(timer=action.timer, interval=action.interval or "")
            groups.setdefault(text, [])
            continue
        groups.setdefault(term.label, []).append(action.timer)
    parts = []
    for template, timers in groups.items():
        parts.append(template.format(timer=", ".join(timers)) if timers else template)
    return " · ".join(parts)


def make_label(
    event: str, guard: str | None, actions: Sequence[Action], label: str | None, vocab: Vocabulary
) -> Label:
    """The drawn label of a rule: its own RFC wording, else built from the vocabulary."""
    guard_text = f" [{vocab.guards[guard].label}]" if guard else ""
    if label is not None:
        head, sep, tail = label.partition(" / ")
        if guard and "[" not in head:
            head += guard_text
        action = tail if sep else "-"
    else:
        head = vocab.events[event].label + guard_text
        words = [
            vocab.actions[a.verb].label for a in actions if not vocab.actions[a.verb].takes_timer
        ]
        action = ", ".join(words) or "-"
    return Label(head, action, timer_work(actions, vocab))


def rule_label(rule: Rule, vocab: Vocabulary) -> Label:
    """The drawn label of one transition rule."""
    return make_label(rule.event, rule.guard, rule.actions, rule.label, vocab)


# --- the drawing as data --------------------------------------------------------------------


@dataclass(slots=True)
class Edge:
    """One drawn edge: the transition rules sharing source, destination and label."""

    source: str
    dest: str
    label: Label
    rules: list[Rule] = field(default_factory=list)
    status: str = "same"  # same | added | removed


def edges(machine: Machine, profile: str, vocab: Vocabulary) -> list[Edge]:
    """The merged transition edges under ``profile``, in file order."""
    out: dict[tuple[str, str, Label], Edge] = {}
    for rule in machine.rules_for(profile):
        if rule.kind != "transition" or rule.dest is None:
            continue
        lab = rule_label(rule, vocab)
        key = (rule.source, rule.dest, lab)
        out.setdefault(key, Edge(rule.source, rule.dest, lab)).rules.append(rule)
    return list(out.values())


def drawn_edges(machine: Machine, profile: str, vocab: Vocabulary) -> list[Edge]:
    """The edges of the picture: under an amended profile, also the replaced ones (removed)."""
    mine = edges(machine, profile, vocab)
    if profile == BASE_PROFILE:
        return mine
    base = edges(machine, BASE_PROFILE, vocab)
    base_keys = {(e.source, e.dest, e.label) for e in base}
    my_keys = {(e.source, e.dest, e.label) for e in mine}
    for e in mine:
        if (e.source, e.dest, e.label) not in base_keys:
            e.status = "added"
    for e in base:
        if (e.source, e.dest, e.label) not in my_keys:
            e.status = "removed"
            mine.append(e)
    return mine


def _state_status(machine: Machine, name: str, profile: str) -> str:
    state = next(s for s in machine.states if s.name == name)
    if profile == BASE_PROFILE:
        return "same"
    if profile in state.profiles and BASE_PROFILE not in state.profiles:
        return "added"
    if profile not in state.profiles:
        return "removed"
    return "same"


def _absorbed(machine: Machine, state: str, profile: str, vocab: Vocabulary) -> list[str]:
    """The events ``state`` ignores under ``profile``, as drawn labels."""
    out: list[str] = []
    for rule in machine.rules_for(profile):
        if rule.source == state and rule.kind == "ignore":
            text = vocab.events[rule.event].label
            if rule.guard:
                text += f" [{vocab.guards[rule.guard].label}]"
            if text not in out:
                out.append(text)
    return out


def _timers_used(machine: Machine, profile: str) -> list[str]:
    """Every timer the machine starts, stops or waits for under ``profile``, sorted."""
    used: set[str] = {a.timer for a in machine.start.actions if a.timer}
    for rule in machine.rules_for(profile):
        used.update(a.timer for a in rule.actions if a.timer)
    for event in machine.events:
        if event.startswith("timer_"):
            used.add(event.removeprefix("timer_"))
    return sorted(used)


def _seconds(expr: str, table: TimerTable) -> str:
    """An interval expression with its value: ``64*T1`` -> ``64·T1 = 32 s``."""
    if expr == "none":
        return "—"
    head, _, tail = expr.partition("*")
    if tail:
        value = float(head) * table.base[tail]
        return f"{head}·{tail} = {value:g} s"
    if expr in table.base:
        return f"{expr} = {table.base[expr]:g} s"
    return f"{float(expr):g} s"


def _window(window: Window, table: TimerTable) -> str:
    """A timer started at random (14.1): ``2.1-4 s (Call-ID owner), 0-2 s``."""

    def span(bounds: tuple[str, str]) -> str:
        low, high = (seconds(e, table.base) for e in bounds)
        return f"{low:g}-{high:g} s"

    return f"{span(window.owner)} (Call-ID owner), {span(window.other)}"


# --- rendering the parts --------------------------------------------------------------------


def _label_table(label: Label, colour: str) -> str:
    """An edge label in the RFC's convention: the event over the action, then the timers."""
    rows = [
        f'<TR><TD><FONT COLOR="{colour}">{_h(label.event)}</FONT></TD></TR>',
        "<HR/>",
        f'<TR><TD><FONT COLOR="{colour}">{_h(label.action)}</FONT></TD></TR>',
    ]
    if label.timers:
        rows.append(
            f'<TR><TD><FONT POINT-SIZE="9" COLOR="{TIMER}">{_h(label.timers)}</FONT></TD></TR>'
        )
    return (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
        f'COLOR="{colour}">' + "".join(rows) + "</TABLE>"
    )


def _edge_html(label: Label, colour: str) -> str:
    """The HTML-like label of an edge."""
    return f"<{_label_table(label, colour)}>"


def _tooltip(sections: Iterable[str], extra: str = "") -> str:
    seen: list[str] = []
    for s in sections:
        if section_title(s) not in seen:
            seen.append(section_title(s))
    text = ", ".join(seen)
    return f"{text}: {extra}" if extra else text


def _legend(machine: Machine, profile: str, table: TimerTable, statuses: set[str]) -> str:
    """The legend: how to read the picture (left) and the timers with Table 4 values (right).

    ``statuses`` says whether anything is drawn as added or removed (changed profiles).
    """

    def cell(text: str, span: int = 1, colour: str = INK, bold: bool = False) -> str:
        body = f"<B>{_h(text)}</B>" if bold else _h(text)
        return (
            f'<TD ALIGN="LEFT" COLSPAN="{span}"><FONT POINT-SIZE="9" COLOR="{colour}">'
            f"{body}</FONT></TD>"
        )

    where = section_title(machine.section)
    if machine.figure:
        where += f" · {machine.figure}"
    if profile == BASE_PROFILE:
        prof = f"profile {profile}: RFC 3261 as published"
    else:
        prof = f"profile {profile}: RFC 3261 as amended (RFC 6026, RFC 4320)"
    left = [cell(where, 2, bold=True), cell(prof, 2)]
    keys = [
        (INK, "──▶", "event (over) action, in the RFC's wording; click: the section"),
        (TIMER, "──▶", "fired by a timer; orange text: timers started, stopped, reset"),
        (ERROR, "──▶", "transport error (17.1.4, 17.2.4)"),
    ]
    if "added" in statuses:
        keys.append((ADDED, "━━▶", "added by the amendments: only in this profile"))
    if "removed" in statuses:
        keys.append((REMOVED, "╌╌▶", "RFC 3261 as published, replaced in this profile"))
    keys.append((INK, "↻", "in a state: a transition back to that same state"))
    for colour, sample, text in keys:
        left.append(
            f'<TD ALIGN="LEFT"><FONT COLOR="{colour}">{_h(sample)}</FONT></TD>' + cell(text)
        )
    left.append(
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{MUTED}">absorbs</FONT></TD>'
        + cell(f"events the state ignores (every pair: sipfsm models --table {machine.name})")
    )
    right: list[str] = []
    timers = [
        t
        for t in _timers_used(machine, profile)
        if t in table.timers and profile in table.timers[t].profiles
    ]
    if timers:
        right.append(
            cell("timer", bold=True)
            + cell("UDP", bold=True)
            + cell("TCP, TLS", bold=True)
            + cell("meaning (RFC 3261 Table 4)", bold=True)
        )
        for name in timers:
            spec = table.timers[name]
            window = table.windows.get(name)
            udp = _seconds(spec.unreliable, table) if window is None else _window(window, table)
            tcp = _seconds(spec.reliable, table) if window is None else udp
            if spec.backoff and spec.unreliable != "none":
                udp += ", doubling" + (f" to {spec.cap}" if spec.cap else "")
            right.append(
                cell(name, colour=TIMER, bold=True) + cell(udp) + cell(tcp) + cell(spec.meaning)
            )
        base = ", ".join(f"{k} = {v:g} s" for k, v in table.base.items())
        right.append(cell(f"{base} (defaults, 17.1.1.1)", 4))
    rows = []
    for i in range(max(len(left), len(right))):
        lhs = left[i] if i < len(left) else '<TD COLSPAN="2"></TD>'
        rhs = right[i] if i < len(right) else ('<TD COLSPAN="4"></TD>' if right else "")
        rows.append(f'<TR>{lhs}<TD WIDTH="16"></TD>{rhs}</TR>')
    return (
        '<<TABLE BORDER="1" COLOR="#c8d1da" CELLBORDER="0" CELLSPACING="0" '
        'CELLPADDING="2" BGCOLOR="#fbfcfd">' + "".join(rows) + "</TABLE>>"
    )


def _compact(labels: Sequence[str], width: int = 46) -> list[str]:
    """Event labels joined compactly: ``2xx from TU`` and ``300-699 from TU`` become
    ``2xx, 300-699 from TU``; the result is wrapped into lines of about ``width`` characters."""
    groups: dict[str, list[str]] = {}
    for text in labels:
        head, sep, tail = text.rpartition(" from ")
        key = f" from {tail}" if sep else ""
        groups.setdefault(key, []).append(head if sep else text)
    words = [w for w in groups.get("", [])]
    words += [", ".join(heads) + key for key, heads in groups.items() if key]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) + 2 <= width:
            lines[-1] += ", " + word
        else:
            lines.append(word)
    return lines


def _loop_row(edge: Edge, profile: str, emphasis: bool) -> str:
    """A self-loop drawn inside its state, as ``↻ event / action`` (UML internal transition)."""
    colour = _edge_colour(edge)
    text = f"↻ {edge.label.event} / {edge.label.action}"
    body = f'<FONT COLOR="{colour}">{_h(text)}</FONT>'
    if emphasis:
        body = f"<B>{body}</B>"
    if edge.label.timers:
        body += f'<FONT POINT-SIZE="8" COLOR="{TIMER}">  {_h(edge.label.timers)}</FONT>'
    return (
        f'<TR><TD ALIGN="LEFT" HREF="{_h(section_url(edge.rules[0].section))}" '
        f'TOOLTIP="{_h(_edge_tip(edge, profile))}"><FONT POINT-SIZE="10">{body}</FONT>'
        "</TD></TR>"
    )


def _state_html(
    name: str, section: str, absorbs: list[str], colour: str, loops: Sequence[str]
) -> str:
    rows = [
        f"<TR><TD><B>{_h(name)}</B></TD></TR>",
        f'<TR><TD><FONT POINT-SIZE="8" COLOR="{colour}">{_h(_short_section(section))}'
        "</FONT></TD></TR>",
    ]
    if loops:
        rows.append('<TR><TD CELLPADDING="1"> </TD></TR>')
        rows.extend(loops)
    for i, line in enumerate(_compact(absorbs)):
        lead = "absorbs " if i == 0 else ""
        rows.append(
            f'<TR><TD><FONT POINT-SIZE="8" COLOR="{MUTED}">{lead}{_h(line)}</FONT></TD></TR>'
        )
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
        + "".join(rows)
        + "</TABLE>>"
    )


def _edge_colour(edge: Edge) -> str:
    if edge.status == "added":
        return ADDED
    if edge.status == "removed":
        return REMOVED
    events = {r.event for r in edge.rules}
    if all(e.startswith("timer_") for e in events):
        return TIMER
    if all("error" in e for e in events):
        return ERROR
    return INK


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
    statuses |= {_state_status(machine, s.name, profile) for s in shown}
    if highlight is not None and highlight not in machine.state_names(profile):
        raise ModelError(
            machine.file,
            "highlight",
            f"unknown state {highlight!r} under profile {profile} "
            f"(states: {', '.join(machine.state_names(profile))})",
        )

    lines = [f"digraph {_q(machine.name)} {{"]
    # The legend is the graph's own label, at the bottom; the title is the label of a
    # borderless cluster holding the machine, at the top.
    lines.append(
        "  graph "
        + _attrs(
            {
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
                "label": _legend(machine, profile, table, statuses),
                "tooltip": f"{machine.title} ({section_title(machine.section)})",
            }
        )
        + ";"
    )
    lines.append(
        "  node "
        + _attrs(
            {
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
        )
        + ";"
    )
    lines.append(
        "  edge "
        + _attrs(
            {
                "color": INK,
                "fontname": FONT,
                "fontsize": "10",
                "fontcolor": INK,
                "arrowsize": "0.8",
                "penwidth": "1.2",
            }
        )
        + ";"
    )
    lines.append("  subgraph cluster_machine {")
    lines.append(
        "  graph "
        + _attrs(
            {
                "peripheries": "0",
                "labelloc": "t",
                "labeljust": "c",
                "fontsize": "16",
                "label": f"<<B>{_h(machine.title)}</B>"
                f'<BR/><FONT POINT-SIZE="11" COLOR="{MUTED}">'
                f"{_h(section_title(machine.section))} · profile {profile}</FONT>>",
                "tooltip": f"{machine.title} ({section_title(machine.section)})",
                "URL": section_url(machine.section),
            }
        )
        + ";"
    )

    # The initial marker with the start arrow.
    start = machine.start
    start_label = make_label(start.event, None, start.actions, start.label, vocab)
    lines.append(
        "  __start__ "
        + _attrs(
            {
                "shape": "point",
                "width": "0.18",
                "style": "filled",
                "fillcolor": INK,
                "tooltip": _tooltip([start.section], "the transaction is created"),
                "URL": section_url(start.section),
            }
        )
        + ";"
    )
    lines.append(
        f"  __start__ -> {_q(machine.initial)} "
        + _attrs(
            {
                "label": _edge_html(start_label, INK),
                "penwidth": "1.6",
                "tooltip": _tooltip([start.section], start_label.text()),
                "URL": section_url(start.section),
            }
        )
        + ";"
    )

    # States.
    for state in shown:
        status = _state_status(machine, state.name, profile)
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
        absorbs = _absorbed(machine, state.name, profile, vocab) if status != "removed" else []
        loops = [
            _loop_row(e, profile, state.name == highlight)
            for e in all_edges
            if e.source == e.dest == state.name
        ]
        attrs["label"] = _state_html(state.name, state.section, absorbs, sec_colour, loops)
        tip = _tooltip([state.section], state.doc or state.name)
        if status == "added":
            tip = f"added by {tip}"
        elif status == "removed":
            tip = f"RFC 3261 only, replaced under profile {profile}: {tip}"
        attrs["tooltip"] = tip
        attrs["URL"] = section_url(state.section)
        lines.append(f"  {_q(state.name)} {_attrs(attrs)};")

    # Terminal states at the bottom, like the RFC figures.
    terminals = [s.name for s in shown if s.terminal]
    if terminals:
        lines.append("  { rank=sink; " + " ".join(_q(n) for n in terminals) + " }")

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


def _edge_tip(edge: Edge, profile: str) -> str:
    """The tooltip of an edge: sections, label, the rules' docs, and what changed."""
    sections = [r.section for r in edge.rules]
    doc = "; ".join(dict.fromkeys(r.doc for r in edge.rules if r.doc))
    tip = _tooltip(sections, edge.label.text() + (f" — {doc}" if doc else ""))
    if edge.status == "added":
        return f"added by {tip}"
    if edge.status == "removed":
        return f"RFC 3261 only, replaced under profile {profile}: {tip}"
    return tip


def _edge_line(edge: Edge, profile: str, highlight: str | None) -> str:
    """The DOT line of one edge."""
    colour = _edge_colour(edge)
    attrs = {"label": _edge_html(edge.label, colour), "color": colour, "fontcolor": colour}
    if edge.status == "added":
        attrs["penwidth"] = "2"
    elif edge.status == "removed":
        attrs["style"] = "dashed"
    if highlight is not None and edge.source == highlight:
        attrs["penwidth"] = "3"
        attrs["color"] = f"{HIGHLIGHT}:{colour}:{HIGHLIGHT}"
    attrs["tooltip"] = _edge_tip(edge, profile)
    attrs["URL"] = section_url(edge.rules[0].section)
    return f"  {_q(edge.source)} -> {_q(edge.dest)} {_attrs(attrs)};"


# --- Graphviz -------------------------------------------------------------------------------


def dot_program() -> str:
    """The path of Graphviz's ``dot``; :class:`DotMissingError` when it is not installed."""
    path = shutil.which("dot")
    if path is None:
        raise DotMissingError()
    return path


def render(source: str, fmt: str) -> bytes:
    """Render DOT ``source`` to ``svg`` or ``png`` bytes with ``dot``."""
    if fmt == "dot":
        return source.encode()
    if fmt not in FORMATS:
        raise SipfsmError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    cmd = [dot_program(), f"-T{fmt}"]
    if fmt == "png":
        cmd.append("-Gdpi=110")
    proc = subprocess.run(cmd, input=source.encode(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise SipfsmError(f"dot -T{fmt} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def file_stem(machine: Machine, profile: str, highlight: str | None = None) -> str:
    """``invite_client.rfc6026`` (and ``.Calling`` when one state is highlighted)."""
    stem = f"{machine.name}.{profile}"
    return f"{stem}.{highlight}" if highlight else stem


def write(
    machine: Machine,
    profile: str,
    formats: Sequence[str],
    out: Path,
    highlight: str | None = None,
    *,
    directory: Path | None = None,
) -> list[Path]:
    """Write the diagram of ``machine`` in each format to ``out``; return the paths written."""
    source = to_dot(machine, profile, highlight, directory=directory)
    if any(f != "dot" for f in formats):
        dot_program()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / f"{file_stem(machine, profile, highlight)}.{fmt}"
        path.write_bytes(render(source, fmt))
        written.append(path)
    return written


def repr_svg(machine: Machine) -> str | None:
    """The SVG of ``machine`` under the default profile, or None when ``dot`` is missing."""
    if shutil.which("dot") is None:
        return None
    return render(to_dot(machine), "svg").decode()


set_svg_renderer(repr_svg)  # Jupyter shows a Machine as its diagram
