"""Copies of ``models/`` with one defect each, for the tests of the loader's errors.

A test copies the committed folder into ``tmp_path``, reads one file with ``tomllib``, changes
one value (or removes it) at a path of keys and list indices, and writes the file back with
:func:`dumps`, a small TOML writer for what these files hold (tables, arrays of tables,
strings, numbers, booleans, lists). The writer is itself checked: every committed file read
back from it is the same data (``tests/test_model_errors.py``).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sipfsm.errors import ModelError
from sipfsm.model.loader import models_dir

#: The value of an edit that removes the key (or list item) instead of setting it.
DELETE = object()

Step = str | int


def copy_models(tmp_path: Path) -> Path:
    """A copy of the committed ``models/`` folder (with ``shared/``) under ``tmp_path``."""
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    return folder


def read(folder: Path, name: str) -> dict[str, Any]:
    with (folder / name).open("rb") as fh:
        return tomllib.load(fh)


def write(folder: Path, name: str, data: dict[str, Any]) -> None:
    text = dumps(data)
    assert tomllib.loads(text) == data, f"the test's TOML writer lost data of {name}"
    (folder / name).write_text(text)


def edit(folder: Path, name: str, path: Sequence[Step], value: object) -> None:
    """Set ``path`` of file ``name`` to ``value`` (:data:`DELETE`: remove it). Every step but
    the last must exist; so must the last one when it is removed."""
    data = read(folder, name)
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    last = path[-1]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list) and isinstance(last, int) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    write(folder, name, data)


def caught(load: Any, *args: object) -> tuple[str, str, str]:
    """The (file, key, reason) of the :class:`ModelError` that ``load(*args)`` raises."""
    try:
        load(*args)
    except ModelError as err:
        return (err.file, err.key, err.reason)
    raise AssertionError(f"{load.__name__}{args!r} raised no ModelError")


# --- the TOML writer --------------------------------------------------------------------------


def dumps(data: dict[str, Any]) -> str:
    """``data`` as TOML that :mod:`tomllib` reads back as ``data``."""
    lines: list[str] = []
    _table(lines, [], data)
    return "\n".join(lines) + "\n"


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(name: str) -> str:
    return json.dumps(name)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    if path:
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for k, v in table.items():
        if not isinstance(v, dict) and not _is_tables(v):
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in table.items():
        if isinstance(v, dict):
            _table(lines, [*path, k], v)
    for k, v in table.items():
        if _is_tables(v):
            for item in v:
                lines.append(f"[[{'.'.join(_key(p) for p in [*path, k])}]]")
                for ik, iv in item.items():
                    lines.append(f"{_key(ik)} = {_value(iv)}")
