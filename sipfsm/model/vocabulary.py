"""``models/vocabulary.toml``: every event, guard and action verb a model may name.

A response event has an ``origin`` (``"tl"``: from the transport layer, ``"tu"``: passed down by
the TU, ``"dialog"``: a response to the dialog-creating INVITE, received or sent; ``"branch"``: a
response a proxy's client transaction passes up to the proxy core, 16.7) and the
inclusive range of status codes it stands for; an engine maps a status code to the narrowest
such event of a machine's alphabet. An action that answers a request with a fixed status code
names it (``responds = 487``). Every guard names its complement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipfsm.errors import ModelError
from sipfsm.model.cache import cached
from sipfsm.model.paths import models_dir
from sipfsm.model.reading import check_keys, read_toml, text

ORIGINS: tuple[str, ...] = ("tl", "tu", "dialog", "branch")
_TERM_KEYS = (
    "label",
    "doc",
    "takes_timer",
    "takes_interval",
    "origin",
    "status",
    "complement",
    "responds",
)


@dataclass(frozen=True, slots=True)
class Term:
    """One name of the vocabulary: an event, a guard or an action verb."""

    name: str
    label: str
    doc: str
    takes_timer: bool = False
    takes_interval: bool = False
    #: Response events: where the response comes from (:data:`ORIGINS`) and its status range.
    origin: str | None = None
    status: tuple[int, int] | None = None
    #: Guards: the guard that holds exactly when this one does not.
    complement: str | None = None
    #: Actions that answer a request: the status code of the response (``respond_487``: 487).
    responds: int | None = None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """``models/vocabulary.toml``: every event, guard and action a model may name."""

    events: Mapping[str, Term]
    guards: Mapping[str, Term]
    actions: Mapping[str, Term]


def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """Read ``vocabulary.toml`` from ``directory`` (default: :func:`models_dir`)."""
    path = (directory or models_dir()) / "vocabulary.toml"
    return cached("vocabulary", path, lambda: (_read(path), [path]))


def _read(path: Path) -> Vocabulary:
    data, file = read_toml(path), path.name
    sections: dict[str, dict[str, Term]] = {}
    for section in ("events", "guards", "actions"):
        table = data.get(section)
        if not isinstance(table, dict):
            raise ModelError(file, section, "missing table")
        sections[section] = {
            name: _term(file, f"{section}.{name}", name, body) for name, body in table.items()
        }
    for name, term in sections["guards"].items():
        other = sections["guards"].get(term.complement or "")
        if other is None or other.complement != name:
            raise ModelError(
                file,
                f"guards.{name}.complement",
                "every guard names a complement that names it back",
            )
    return Vocabulary(sections["events"], sections["guards"], sections["actions"])


def _term(file: str, key: str, name: str, body: Any) -> Term:
    if not isinstance(body, dict):
        raise ModelError(file, key, "expected a table")
    check_keys(file, key, body, _TERM_KEYS)
    return Term(
        name=name,
        label=text(file, f"{key}.label", body.get("label")),
        doc=text(file, f"{key}.doc", body.get("doc")),
        takes_timer=bool(body.get("takes_timer", False)),
        takes_interval=bool(body.get("takes_interval", False)),
        origin=_origin(file, key, body),
        status=_status(file, key, body),
        complement=body.get("complement"),
        responds=_responds(file, key, body),
    )


def _origin(file: str, key: str, body: Mapping[str, Any]) -> str | None:
    origin = body.get("origin")
    if origin is not None and origin not in ORIGINS:
        raise ModelError(file, f"{key}.origin", f"expected one of {', '.join(ORIGINS)}")
    if (origin is None) != (body.get("status") is None):
        raise ModelError(file, key, "a response event has both origin and status")
    return origin


def _status(file: str, key: str, body: Mapping[str, Any]) -> tuple[int, int] | None:
    raw = body.get("status")
    if raw is None:
        return None
    ok = (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int) for v in raw)
        and 100 <= raw[0] <= raw[1] <= 699
    )
    if not ok:
        raise ModelError(file, f"{key}.status", "expected [low, high] within 100-699")
    return (raw[0], raw[1])


def _responds(file: str, key: str, body: Mapping[str, Any]) -> int | None:
    raw = body.get("responds")
    if raw is None:
        return None
    if not key.startswith("actions.") or not isinstance(raw, int) or not 100 <= raw <= 699:
        raise ModelError(file, f"{key}.responds", "an action's status code, 100-699")
    return raw
