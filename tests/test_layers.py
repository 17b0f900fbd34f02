"""The layering rules of issue 10, enforced by reading the imports (never importing the modules).

Every ``.py`` file under ``sipfsm/`` is parsed with :mod:`ast`; every import is an edge, wherever
it stands: at module level, inside a function, under ``if TYPE_CHECKING:``, or as a call of
``importlib.import_module``/``__import__`` with a literal name. A lazy or type-only import is
still a dependency: it is how a circle or an upward reach hides.

The rules:

(a) no import circle among sipfsm modules;
(b) the sans-IO core (message, engine, model, ua, abnf) imports no I/O, concurrency or clock module
    (:data:`SANS_IO_FORBIDDEN`);
(c) nothing outside ``sipfsm/cli/`` imports ``sipfsm.cli``;
(d) a layer imports only the layers :data:`ALLOWED` lists for it (lower layers, never higher:
    errors < model, message < engine < ua < api < sim, render, net < testing < probe < cli);
(e) no module is over :data:`MAX_LINES` lines unless its docstring says why, in a line containing
    "longer than 600 lines because".
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sipfsm"

#: The layers of issue 10, bottom to top, each with the layers its modules may import besides
#: its own. A layer is a subpackage of ``sipfsm`` (``sipfsm.engine.table`` is in ``engine``) or
#: a top-level module of :data:`TOP_LEVEL`. The order:
#:
#:     errors  <  model, message  <  engine  <  ua  <  api  <  sim, render, net
#:             <  testing  <  probe  <  cli                  (abnf: beside, for cli only)
#:                          sim, render  <  site  <  cli
#:
#: * ``errors`` holds the exceptions every layer raises; ``data`` (files shipped with the
#:   package: the RFC 4475 corpus) imports nothing and is read by the tools that send or show it.
#: * ``model`` (the loader of ``models/``) and ``message`` stand side by side at the bottom of
#:   the sans-IO core and do not import one another; ``engine`` runs the models, ``ua`` both;
#:   ``proxy`` (the proxy and the registrar, 16 and 10.3) stands beside ``ua``, neither importing
#:   the other.
#: * ``api`` is the public facade ``sipfsm`` (``sipfsm/__init__.py``), re-exporting the core:
#:   the faces above it may use it, the core below must not (that would be a circle). The
#:   facades ``sipfsm.headers``, ``sipfsm.aio`` and ``sipfsm.strategies`` are in the layer they
#:   re-export.
#: * The faces ``sim``, ``render`` and ``net`` stand side by side above the core.
#: * ``testing`` (strategies, differential) and ``probe`` are the tools; the probe draws its
#:   parameters from the testing strategies, never the other way.
#: * ``abnf`` is the grammar compiler, run at build time: its output reaches the message layer
#:   as generated files (``message/_generated``), so no run-time layer imports it; only ``cli``.
#: * ``site`` (issue 17) writes the teaching site from the models: it draws them (``render``),
#:   plays the scenarios (``sim``), quotes RFC 3261 (``data``) and reads the models and their
#:   translations (``model``); only ``cli`` (``sipfsm site``, the demo) imports it. It uses no
#:   engine of its own: the page's script follows the model data.
#:
#: Only what is listed is allowed: a new dependency between layers is a decision, made here.
_CORE = frozenset({"errors", "model", "message", "engine", "ua", "proxy", "api"})
_FACES = frozenset({"sim", "render", "net"})
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "data": frozenset(),
    "abnf": frozenset({"errors"}),
    "model": frozenset({"errors"}),
    "message": frozenset({"errors"}),
    "engine": frozenset({"errors", "model", "message"}),
    "ua": frozenset({"errors", "model", "message", "engine"}),
    "proxy": frozenset({"errors", "model", "message", "engine"}),
    "api": frozenset({"errors", "model", "message", "engine", "ua"}),
    "sim": _CORE,
    "render": _CORE,
    "net": _CORE,
    "testing": _CORE | _FACES,
    "probe": _CORE | _FACES | {"testing", "data"},
    "site": frozenset({"errors", "model", "message", "render", "sim", "data"}),
    "cli": _CORE | _FACES | {"testing", "probe", "abnf", "data", "site"},
}

#: Top-level modules of ``sipfsm`` and the layer each belongs to.
TOP_LEVEL: dict[str, str] = {
    "sipfsm": "api",
    "sipfsm.errors": "errors",
    "sipfsm.headers": "message",
    "sipfsm.aio": "net",
    "sipfsm.strategies": "testing",
    "sipfsm.__main__": "cli",
}

#: The sans-IO core: these layers never touch a socket, a process, a thread, a renderer or a clock.
SANS_IO = ("message", "engine", "model", "ua", "proxy", "abnf")
SANS_IO_FORBIDDEN = frozenset(
    {
        "asyncio",
        "socket",
        "subprocess",
        "selectors",
        "threading",
        "multiprocessing",
        "concurrent",
        "graphviz",
        "time",
    }
)
#: ``datetime`` is allowed as a data type (the Date header's value, RFC 3261 20.17), but no
#: sans-IO module may read the clock through it: these attribute calls are forbidden.
CLOCK_CALLS = frozenset({"now", "utcnow", "today", "fromtimestamp", "monotonic", "perf_counter"})

MAX_LINES = 600
LONG_REASON = "longer than 600 lines because"


@dataclass(frozen=True)
class Import:
    """One import statement (or literal ``import_module`` call) in a sipfsm module."""

    target: str  # the imported module, resolved to a sipfsm module where it is one
    line: int

    @property
    def top(self) -> str:
        return self.target.partition(".")[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    """Every sipfsm module by dotted name."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: Collection[str]) -> str:
    """The module of ``modules`` a dotted name lives in (``sipfsm.a.b.C`` -> ``sipfsm.a.b``), or
    ``name`` itself when it is not a sipfsm name."""
    probe = name
    while probe and probe not in modules:
        probe = probe.rpartition(".")[0]
    return probe if probe.startswith("sipfsm") else name


