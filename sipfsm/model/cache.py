"""The one cache of everything read from ``models/``: machines, vocabularies, timer tables.

An entry is keyed by what was read (its kind and path) and remembers the files it came from
with their size and modification time; a file changed on disk is read again. Every loader of
:mod:`sipfsm.model` goes through :func:`cached`, so one model file is parsed once per process
however many engines, user agents and commands ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, cast

T = TypeVar("T")
_Stamp = tuple[Path, int, int]
_ENTRIES: dict[tuple[str, Path], tuple[object, tuple[_Stamp, ...]]] = {}


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (path, st.st_mtime_ns, st.st_size)


def cached(kind: str, path: Path, build: Callable[[], tuple[T, Sequence[Path]]]) -> T:
    """The value ``build`` makes for ``path`` (it returns the value and the files it read),
    from the cache while none of those files changed."""
    key = (kind, path)
    hit = _ENTRIES.get(key)
    if hit is not None and all(_stamp(s[0]) == s for s in hit[1]):
        return cast(T, hit[0])
    value, files = build()
    stamps = tuple(s for s in (_stamp(f) for f in files) if s is not None)
    _ENTRIES[key] = (value, stamps)
    return value


def clear() -> None:
    """Forget every entry (tests that rewrite model files in place)."""
    _ENTRIES.clear()
