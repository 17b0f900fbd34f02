"""Every type a user receives from the public API is importable from a public module (issue 10).

The public modules are :data:`PUBLIC`; the public names are their ``__all__``. From those names
the walk follows every public function, method, property and dataclass field (annotations read
by :func:`typing.get_type_hints`) and every class those annotations name, transitively. A class
defined in ``sipfsm`` that turns up there but is no public name of a public module is a leak:
a user receives it, and cannot import it to annotate their own code.
"""

from __future__ import annotations

import ast
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterator
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from conftest import PUBLIC_MODULES

PUBLIC = PUBLIC_MODULES


def _public_names(module: str) -> dict[str, object]:
    mod = import_module(module)
    names: list[str] = list(getattr(mod, "__all__", ()))
    assert names, f"{module} has no __all__"
    return {n: getattr(mod, n) for n in names}


@cache
def exported() -> dict[int, str]:
    """id of every object a public module exports -> where (``module.name``)."""
    return {
        id(obj): f"{module}.{name}"
        for module in PUBLIC
        for name, obj in _public_names(module).items()
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def namespace(module: str) -> dict[str, Any]:
    """The globals annotations of ``module`` are evaluated in: its own, plus what its
    ``if TYPE_CHECKING:`` blocks import (run here, so that string annotations resolve)."""
    mod = sys.modules[module]
    ns = dict(vars(mod))
    source = inspect.getsource(mod)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, module, "exec"), ns)
    return ns


def _hints(obj: Callable[..., object]) -> dict[str, object]:
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sipfsm"):
        return {}
    return dict(typing.get_type_hints(obj, globalns=namespace(module)))


def _class_hints(cls: type) -> Iterator[tuple[str, object]]:
    """Public annotated attributes (dataclass fields included) of ``cls`` and its sipfsm bases."""
    for base in cls.__mro__:
        if not base.__module__.startswith("sipfsm"):
            continue
        ns = namespace(base.__module__)
        for name, ann in vars(base).get("__annotations__", {}).items():
            if not name.startswith("_"):
                yield name, eval(ann, ns) if isinstance(ann, str) else ann


def _members(cls: type) -> Iterator[tuple[str, Callable[..., object]]]:
    """Public methods and property getters of ``cls``, inherited ones included."""
    seen: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("sipfsm"):
            continue
        for name, raw in vars(base).items():
            if name in seen or (name.startswith("_") and not name.startswith("__")):
                continue
            seen.add(name)
            if isinstance(raw, property) and raw.fget is not None:
                yield name, raw.fget
            elif isinstance(raw, staticmethod | classmethod):
                yield name, raw.__func__
            elif inspect.isfunction(raw):
                yield name, raw


def _types_in(hint: object) -> Iterator[type]:
    """Every class an annotation names (``list[Via] | None`` -> list, Via, NoneType)."""
    if isinstance(hint, type) and not typing.get_args(hint):
        yield hint
        return
    if isinstance(hint, typing.TypeVar):
        for bound in (hint.__bound__, *hint.__constraints__):
            yield from _types_in(bound)
        return
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return
    if isinstance(origin, type) and origin is not types.UnionType:
        yield origin
    for arg in typing.get_args(hint):
        if isinstance(arg, list):  # Callable[[A, B], R]
            for a in arg:
                yield from _types_in(a)
        else:
            yield from _types_in(arg)


def _sipfsm_class(t: type) -> bool:
    return t.__module__.partition(".")[0] == "sipfsm" and t is not types.NoneType


def leaks() -> dict[str, set[str]]:
    """``module.Class`` of every private sipfsm class a user receives -> where it is received
    (``sipfsm.Transaction.table`` ...)."""
    found: dict[str, set[str]] = {}
    done: set[int] = set()
    todo: list[tuple[str, object]] = [
        (f"{m}.{n}", obj) for m in PUBLIC for n, obj in _public_names(m).items()
    ]

    def receive(where: str, hint: object) -> None:
        for t in _types_in(hint):
            if not _sipfsm_class(t):
                continue
            if id(t) not in exported():
                found.setdefault(f"{t.__module__}.{t.__qualname__}", set()).add(where)
            todo.append((exported().get(id(t), f"{t.__module__}.{t.__qualname__}"), t))

    while todo:
        where, obj = todo.pop()
        if id(obj) in done:
            continue
        done.add(id(obj))
        if inspect.isclass(obj):
            for name, hint in _class_hints(obj):
                receive(f"{where}.{name}", hint)
            for name, fn in _members(obj):
                for arg, hint in _hints(fn).items():
                    receive(f"{where}.{name}({arg})", hint)
        elif callable(obj):
            for arg, hint in _hints(obj).items():
                receive(f"{where}({arg})", hint)
    return found


def test_the_walk_finds_a_leak() -> None:
    """Self-check: a class reached only through an annotation is found, however deep."""
    nested = set(_types_in(dict[str, list[tuple[int, Path | None]]]))
    assert nested == {dict, str, list, tuple, int, Path, types.NoneType}
    assert set(_types_in(Callable[[int], bytes | None])) == {Callable, int, bytes, types.NoneType}
    assert set(_types_in(typing.Literal["udp", "tcp"])) == set()
    assert len(exported()) > 60


def test_public_modules_export_what_they_list() -> None:
    for module in PUBLIC:
        mod = import_module(module)
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not missing, f"{module}.__all__ names what it does not have: {missing}"


def test_every_received_type_is_public() -> None:
    """A class defined in sipfsm that a public signature or field names is exported by a
    public module (sipfsm, sipfsm.headers, sipfsm.aio, sipfsm.strategies, sipfsm.testing)."""
    found = leaks()
    report = [f"{t}, received at: {', '.join(sorted(w)[:4])}" for t, w in sorted(found.items())]
    assert not found, (
        f"{len(found)} sipfsm types are received through the public API but importable from no "
        f"public module ({', '.join(PUBLIC)}); export them (or stop handing them out):\n  "
        + "\n  ".join(report)
    )


@pytest.mark.parametrize("module", PUBLIC)
def test_public_names_are_documented(module: str) -> None:
    """Every public class and function has a docstring (the API reference is built from them)."""
    bare = [
        n
        for n, obj in _public_names(module).items()
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj)
    ]
    assert not bare, f"{module}: public names without a docstring: {bare}"
