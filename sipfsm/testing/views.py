"""Read every typed view of a message (issue 11): the check that whatever strict parsing accepts
can be read through the API, used by the tests and by ``scripts/fuzz``.

:func:`read_every_view` reads every property of :class:`sipfsm.message.views.HeaderViews`, the
typed items of every header field (:meth:`~sipfsm.message.views.HeaderViews.typed`, once per
name), and every property of each item and of its URI; it returns how many values it read. A
view that cannot read a value raises :class:`sipfsm.ParseError` (the message was not valid,
and said so late); anything else escaping is a bug of the views.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from sipfsm.message.message import Message
from sipfsm.message.uri import URI
from sipfsm.message.views import HeaderViews

__all__ = ["read_every_view", "view_names"]


@cache
def view_names() -> tuple[str, ...]:
    """The names of the typed views (the properties of ``HeaderViews``), in order."""
    return tuple(n for n, v in vars(HeaderViews).items() if isinstance(v, property))


@cache
def _properties(cls: type) -> tuple[str, ...]:
    return tuple(
        n
        for klass in cls.__mro__
        for n, v in vars(klass).items()
        if isinstance(v, property) and not n.startswith("_")
    )


def _read(value: Any) -> int:
    """Read ``value`` (a view's result) through: its items, fields and properties."""
    if isinstance(value, list | tuple):
        return sum(_read(v) for v in value)
    if isinstance(value, URI):
        for name in _properties(URI):
            getattr(value, name)
        str(value)
        return 1
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        n = 1
        for f in dataclasses.fields(value):
            n += _read(getattr(value, f.name)) if f.name == "uri" else 0
        for name in _properties(type(value)):
            getattr(value, name)
        return n
    return 1


def read_every_view(msg: Message) -> int:
    """Read every typed view of ``msg`` (see the module docstring); the number of values."""
    n = 0
    for name in view_names():
        n += _read(getattr(msg, name))
    # typed(name) reads every line of that name: once per name, not once per line (a message
    # of n Via lines would be read n times over, n**2 values)
    for name in dict.fromkeys(h.canonical for h in msg.headers):
        n += _read(msg.typed(name))
    return n
