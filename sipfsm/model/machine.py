"""A state machine of ``models/`` as data: states, events, and rules deciding every pair.

A rule decides one (state, event) pair under some profiles: a transition (with guard, actions
and destination), an explicit ignore, or an explicit error. :class:`Machine` is what every
engine, renderer and test reads; :mod:`sipfsm.model.loader` builds and validates it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from sipfsm.errors import ModelError
from sipfsm.model.reading import PROFILES

Kind = Literal["transition", "ignore", "error"]
KINDS: tuple[str, ...] = ("transition", "ignore", "error")


@dataclass(frozen=True, slots=True)
class Action:
    """One action of a transition: a verb, with a timer letter and an interval if it takes them."""

    verb: str
    timer: str | None = None
    interval: str | None = None

    def __str__(self) -> str:
        return " ".join(p for p in (self.verb, self.timer, self.interval) if p)


@dataclass(frozen=True, slots=True)
class State:
    """A state of a machine; ``terminal`` states end it (drawn as a double octagon)."""

    name: str
    section: str
    doc: str = ""
    terminal: bool = False
    profiles: frozenset[str] = frozenset(PROFILES)


@dataclass(frozen=True, slots=True)
class Rule:
    """How one (state, event) pair is decided under some profiles, optionally behind a guard."""

    source: str
    event: str
    kind: Kind
    section: str
    dest: str | None = None
    guard: str | None = None
    actions: tuple[Action, ...] = ()
    label: str | None = None
    doc: str = ""
    profiles: frozenset[str] = frozenset(PROFILES)
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Start:
    """How the machine begins: the creating event, its actions, and the initial state."""

    event: str
    actions: tuple[Action, ...]
    section: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Machine:
    """A validated model: the data every engine, renderer and test reads.

    ``includes`` names the shared rule files the model file includes (``models/shared/``):
    their states and rules are part of ``states`` and ``rules``.
    """

    name: str
    title: str
    kind: str
    role: str
    section: str
    figure: str
    initial: str
    events: tuple[str, ...]
    start: Start
    states: tuple[State, ...]
    rules: tuple[Rule, ...]
    file: str
    method: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    includes: tuple[str, ...] = ()

    def state_names(self, profile: str) -> tuple[str, ...]:
        """The states that exist under ``profile``, in file order."""
        return tuple(s.name for s in self.states if profile in s.profiles)

    def rules_for(self, profile: str) -> tuple[Rule, ...]:
        """The rules in force under ``profile``: explicit ones, then fallbacks for open pairs."""
        if profile not in PROFILES:
            raise ModelError(self.file, "profile", f"unknown profile {profile!r}")
        return _resolve(self, profile)

    def decide(self, state: str, event: str, profile: str) -> tuple[Rule, ...]:
        """The rules for one (state, event) pair under ``profile`` (several only with guards)."""
        return tuple(r for r in self.rules_for(profile) if r.source == state and r.event == event)

    def _repr_svg_(self) -> str | None:
        """Jupyter: the diagram under the default profile, drawn by the renderer that
        registered itself (:func:`set_svg_renderer`; ``sipfsm.render.jupyter`` does when imported);
        None without one, or when it cannot draw (Graphviz missing)."""
        return None if _svg_renderer is None else _svg_renderer(self)


#: Draws a machine as SVG for :meth:`Machine._repr_svg_`. The renderer registers it: the
#: models do not depend on their pictures.
_svg_renderer: Callable[[Machine], str | None] | None = None


def set_svg_renderer(draw: Callable[[Machine], str | None]) -> None:
    """Make ``draw`` the SVG of every :class:`Machine` in Jupyter."""
    global _svg_renderer
    _svg_renderer = draw


@cache
def _resolve(machine: Machine, profile: str) -> tuple[Rule, ...]:
    live = set(machine.state_names(profile))
    rules = [r for r in machine.rules if profile in r.profiles and r.source in live]
    explicit = [r for r in rules if not r.fallback]
    taken = {(r.source, r.event) for r in explicit}
    fallbacks = [r for r in rules if r.fallback and (r.source, r.event) not in taken]
    return tuple(explicit + fallbacks)
