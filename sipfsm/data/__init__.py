"""Data that ships with sipfsm, so that no command reads outside the installed package.

* ``rfc4475/``: the torture test messages of RFC 4475, byte for byte, and ``classes.json``
  (each message's section and what RFC 4475 expects of it); ``rfc4475/NOTICE`` says where
  they come from and under which terms (BCP 78). ``sipfsm demo`` parses them; the probe's
  ``malformed`` check sends them (:mod:`sipfsm.probe.corpus`).
* ``rfc3261/``: the text of RFC 3261 itself, byte for byte, with ``rfc3261/NOTICE`` (its Full
  Copyright Statement): the source of the section texts shown beside the models.
* ``_grammar/``: the ABNF of ``grammar/`` (a link to it in a checkout, the files themselves in a
  wheel), which the teaching site's ABNF browser shows rule by rule (``sipfsm site``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ABNF_DIR", "RFC3261_TEXT", "RFC4475_DIR"]

#: The folder of the shipped RFC 4475 messages.
RFC4475_DIR = Path(__file__).resolve().parent / "rfc4475"

#: The shipped text of RFC 3261 (see ``rfc3261/NOTICE``).
RFC3261_TEXT = Path(__file__).resolve().parent / "rfc3261" / "rfc3261.txt"

#: The ABNF files of ``grammar/`` (RFC 3261 section 25, the core rules, the extensions).
ABNF_DIR = (Path(__file__).resolve().parent / "_grammar").resolve()
