"""The HTML-like labels, tooltips and colours of the states and edges of a diagram.

An edge label is drawn in the convention of RFC 3261 Figures 5-8: the event over a rule, over
the action, then the timer work in orange. A state is a box with its name, its section, the
transitions back to itself (drawn inside, as UML internal transitions) and the events it absorbs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sipfsm.render.dot_syntax import escape
from sipfsm.render.drawing import Edge
from sipfsm.render.labels import Label
from sipfsm.render.palette import ADDED, ERROR, INK, MUTED, REMOVED, TIMER
from sipfsm.render.sections import section_title, section_url, short_section


def label_table(label: Label, colour: str) -> str:
    """An edge label in the RFC's convention: the event over the action, then the timers."""
    rows = [
        f'<TR><TD><FONT COLOR="{colour}">{escape(label.event)}</FONT></TD></TR>',
        "<HR/>",
        f'<TR><TD><FONT COLOR="{colour}">{escape(label.action)}</FONT></TD></TR>',
    ]
    if label.timers:
        rows.append(
            f'<TR><TD><FONT POINT-SIZE="9" COLOR="{TIMER}">{escape(label.timers)}</FONT></TD></TR>'
        )
    return (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
        f'COLOR="{colour}">' + "".join(rows) + "</TABLE>"
    )


def edge_html(label: Label, colour: str) -> str:
    """The HTML-like label of an edge."""
    return f"<{label_table(label, colour)}>"


def tooltip(sections: Iterable[str], extra: str = "") -> str:
    """The sections (each once, as titles), then ``extra``."""
    seen: list[str] = []
    for s in sections:
        if section_title(s) not in seen:
            seen.append(section_title(s))
    text = ", ".join(seen)
    return f"{text}: {extra}" if extra else text


def edge_colour(edge: Edge) -> str:
    """Blue when added, grey when replaced, orange when fired by timers, red on errors."""
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


def edge_tip(edge: Edge, profile: str) -> str:
    """The tooltip of an edge: sections, label, the rules' docs, and what changed."""
    sections = [r.section for r in edge.rules]
    doc = "; ".join(dict.fromkeys(r.doc for r in edge.rules if r.doc))
    tip = tooltip(sections, edge.label.text() + (f" — {doc}" if doc else ""))
    if edge.status == "added":
        return f"added by {tip}"
    if edge.status == "removed":
        return f"RFC 3261 only, replaced under profile {profile}: {tip}"
    return tip


def compact(labels: Sequence[str], width: int = 46) -> list[str]:
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


def loop_row(edge: Edge, profile: str, emphasis: bool) -> str:
    """A self-loop drawn inside its state, as ``↻ event / action`` (UML internal transition)."""
    colour = edge_colour(edge)
    text = f"↻ {edge.label.event} / {edge.label.action}"
    body = f'<FONT COLOR="{colour}">{escape(text)}</FONT>'
    if emphasis:
        body = f"<B>{body}</B>"
    if edge.label.timers:
        body += f'<FONT POINT-SIZE="8" COLOR="{TIMER}">  {escape(edge.label.timers)}</FONT>'
    return (
        f'<TR><TD ALIGN="LEFT" HREF="{escape(section_url(edge.rules[0].section))}" '
        f'TOOLTIP="{escape(edge_tip(edge, profile))}"><FONT POINT-SIZE="10">{body}</FONT>'
        "</TD></TR>"
    )


def state_html(
    name: str, section: str, absorbs: list[str], colour: str, loops: Sequence[str]
) -> str:
    """The HTML-like label of a state: name, section, its loops, the events it absorbs."""
    rows = [
        f"<TR><TD><B>{escape(name)}</B></TD></TR>",
        f'<TR><TD><FONT POINT-SIZE="8" COLOR="{colour}">{escape(short_section(section))}'
        "</FONT></TD></TR>",
    ]
    if loops:
        rows.append('<TR><TD CELLPADDING="1"> </TD></TR>')
        rows.extend(loops)
    for i, line in enumerate(compact(absorbs)):
        lead = "absorbs " if i == 0 else ""
        rows.append(
            f'<TR><TD><FONT POINT-SIZE="8" COLOR="{MUTED}">{lead}{escape(line)}</FONT></TD></TR>'
        )
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
        + "".join(rows)
        + "</TABLE>>"
    )
