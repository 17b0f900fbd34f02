"""Data that ships with sipfsm, so that no command reads outside the installed package.

* ``rfc4475/``: the torture test messages of RFC 4475, byte for byte, and ``classes.json``
  (each message's section and what RFC 4475 expects of it); ``rfc4475/NOTICE`` says where
  they come from and under which terms (BCP 78). ``sipfsm demo`` parses them; the probe's
  ``malformed`` check sends them (:mod:`sipfsm.probe.corpus`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["RFC4475_DIR"]

#: The folder of the shipped RFC 4475 messages.
RFC4475_DIR = Path(__file__).resolve().parent / "rfc4475"
