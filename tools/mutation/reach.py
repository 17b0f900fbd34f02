"""What mutmut 3 cannot mutate in a core file: decorated functions (but a lone
``@staticmethod`` or ``@classmethod``) and code outside functions (module level, class
bodies). The data mutants and the grammar tests have to cover that code."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})


@dataclass(frozen=True, slots=True)
class Unreached:
    path: str
    #: ``name (@decorator)`` of every decorated function or method mutmut skips.
    decorated: tuple[str, ...]
    #: Names bound by module-level or class-level statements that compute something.
    top_level: tuple[str, ...]


def skipped_by_mutmut(f: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """mutmut 3.8.1 leaves a decorated function alone, but a lone staticmethod/classmethod."""
    if not f.decorator_list:
        return False
    only = f.decorator_list[0]
    return not (
        len(f.decorator_list) == 1 and isinstance(only, ast.Name) and only.id in _PLAIN_DECORATORS
    )


def _is_def(node: ast.stmt) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef]:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)


def _decorator(f: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return ", ".join("@" + ast.unparse(d).split("(")[0] for d in f.decorator_list)


def _computes(stmt: ast.stmt) -> list[str]:
    """The names a statement binds, when it runs code (not an import, def, docstring or a
    bare annotation)."""
    if isinstance(stmt, ast.Assign):
        targets = [t for t in stmt.targets if isinstance(t, ast.Name)]
        return [t.id for t in targets if not t.id.startswith("__")]
    if (
        isinstance(stmt, ast.AnnAssign)
        and stmt.value is not None
        and isinstance(stmt.target, ast.Name)
    ):
        return [stmt.target.id]
    if isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try):
        return [f"(statement, line {stmt.lineno})"]
    return []


def unreached(root: Path, path: str) -> Unreached:
    """The parts of ``path`` mutmut leaves alone."""
    tree = ast.parse((root / path).read_text())
    decorated: list[str] = []
    top: list[str] = []
    for stmt in tree.body:
        if _is_def(stmt) and skipped_by_mutmut(stmt):
            decorated.append(f"{stmt.name} ({_decorator(stmt)})")
        elif isinstance(stmt, ast.ClassDef):
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and skipped_by_mutmut(
                    item
                ):
                    decorated.append(f"{stmt.name}.{item.name} ({_decorator(item)})")
                elif isinstance(item, ast.Assign):
                    top.extend(f"{stmt.name}.{n}" for n in _computes(item))
        elif not (isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)):
            top.extend(_computes(stmt))
    return Unreached(path, tuple(decorated), tuple(top))
