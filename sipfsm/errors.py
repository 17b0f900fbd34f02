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


class ProtocolError(SipfsmError):
    """An event a transaction cannot take in its state: an ``error`` pair of its model.

    Names the machine, the state, the event and the section of the rule that forbids it.
    """

    def __init__(
        self, machine: str, state: str, event: str, section: str, reason: str = ""
    ) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        self.section = section
        self.reason = reason
        where = section if section.startswith("RFC") else f"RFC 3261 {section}"
        tail = f": {reason}" if reason else ""
        super().__init__(f"{machine}: {event} is refused in state {state} ({where}){tail}")


class ParseError(SipfsmError):
    """A SIP message is malformed (RFC 3261 section 25 and the message-level rules).

    ``line`` and ``column`` are 1-based positions in the original bytes, ``rule`` the ABNF rule
    being matched (or the RFC section of a message-level rule), ``code`` a short, stable,
    kebab-case name of the defect (``bad-request-uri``, ``content-length-mismatch``, ...) and
    ``reason`` one line for people.
    """

    def __init__(self, code: str, reason: str, *, line: int, column: int, rule: str) -> None:
        self.code = code
        self.reason = reason
        self.line = line
        self.column = column
        self.rule = rule
        super().__init__(f"line {line}, column {column}: {code}: {reason} (rule {rule})")
