"""The faces' import rules, read from the source (issue 10): nothing below ``cli/`` imports
``sipfsm.cli`` (only the ``python -m sipfsm`` entry point does); ``net/`` imports neither the
probe nor the CLI (the probe may import ``net/``); the UAS behaviour of 8.2 (``ua/screen.py``)
stays sans-IO."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sipfsm"
SANS_IO_BANNED = ("asyncio", "socket", "subprocess", "graphviz", "time")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def _modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(
    "path", [p for p in _modules() if "cli" not in p.relative_to(PACKAGE).parts[:1]], ids=str
)
def test_nothing_below_cli_imports_it(path: Path) -> None:
    if path == PACKAGE / "__main__.py":  # the entry point of ``python -m sipfsm``
        return
    assert not any(_within(m, "sipfsm.cli") for m in _imports(path))


@pytest.mark.parametrize("path", _modules("net"), ids=str)
def test_net_imports_neither_probe_nor_cli(path: Path) -> None:
    bad = [m for m in _imports(path) if _within(m, "sipfsm.probe") or _within(m, "sipfsm.cli")]
    assert not bad


def test_uas_behaviour_is_sans_io() -> None:
    names = _imports(PACKAGE / "ua" / "screen.py")
    assert not [m for m in names if any(_within(m, b) for b in SANS_IO_BANNED)]
    assert not [m for m in names if _within(m, "sipfsm.net") or _within(m, "sipfsm.probe")]
