"""sipfsm: RFC 3261 SIP as data.

The grammar is the RFC's ABNF (``grammar/``), the state machines are data (``models/``), and
this package is the small engine that runs them. The public API is what this module exports;
every other module is private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sipfsm._errors import ModelError, SipfsmError

__all__ = [
    "ModelError",
    "SipfsmError",
    "__version__",
]
