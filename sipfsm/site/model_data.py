"""What a model page embeds for its interpreter (``assets/site.js``): the machine as JSON, per
profile (states, the rules deciding every (state, event) pair, the drawn edge of each
transition), the timers it uses (``timers.toml``'s expressions, evaluated in the page against
the T1, T2 and T4 the student sets) and the vocabulary's labels.

Nothing here decides anything: the page fires an event by looking up the rules the loader
proved total (``models/SCHEMA.md``), exactly as the engine does (``sipfsm/engine/runner.py``:
``start``, ``backoff`` doubling to the cap, ``restart``, ``stop``; a guard's complement).
"""

from __future__ import annotations

import re
from typing import Any

from sipfsm.model.loader import PROFILES, Action, Machine, Rule, TimerTable, Vocabulary
from sipfsm.model.timer_table import at_cap_of
from sipfsm.render.diagram import drawn_edges, section_title, section_url
from sipfsm.render.drawing import Edge, timers_used

#: A section reference's RFC 3261 number: ``16.3 item 4`` -> ``16.3``; another RFC's: None.
_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\b")


def rfc3261_number(section: str) -> str | None:
    """The RFC 3261 section number a model's reference starts with (``10.3 step 2`` ->
    ``10.3``), or ``None`` for a section of another RFC (``RFC 6026 8.4``)."""
    m = _NUMBER.match(section.strip())
    return m.group(1) if m else None


def section_anchor(section: str) -> str:
    """The id of a cited section's text on a page: ``sec-17.1.1.2``, ``sec-RFC-6026-8.4``."""
    number = rfc3261_number(section)
    key = number if number is not None else section.strip()
    return "sec-" + re.sub(r"[^0-9A-Za-z.]+", "-", key).strip("-")


def cited_sections(machine: Machine) -> list[str]:
    """Every section the model cites (machine, start, states, rules), in first-cited order."""
    out: list[str] = []
    refs = [machine.section, machine.start.section]
    refs += [s.section for s in machine.states] + [r.section for r in machine.rules]
    for ref in refs:
        if ref not in out:
            out.append(ref)
    return out


def _action(a: Action) -> list[str]:
    return [a.verb, a.timer or "", a.interval or ""]


def _rule(rule: Rule, edge: int | None) -> dict[str, Any]:
    return {
        "source": rule.source,
        "event": rule.event,
        "kind": rule.kind,
        "dest": rule.dest,
        "guard": rule.guard,
        "actions": [_action(a) for a in rule.actions],
        "label": rule.label,
        "section": rule.section,
        "anchor": section_anchor(rule.section),
        "doc": rule.doc,
        "edge": edge,
    }


def svg_edge_order(machine: Machine, profile: str, vocab: Vocabulary) -> list[Edge]:
    """The drawn edges between two states, in the order the DOT writer emits them
    (:func:`sipfsm.render.dot.to_dot`: edges into terminal states last; loops are drawn inside
    their state) and so the order of the SVG's ``g.edge`` elements after the start arrow."""
    all_edges = drawn_edges(machine, profile, vocab)
    names = {s.name for s in machine.states}
    terminal = {s.name for s in machine.states if s.terminal and s.name in names}
    ordered = sorted(all_edges, key=lambda e: e.dest in terminal)
    return [e for e in ordered if e.source != e.dest]


def profile_data(machine: Machine, profile: str, vocab: Vocabulary) -> dict[str, Any]:
    """One profile's machine: states, rules (each with the index of its drawn edge) and edges."""
    drawn = svg_edge_order(machine, profile, vocab)
    rules = machine.rules_for(profile)
    index: dict[int, int] = {}
    for n, edge in enumerate(drawn):
        for rule in edge.rules:
            index.setdefault(id(rule), n)
    return {
        "states": [
            {
                "name": s.name,
                "terminal": s.terminal,
                "section": s.section,
                "anchor": section_anchor(s.section),
                "doc": s.doc,
            }
            for s in machine.states
            if profile in s.profiles
        ],
        "rules": [_rule(r, index.get(id(r))) for r in rules],
        "edges": [
            {
                "source": e.source,
                "dest": e.dest,
                "status": e.status,
                "label": e.label.text(),
                "rules": [i for i, r in enumerate(rules) if any(r is x for x in e.rules)],
                "removed": e.status == "removed",
                "section": e.rules[0].section,
                "anchor": section_anchor(e.rules[0].section),
            }
            for e in drawn
        ],
        "timers": timers_used(machine, profile),
    }


def machine_data(machine: Machine, vocab: Vocabulary, table: TimerTable) -> dict[str, Any]:
    """Everything the interpreter of one model page needs, for every profile."""
    used = sorted(_with_references({t for p in PROFILES for t in timers_used(machine, p)}, table))
    guards = {r.guard for r in machine.rules if r.guard}
    verbs = {a.verb for r in machine.rules for a in r.actions} | {
        a.verb for a in machine.start.actions
    }
    return {
        "name": machine.name,
        "title": machine.title,
        "section": machine.section,
        "initial": machine.initial,
        "events": list(machine.events),
        "start": {
            "event": machine.start.event,
            "actions": [_action(a) for a in machine.start.actions],
            "section": machine.start.section,
            "anchor": section_anchor(machine.start.section),
        },
        "profiles": {p: profile_data(machine, p, vocab) for p in PROFILES},
        "timers": {t: timer_data(table, t) for t in used if t in table.timers},
        "base": dict(table.base),
        "guards": {
            g: {"label": vocab.guards[g].label, "complement": vocab.guards[g].complement}
            for g in sorted(guards)
        },
        "eventLabels": {e: vocab.events[e].label for e in machine.events},
        "actionLabels": {v: vocab.actions[v].label for v in sorted(verbs)},
    }


def _with_references(names: set[str], table: TimerTable) -> set[str]:
    """The timers and those their values refer to: ``at_cap(E)`` needs E (RFC 4320 4.1)."""
    out = set(names)
    for name in names:
        spec = table.timers.get(name)
        for expr in (spec.unreliable, spec.reliable) if spec else ():
            ref = at_cap_of(expr)
            if ref is not None:
                out.add(ref)
    return out


def timer_data(table: TimerTable, name: str) -> dict[str, Any]:
    """A timer's row of ``timers.toml``: its expressions, back-off, cap, profiles, section."""
    spec = table.timers[name]
    return {
        "unreliable": spec.unreliable,
        "reliable": spec.reliable,
        "backoff": spec.backoff,
        "cap": spec.cap,
        "profiles": sorted(spec.profiles),
        "section": spec.section,
        "anchor": section_anchor(spec.section),
        "meaning": spec.meaning,
    }


def external_url(section: str) -> str:
    """The rfc-editor.org page of a section of another RFC than 3261 (not shipped)."""
    return section_url(section)


__all__ = [
    "cited_sections",
    "external_url",
    "machine_data",
    "profile_data",
    "rfc3261_number",
    "section_anchor",
    "section_title",
    "svg_edge_order",
    "timer_data",
]
