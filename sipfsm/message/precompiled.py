"""Every terminal of the grammar compiled at import, from a cache of the regex engine's code
(issue 11, defect 7: the first use of any typed view must not pay for compiling a large regex).

Compiling the terminals of ``_generated/sip.lark`` (RFC 3261 section 25) with :func:`re.compile`
costs over 100 ms, almost all of it in Python (``re._parser`` reads the pattern, ``re._compiler``
emits the engine's code); handing that code to the C engine (``_sre.compile``) costs about
1 ms for all of them. :func:`compile_all` therefore keeps the code of every pattern in the
user's cache folder (``$XDG_CACHE_HOME/sipfsm`` or ``~/.cache/sipfsm``, beside Lark's tables),
in one file keyed by the patterns, the Python version and the engine's ``MAGIC``: a process
loads it and builds every pattern in a few milliseconds. Without it (first run, a new Python,
a changed grammar) the patterns are compiled in full once and the file is written; without a
writable folder, or on an interpreter whose ``re`` internals differ, every pattern is compiled
with :func:`re.compile` at import. Either way the patterns are ready before the first view.

The engine checks the code it is given (``_sre`` validates it), and the file carries a CRC of
its content: a damaged or foreign file is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import sys
import zlib
from array import array
from collections.abc import Mapping
from importlib import import_module
from typing import Any

__all__ = ["cache_folder", "compile_all"]

#: A pattern as the C engine takes it: (flags, code, groups, groupindex, indexgroup); the code
#: as the octets of an ``array("I")`` (the engine's code words are 4 octets: ``CODESIZE``).
_Code = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]


def cache_folder() -> str | None:
    """The user's writable cache folder for sipfsm, made if needed; None when there is none."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "sipfsm")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _internals() -> tuple[Any, Any, Any] | None:
    """``re._parser``, ``re._compiler`` and ``_sre`` (CPython 3.11+), or None elsewhere."""
    try:
        return (import_module("re._parser"), import_module("re._compiler"), import_module("_sre"))
    except ImportError:  # pragma: no cover - another interpreter
        return None


def _code_of(text: str, internals: tuple[Any, Any, Any]) -> _Code:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` for ``text`` (no flags)."""
    parser, compiler, _ = internals
    p = parser.parse(text, 0)
    code = array("I", compiler._code(p, 0)).tobytes()
    groupindex: dict[str, int] = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    return (int(p.state.flags), code, p.state.groups - 1, groupindex, tuple(indexgroup))


def _build(text: str, code: _Code, sre: Any) -> re.Pattern[str]:
    flags, ops, groups, groupindex, indexgroup = code
    words = array("I")
    words.frombytes(ops)
    pattern: re.Pattern[str] = sre.compile(
        text, flags, words.tolist(), groups, groupindex, indexgroup
    )
    return pattern


def _key(patterns: Mapping[str, str], sre: Any) -> str:
    h = hashlib.sha256(f"{sys.version}\n{sre.MAGIC}\n{sre.CODESIZE}\n".encode())
    for name in sorted(patterns):
        h.update(f"{name}\0{patterns[name]}\0".encode())
    return h.hexdigest()[:20]


def _load(path: str, patterns: Mapping[str, str], sre: Any) -> dict[str, re.Pattern[str]] | None:
    """The patterns built from the cache file at ``path``; None when it is missing, damaged
    or for other patterns."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
        digest, body = blob[:4], blob[4:]
        if zlib.crc32(body).to_bytes(4, "big") != digest:
            return None
        codes: dict[str, _Code] = marshal.loads(body)
        if codes.keys() != patterns.keys():
            return None
        return {name: _build(patterns[name], codes[name], sre) for name in patterns}
    except (OSError, ValueError, TypeError, EOFError, RuntimeError):
        return None


def _store(path: str, codes: dict[str, _Code]) -> None:
    """Write the cache file atomically (a file per process, renamed into place)."""
    try:
        body = marshal.dumps(codes)
    except ValueError:  # pragma: no cover - not plain data
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        with open(tmp, "wb") as f:
            f.write(zlib.crc32(body).to_bytes(4, "big") + body)
        os.replace(tmp, path)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def compile_all(patterns: Mapping[str, str]) -> dict[str, re.Pattern[str]]:
    """Every pattern of ``patterns`` (name -> regex text) compiled: from the cache file when it
    holds them, else compiled now (and the cache file written). See the module docstring."""
    internals = _internals()
    folder = cache_folder()
    if internals is None or folder is None or array("I").itemsize != internals[2].CODESIZE:
        return {name: re.compile(text) for name, text in patterns.items()}
    sre = internals[2]
    path = os.path.join(folder, f"re-{_key(patterns, sre)}.marshal")
    got = _load(path, patterns, sre)
    if got is not None:
        return got
    try:
        codes = {name: _code_of(text, internals) for name, text in patterns.items()}
        built = {name: _build(patterns[name], codes[name], sre) for name in patterns}
    except Exception:  # pragma: no cover - re internals not as expected
        return {name: re.compile(text) for name, text in patterns.items()}
    _store(path, codes)
    return built
