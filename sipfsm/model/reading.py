"""Reading helpers shared by the loaders of ``models/``: TOML in, checked values out.

Every check raises :class:`~sipfsm.ModelError` naming the file, the key and the reason, so a
mistake in a model, in ``vocabulary.toml`` or in ``timers.toml`` reads the same everywhere.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sipfsm.errors import ModelError

#: The profiles every model is read under: RFC 3261 as published, and as amended.
PROFILES: tuple[str, ...] = ("rfc3261", "rfc6026")
#: The default profile: the standard as amended (RFC 6026, RFC 4320).
DEFAULT_PROFILE = "rfc6026"


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; a missing file or bad TOML is a :class:`ModelError`."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ModelError(str(path), "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(str(path), "-", f"not valid TOML: {exc}") from None


def text(file: str, key: str, value: Any, *, optional: bool = False) -> str:
    """A non-empty string (``optional``: also absent, read as ``""``)."""
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not value and not optional):
        raise ModelError(file, key, f"expected a non-empty string, got {value!r}")
    return value


def names(file: str, key: str, value: Any) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ModelError(file, key, f"expected a name or a list of names, got {value!r}")


def profiles(file: str, key: str, value: Any) -> frozenset[str]:
    """The profiles named (absent: all of :data:`PROFILES`)."""
    if value is None:
        return frozenset(PROFILES)
    found = names(file, key, value)
    for n in found:
        if n not in PROFILES:
            raise ModelError(file, key, f"unknown profile {n!r} (known: {', '.join(PROFILES)})")
    return frozenset(found)


def check_keys(file: str, key: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Every key of ``table`` is one of ``allowed`` (``models/SCHEMA.md``)."""
    extra = sorted(set(table) - set(allowed))
    if extra:
        where = f"{key}.{extra[0]}" if key else extra[0]
        raise ModelError(file, where, "unknown key (see models/SCHEMA.md)")


def table(file: str, key: str, value: Any) -> dict[str, Any]:
    """A TOML table."""
    if not isinstance(value, dict):
        raise ModelError(file, key, "expected a table")
    return value
