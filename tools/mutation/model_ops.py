"""Mutation operators for ``models/*.toml`` (format: ``models/SCHEMA.md``):

* ``timer-number`` (``timers.toml``): an interval written with a base replaced by the number it
  equals at the default bases: ``T4`` -> ``5``, ``64*T1`` -> ``32`` (issue 22: Timer I or K
  written as ``5`` passed every behavioural test);
* ``redirect``: a transition's ``dest`` replaced by another state that exists under every
  profile the rule applies to (chosen with the seeded generator);
* ``drop-action``: one action of a transition's or of the start's ``actions`` removed; but
  not a ``stop`` on the way to a terminal state of a dialog or session model: their runner
  (``sipfsm/engine/runner.py``) stops every timer when the machine terminates, so that drop
  is equivalent by construction (transactions keep it: their engine does not).

Each mutant edits one line; the files are read with ``tomllib`` to know what the lines mean.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Iterator
from typing import Any

from tools.mutation.edits import Context, Mutant, number

_HEADER = re.compile(r"^\s*\[\[?([A-Za-z0-9_.\-]+)\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)\s*=\s*(.*?)\s*$")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_EXPR = re.compile(r"^(?:(\d+(?:\.\d+)?)\*)?(T1|T2|T4)$")


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(1-based line number, offset of the line, the line without its newline)."""
    offset = 0
    for n, line in enumerate(text.split("\n"), start=1):
        yield n, offset, line
        offset += len(line) + 1


def _blocks(text: str) -> Iterator[tuple[str, int, int, int, str]]:
    """For every ``key = value`` line: (table header, index of that header among equal ones,
    line number, offset of the line, the line)."""
    header, counts = "", dict[str, int]()
    for n, offset, line in _lines(text):
        m = _HEADER.match(line)
        if m and not line.lstrip().startswith("#"):
            header = line.strip().split("#")[0].strip()
            counts[header] = counts.get(header, -1) + 1
            continue
        if _KEY.match(line) and not line.lstrip().startswith("#"):
            yield header, counts.get(header, 0), n, offset, line


def timer_numbers(path: str, text: str, ctx: Context) -> Iterator[Mutant]:
    """``timer-number``: every interval of ``[timers.*]`` that names a base."""
    if not path.endswith("timers.toml"):
        return
    base = {k: float(v["value"]) for k, v in tomllib.loads(text)["base"].items()}
    for header, _, n, offset, line in _blocks(text):
        key = _KEY.match(line)
        if (
            key is None
            or not header.startswith("[timers.")
            or key.group(2) not in ("unreliable", "reliable", "cap")
        ):
            continue
        value = _STRING.search(line)
        expr = _EXPR.match(value.group(1)) if value else None
        if value is None or expr is None:
            continue
        seconds = float(expr.group(1) or 1) * base[expr.group(2)]
        timer = header.strip("[]").split(".", 1)[1]
        desc = f"Timer {timer} {key.group(2)}: {value.group(1)} -> {number(seconds)}"
        start, end = offset + value.start(1), offset + value.end(1)
        yield Mutant(path, "timer-number", n, desc, start, end, number(seconds))


def _profiles(entry: dict[str, Any], every: frozenset[str]) -> frozenset[str]:
    return frozenset(entry.get("profiles", every))


def every_profile(texts: list[str]) -> frozenset[str]:
    """Every profile some state or rule of these model files names."""
    names: set[str] = set()
    for text in texts:
        model = tomllib.loads(text)
        for entry in model.get("states", []) + model.get("transitions", []):
            names.update(entry.get("profiles", []))
    return frozenset(names)


def _rule(rule: dict[str, Any]) -> str:
    """``Calling --timer_A[unreliable]-->``: a rule as the report names it."""

    def one(v: str | list[str]) -> str:
        return v if isinstance(v, str) else "|".join(v)

    guard = f"[{rule['guard']}]" if "guard" in rule else ""
    return f"{one(rule['source'])} --{one(rule['event'])}{guard}-->"


def redirects(path: str, text: str, ctx: Context) -> Iterator[Mutant]:
    """``redirect``: every transition's destination, moved to another state it may reach."""
    model = tomllib.loads(text)
    if "transitions" not in model:
        return
    every = ctx.profiles
    states = model.get("states", [])
    rng = random.Random(f"{ctx.seed}/{path}/redirect")
    for header, index, n, offset, line in _blocks(text):
        key = _KEY.match(line)
        if header != "[[transitions]]" or key is None or key.group(2) != "dest":
            continue
        rule = model["transitions"][index]
        need = _profiles(rule, every)
        others = [
            s["name"] for s in states if s["name"] != rule["dest"] and need <= _profiles(s, every)
        ]
        if not others:
            continue
        new = rng.choice(others)
        value = _STRING.search(line)
        assert value is not None
        desc = f"{_rule(rule)} {rule['dest']} -> {new}"
        yield Mutant(path, "redirect", n, desc, offset + value.start(1), offset + value.end(1), new)


def dropped_actions(path: str, text: str, ctx: Context) -> Iterator[Mutant]:
    """``drop-action``: each action of each transition (and of ``[start]``) left out."""
    model = tomllib.loads(text)
    terminal = {s["name"] for s in model.get("states", []) if s.get("terminal")}
    cleared = model.get("machine", {}).get("kind") in ("dialog", "session")
    for header, index, n, offset, line in _blocks(text):
        key = _KEY.match(line)
        if key is None or key.group(2) != "actions" or header not in ("[[transitions]]", "[start]"):
            continue
        rule = model["start"] if header == "[start]" else model["transitions"][index]
        ends = cleared and rule.get("dest") in terminal
        where = "start" if header == "[start]" else _rule(rule)
        items = list(_STRING.finditer(line))
        for i, item in enumerate(items):
            if ends and item.group(1).startswith("stop "):
                continue
            if i + 1 < len(items):
                start, end = item.start(), items[i + 1].start()
            elif i > 0:
                start, end = items[i - 1].end(), item.end()
            else:
                start, end = item.start(), item.end()
            desc = f"{where}: drop `{item.group(1)}`"
            yield Mutant(path, "drop-action", n, desc, offset + start, offset + end, "")


OPERATORS = {"timer-number": timer_numbers, "redirect": redirects, "drop-action": dropped_actions}
