"""Pictures out of DOT: SVG and PNG through Graphviz's ``dot`` program, and the diagram files
(``MODEL.PROFILE[.STATE].FORMAT``) that ``sipfsm diagram`` and ``scripts/regen-diagrams`` write."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sipfsm.errors import SipfsmError
from sipfsm.model.loader import Machine
from sipfsm.render.dot import to_dot

#: Output formats ``dot`` is asked for (``dot`` itself means the DOT source, unrendered).
FORMATS: tuple[str, ...] = ("dot", "svg", "png")


class DotMissingError(SipfsmError):
    """Graphviz's ``dot`` program is not installed (Debian package ``graphviz``)."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's `dot` program was not found on PATH; it renders SVG and PNG. "
            "Install the Debian package graphviz (sudo apt-get install graphviz), "
            "or ask for --format dot only."
        )


def dot_program() -> str:
    """The path of Graphviz's ``dot``; :class:`DotMissingError` when it is not installed."""
    path = shutil.which("dot")
    if path is None:
        raise DotMissingError()
    return path


def render(source: str, fmt: str) -> bytes:
    """Render DOT ``source`` to ``svg`` or ``png`` bytes with ``dot``."""
    if fmt == "dot":
        return source.encode()
    if fmt not in FORMATS:
        raise SipfsmError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    cmd = [dot_program(), f"-T{fmt}"]
    if fmt == "png":
        cmd.append("-Gdpi=110")
    proc = subprocess.run(cmd, input=source.encode(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise SipfsmError(f"dot -T{fmt} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def file_stem(machine: Machine, profile: str, highlight: str | None = None) -> str:
    """``invite_client.rfc6026`` (and ``.Calling`` when one state is highlighted)."""
    stem = f"{machine.name}.{profile}"
    return f"{stem}.{highlight}" if highlight else stem


def write(
    machine: Machine,
    profile: str,
    formats: Sequence[str],
    out: Path,
    highlight: str | None = None,
    *,
    directory: Path | None = None,
) -> list[Path]:
    """Write the diagram of ``machine`` in each format to ``out``; return the paths written."""
    source = to_dot(machine, profile, highlight, directory=directory)
    if any(f != "dot" for f in formats):
        dot_program()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / f"{file_stem(machine, profile, highlight)}.{fmt}"
        path.write_bytes(render(source, fmt))
        written.append(path)
    return written
