"""The words on a transition, following RFC 3261 Figures 5-8 (section 17): the event (with its
guard) over the action, in the RFC's own wording (the rule's ``label``, else the vocabulary's
labels), and a small line listing the timer work (``stop A, B · start D``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipfsm.model.loader import Action, Rule, TimerTable, Vocabulary


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


def live_under(action: Action, profile: str, table: TimerTable) -> bool:
    """Whether an action does anything under ``profile``: a timer action of a timer of other
    profiles only (``timers.toml`` ``profiles``) does not (the engine skips it too)."""
    spec = table.timers.get(action.timer or "")
    return spec is None or profile in spec.profiles


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
