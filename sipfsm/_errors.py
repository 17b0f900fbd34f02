"""Exceptions of sipfsm: every failure a user can cause has its own type and a clear message."""

from __future__ import annotations


class SipfsmError(Exception):
    """Base class of every error sipfsm raises on purpose."""


class ModelError(SipfsmError):
    """A model or timer file in ``models/`` is wrong: names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file = file
        self.key = key
        self.reason = reason
        super().__init__(f"{file}: {key}: {reason}")
