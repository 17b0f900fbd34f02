"""The committed models by name, each loaded when a test first reads it, never at import.

A test module that loads models at import time turns a loader that fails into a collection
error: pytest then stops with a usage error (exit 4: the node ids asked for are not
collected), which mutmut reports as a timeout, not as a kill. Loaded on first use, a broken
loader fails the tests that read the models, at once (exit 1: killed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from sipfsm.model.loader import Machine, load_model, model_names


class Models(Mapping[str, Machine]):
    """``name -> Machine`` for ``names`` (default: every model of ``models/``); the names
    come from the file names alone (:func:`model_names`), the machines from the one cache."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        self._names = tuple(model_names() if names is None else names)

    def __getitem__(self, name: str) -> Machine:
        if name not in self._names:
            raise KeyError(name)
        return load_model(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
