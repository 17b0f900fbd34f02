"""The site's words in English and Chinese: ``models/i18n/en.toml`` and ``models/i18n/zh.toml``,
data files beside the models (``models/i18n/README.md`` describes them).

Each file has the same tables:

* ``[ui]``: the words of the pages (navigation, headings, buttons), by key;
* ``[glossary.ID]``: a term (``term``), its definition (``definition``) and, in ``zh.toml``,
  the other Chinese renderings in use (``variants``, those of the Chinese translation of RFC
  3261 among them); ``en.toml`` adds the RFC 3261 section defining it (``section``);
* ``[models]`` (a model's title), ``[states.MODEL]`` (a state's explanation), ``[events]``,
  ``[actions]`` and ``[guards]`` (the vocabulary's labels), ``[timers]`` (the meaning of each
  timer of ``timers.toml`` and of T1, T2, T4).

The English of the last group is the models' own (their titles, the states' ``doc``, the
vocabulary's labels): ``en.toml`` leaves them out, so each is written once. ``zh.toml`` has
them all; ``tests/test_site_i18n.py`` checks that both files have the same ``[ui]`` and
glossary keys and that ``zh.toml`` covers every model, state, event, action, guard and timer.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sipfsm.errors import SipfsmError
from sipfsm.model.loader import Machine, Vocabulary
from sipfsm.model.paths import models_dir

#: The languages of the site, the first the default.
LANGS: tuple[str, ...] = ("en", "zh")
#: What each language is called in its own words (the language switch).
NATIVE = {"en": "English", "zh": "中文"}


def i18n_dir(directory: Path | None = None) -> Path:
    """The folder of the translation files: ``i18n/`` of the models folder, or the package's
    when another models folder has none (its titles and explanations are then its own)."""
    folder = (directory or models_dir()) / "i18n"
    return folder if folder.is_dir() else models_dir() / "i18n"


@cache
def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SipfsmError(f"{path}: cannot read the translations: {exc}") from None


@dataclass(frozen=True)
class Catalog:
    """The words of one language; the English of model data comes from the models."""

    lang: str
    data: dict[str, Any]
    vocab: Vocabulary

    def ui(self, key: str) -> str:
        """A page word; a missing key is an error naming the file (the test keeps it so)."""
        try:
            return str(self.data["ui"][key])
        except KeyError:
            raise SipfsmError(f"models/i18n/{self.lang}.toml: no [ui] key {key!r}") from None

    def ui_all(self) -> dict[str, str]:
        """Every page word (the script's words among them)."""
        return {str(k): str(v) for k, v in self.data["ui"].items()}

    def _own(self, table: str, *keys: str) -> str | None:
        node: Any = self.data.get(table)
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return str(node)

    def title(self, machine: Machine) -> str:
        """The model's title."""
        return self._own("models", machine.name) or machine.title

    def state_doc(self, machine: Machine, state: str) -> str:
        """A state's explanation."""
        own = self._own("states", machine.name, state)
        if own is not None:
            return own
        return next((s.doc for s in machine.states if s.name == state), "")

    def event(self, name: str) -> str:
        """An event's label."""
        return self._own("events", name) or self.vocab.events[name].label

    def action(self, verb: str) -> str:
        """An action verb's label (a timer verb keeps its ``{timer}`` placeholder)."""
        return self._own("actions", verb) or self.vocab.actions[verb].label

    def guard(self, name: str) -> str:
        """A guard's label."""
        return self._own("guards", name) or self.vocab.guards[name].label

    def timer(self, name: str, english: str) -> str:
        """A timer's meaning (or T1's, T2's, T4's); ``english`` is ``timers.toml``'s."""
        return self._own("timers", name) or english

    def glossary(self) -> dict[str, dict[str, Any]]:
        """The glossary entries by id, in file order."""
        return dict(self.data.get("glossary", {}))

    def labels(self, machine: Machine) -> dict[str, Any]:
        """The words of one model for its page's script: states, events, actions, guards."""
        verbs = {a.verb for r in machine.rules for a in r.actions}
        verbs |= {a.verb for a in machine.start.actions}
        guards = {r.guard for r in machine.rules if r.guard}
        return {
            "states": {s.name: self.state_doc(machine, s.name) for s in machine.states},
            "events": {e: self.event(e) for e in (*machine.events, machine.start.event)},
            "actions": {v: self.action(v) for v in sorted(verbs)},
            "guards": {g: self.guard(g) for g in sorted(guards) if g},
        }


def catalog(lang: str, vocab: Vocabulary, directory: Path | None = None) -> Catalog:
    """The catalog of ``lang`` (``en`` or ``zh``)."""
    if lang not in LANGS:
        raise SipfsmError(f"unknown language {lang!r} (known: {', '.join(LANGS)})")
    return Catalog(lang, _read(i18n_dir(directory) / f"{lang}.toml"), vocab)
