"""What a diagram shows, as data: the states and merged edges of a machine under a profile,
and under an amended profile what changed against RFC 3261 as published (``added`` edges and
states, and the ``removed`` ones the amendments replace: RFC 6026, RFC 4320)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sipfsm.model.loader import PROFILES, Machine, Rule, Vocabulary
from sipfsm.render.labels import Label, rule_label

#: The profile that is RFC 3261 as published; the others are drawn as changes against it.
BASE_PROFILE = PROFILES[0]


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


def state_status(machine: Machine, name: str, profile: str) -> str:
    """``same``, ``added`` (only in the amended ``profile``) or ``removed`` (RFC 3261 only)."""
    state = next(s for s in machine.states if s.name == name)
    if profile == BASE_PROFILE:
        return "same"
    if profile in state.profiles and BASE_PROFILE not in state.profiles:
        return "added"
    if profile not in state.profiles:
        return "removed"
    return "same"


def absorbed(machine: Machine, state: str, profile: str, vocab: Vocabulary) -> list[str]:
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


def timers_used(machine: Machine, profile: str) -> list[str]:
    """Every timer the machine starts, stops or waits for under ``profile``, sorted."""
    used: set[str] = {a.timer for a in machine.start.actions if a.timer}
    for rule in machine.rules_for(profile):
        used.update(a.timer for a in rule.actions if a.timer)
    for event in machine.events:
        if event.startswith("timer_"):
            used.add(event.removeprefix("timer_"))
    return sorted(used)