def _absolute(package: str, node: ast.ImportFrom) -> str:
    """The absolute name of ``from ... import`` (relative imports resolved against ``package``,
    the package the importing module is in)."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _literal_import(node: ast.Call) -> str | None:
    """``import_module("x")`` / ``importlib.import_module("x")`` / ``__import__("x")``: ``x``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    arg = node.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _targets(package: str, node: ast.AST, modules: Collection[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (_resolve(alias.name, modules) for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(package, node)
        for alias in node.names:
            yield _resolve(f"{base}.{alias.name}", modules) if base.startswith("sipfsm") else base
    elif isinstance(node, ast.Call) and (literal := _literal_import(node)) is not None:
        yield _resolve(literal, modules)


def imports_in(source: str, package: str, modules: Collection[str]) -> tuple[Import, ...]:
    """Every import in ``source`` (a module of ``package``), wherever it stands: module level,
    function, ``if TYPE_CHECKING:``, or a literal ``import_module`` call; each resolved to the
    module of ``modules`` it names."""
    found = {
        Import(target, node.lineno)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.stmt | ast.expr)
        for target in _targets(package, node, modules)
    }
    return tuple(sorted(found, key=lambda i: (i.line, i.target)))


@cache
def imports(module: str) -> tuple[Import, ...]:
    """Every import in the sipfsm module ``module``."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package, _modules())


def graph() -> dict[str, set[str]]:
    """sipfsm module -> the sipfsm modules it imports (itself excluded)."""
    return {
        m: {i.target for i in imports(m) if i.top == "sipfsm" and i.target != m} for m in _modules()
    }


def layer(module: str) -> str:
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    return module.split(".")[1]


def tangles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan): each is one tangle of
    modules that all reach one another by imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One circle (``a -> b -> ... -> a``) through each tangle, for the failure message."""
    return [circle(t, edges) for t in tangles(edges)]


def circle(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One shortest circle through the smallest member of a strongly connected ``component``."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"not strongly connected: {sorted(component)}")  # pragma: no cover


def _where(module: str, target: str) -> str:
    lines = sorted({i.line for i in imports(module) if i.target == target})
    return f"{_modules()[module].relative_to(ROOT)}:{','.join(map(str, lines))}"


# --- the rules ---------------------------------------------------------------------------------


SAMPLE = """
from __future__ import annotations
import importlib
from typing import TYPE_CHECKING
import sipfsm.message.uri
from sipfsm.errors import ParseError
from . import dialog
from ..message import headers as H, Header
if TYPE_CHECKING:
    from sipfsm.engine.outputs import Send
def f():
    import asyncio
    from time import monotonic
    return importlib.import_module("sipfsm.render.diagram")
"""


def test_the_reader_sees_every_kind_of_import() -> None:
    """Self-check of the reader on a sample module of ``sipfsm.ua``: plain, from, relative,
    TYPE_CHECKING, function-level and literal lazy imports are all edges, each resolved to the
    sipfsm module it names; and the circle finder names a circle."""
    known = {"sipfsm", "sipfsm.errors", "sipfsm.message", "sipfsm.message.headers"}
    known |= {"sipfsm.message.uri", "sipfsm.ua", "sipfsm.ua.dialog", "sipfsm.engine.outputs"}
    found = {i.target for i in imports_in(SAMPLE, "sipfsm.ua", known | {"sipfsm.render.diagram"})}
    assert found == {
        "__future__",
        "importlib",
        "typing",
        "sipfsm.message.uri",
        "sipfsm.errors",
        "sipfsm.ua.dialog",
        "sipfsm.message.headers",
        "sipfsm.message",
        "sipfsm.engine.outputs",
        "asyncio",
        "time",
        "sipfsm.render.diagram",
    }
    assert len(_modules()) > 50 and graph()["sipfsm.__main__"] >= {"sipfsm.cli.main"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_circles() -> None:
    """(a) No circle among sipfsm modules, counting every import wherever it stands."""
    edges = graph()
    report = []
    for tangle in tangles(edges):
        loop = circle(tangle, edges)
        report.append(" -> ".join(loop) + f" (a tangle of {len(tangle)} modules; its imports:)")
        report.extend(
            f"    {a} -> {b} at {_where(a, b)}"
            for a in sorted(tangle)
            for b in sorted(edges[a] & tangle)
        )
    assert not report, "rule (a), import circles among sipfsm modules:\n  " + "\n  ".join(report)


def test_sans_io_core_imports_no_io() -> None:
    """(b) message/, engine/, model/, ua/, abnf/ import no sockets, processes, threads, asyncio,
    graphviz or clock (``time``, ``datetime``): they are sans-IO, driven from outside."""
    bad = [
        f"{m} imports {i.target} ({_modules()[m].relative_to(ROOT)}:{i.line})"
        for m in _modules()
        if layer(m) in SANS_IO
        for i in imports(m)
        if i.top in SANS_IO_FORBIDDEN
    ]
    assert not bad, "rule (b), I/O or a clock in the sans-IO core:\n  " + "\n  ".join(bad)


def test_sans_io_core_reads_no_clock() -> None:
    """(b) continued: ``datetime`` may be imported for its types, but nothing in the sans-IO core
    calls ``datetime.now()``, ``date.today()``, ``time.monotonic()`` or the like."""
    bad = []
    for m, path in _modules().items():
        if layer(m) not in SANS_IO:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                bad.append(f"{m} calls .{node.func.attr}() ({where})")
    assert not bad, "rule (b), a clock read in the sans-IO core:\n  " + "\n  ".join(bad)


def test_only_the_cli_imports_the_cli() -> None:
    """(c) Nothing outside sipfsm/cli/ (and ``python -m sipfsm``) imports sipfsm.cli."""
    bad = [
        f"{m} imports {t} ({_where(m, t)})"
        for m, targets in graph().items()
        if layer(m) != "cli"
        for t in sorted(targets)
        if layer(t) == "cli"
    ]
    assert not bad, "rule (c), sipfsm.cli imported from outside it:\n  " + "\n  ".join(bad)


def test_every_module_has_a_layer() -> None:
    unknown = sorted(m for m in _modules() if layer(m) not in ALLOWED)
    assert not unknown, f"modules in no layer of ALLOWED (add the layer there): {unknown}"


@pytest.mark.parametrize("lower", sorted(ALLOWED))
def test_a_layer_imports_only_lower_layers(lower: str) -> None:
    """(d) A module imports only its own layer and the layers ALLOWED lists for it."""
    bad = [
        f"{m} ({lower}) imports {t} ({layer(t)}) at {_where(m, t)}"
        for m, targets in graph().items()
        if layer(m) == lower
        for t in sorted(targets)
        if layer(t) != lower and layer(t) not in ALLOWED[lower]
    ]
    allowed = ", ".join(sorted(ALLOWED[lower])) or "nothing"
    assert not bad, f"rule (d), layer {lower} may import only {allowed}:\n  " + "\n  ".join(bad)


def test_the_layer_table_has_no_upward_edge() -> None:
    """The table itself is a strict order: no layer may import a layer that may import it."""
    mutual = sorted(
        (a, b) for a, deps in ALLOWED.items() for b in deps if a == b or a in ALLOWED[b]
    )
    assert not mutual, f"ALLOWED lets these layers import each other: {mutual}"


def test_no_module_over_600_lines_without_a_reason() -> None:
    """(e) A module over 600 lines states why in its docstring ("longer than 600 lines because")."""
    bad = []
    for m, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if LONG_REASON not in doc:
            bad.append(f"{m} ({path.relative_to(ROOT)}): {lines} lines")
    assert not bad, (
        f"rule (e), modules over {MAX_LINES} lines whose docstring does not say "
        f'"{LONG_REASON} ...":\n  ' + "\n  ".join(bad)
    )
