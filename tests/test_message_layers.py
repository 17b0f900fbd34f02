"""The message and grammar layers import one way: no circle among the modules of
``sipfsm/message/`` and ``sipfsm/abnf/`` (every import counts: module level, inside a function
and under ``TYPE_CHECKING``), and ``sipfsm/model/`` never imports ``sipfsm/render/``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sipfsm"


def _modules(folder: str) -> dict[str, Path]:
    return {
        f"sipfsm.{folder}.{p.stem}" if p.stem != "__init__" else f"sipfsm.{folder}": p
        for p in (PACKAGE / folder).glob("*.py")
    }


def _is_module(name: str) -> bool:
    rel = PACKAGE.parent.joinpath(*name.split("."))
    return rel.with_suffix(".py").exists() or (rel / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Every ``sipfsm`` module ``path`` imports, wherever the import stands: ``from P import
    m`` of a submodule ``m`` imports ``P.m``; of a name, it imports ``P`` itself."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if _is_module(sub) else node.module)
    return {m for m in out if m.startswith("sipfsm.")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph``, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return [*path[path.index(d) :], d]
            if d not in state and (found := visit(d)) is not None:
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)) is not None:
            return found
    return None


@pytest.mark.parametrize("folder", ["message", "abnf"])
def test_no_import_circle(folder: str) -> None:
    mods = _modules(folder)
    graph = {m: {d for d in _imports(p) if d in mods and d != m} for m, p in mods.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_models_do_not_import_their_renderer() -> None:
    for path in (PACKAGE / "model").glob("*.py"):
        bad = {m for m in _imports(path) if m.startswith("sipfsm.render")}
        assert not bad, f"{path.name} imports {sorted(bad)}"
