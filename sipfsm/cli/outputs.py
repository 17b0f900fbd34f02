"""Where the subcommands write: every output path is checked before the work starts.

A subcommand that writes files (``diagram --out``, ``demo --out``, ``probe --json`` and
``--report-dir``) calls :func:`output_folder` or :func:`output_file` on each path first, so a
path that cannot be written is a usage error (exit 2, one line) before the probe runs or the
first picture is drawn, never a traceback after the work is done. :func:`writing` turns an
``OSError`` met while writing anyway (disk full, a folder removed meanwhile) into the same
one-line error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sipfsm.errors import SipfsmError


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _probe_writable(folder: Path, option: str) -> None:
    """Create and remove a scratch file in ``folder``: the one test every file system answers."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sipfsm-", delete=True):
            pass
    except OSError as exc:
        raise SipfsmError(f"{option} {str(folder)!r}: cannot write there: {_reason(exc)}") from None


def output_folder(path: Path, option: str) -> Path:
    """Make sure ``path`` is a folder the command can write into (created when missing).

    ``option`` names the option in the message, e.g. ``--out``."""
    if path.exists() and not path.is_dir():
        raise SipfsmError(f"{option} {str(path)!r} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SipfsmError(f"{option} {str(path)!r}: cannot create it: {_reason(exc)}") from None
    _probe_writable(path, option)
    return path


def output_file(path: Path, option: str) -> Path:
    """Make sure ``path`` can be written as a file (its folder created when missing); the file
    itself is not created, so a run stopped early leaves no empty report."""
    if path.is_dir():
        raise SipfsmError(f"{option} {str(path)!r} is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise SipfsmError(f"{option} {str(path)!r}: cannot write there: permission denied")
    output_folder(path.parent, option)
    return path


@contextmanager
def writing(path: Path, option: str) -> Iterator[None]:
    """Report an ``OSError`` raised while writing ``path`` as a one-line usage error."""
    try:
        yield
    except OSError as exc:
        raise SipfsmError(f"{option} {str(path)!r}: cannot write: {_reason(exc)}") from None
