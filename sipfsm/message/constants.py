"""The protocol constants of RFC 3261 that the ABNF of ``grammar/`` does not carry.

Each is written here once; every other module imports it. What the grammar does say (header
names, compact forms, which fields are comma lists, which take a bare addr-spec) is derived
from the compiled grammar in :mod:`sipfsm.message.grammar`, never written in Python.
"""

from __future__ import annotations

__all__ = ["DEFAULT_PORT", "DEFAULT_TLS_PORT", "MAGIC_COOKIE", "SIP_VERSION", "default_port"]

#: RFC 3261 section 8.1.1.7: the branch of a request sent by an RFC 3261 element starts with
#: this magic cookie (section 17.2.3 matches transactions on such branches).
MAGIC_COOKIE = "z9hG4bK"

#: RFC 3261 section 7.1: the SIP-Version of this specification (sections 7.2, 20.42 too).
SIP_VERSION = "SIP/2.0"

#: RFC 3261 sections 18.1.1, 18.2.1 and 19.1.2: the default port of sip: over UDP, TCP and
#: SCTP.
DEFAULT_PORT = 5060

#: RFC 3261 sections 18.1.1 and 19.1.2: the default port of sip: over TLS, and of sips:.
DEFAULT_TLS_PORT = 5061


def default_port(transport: str) -> int:
    """The port that a sent-by or a URI without one means on ``transport`` (sections 18.1.1,
    19.1.2).

    >>> default_port("UDP"), default_port("tls")
    (5060, 5061)
    """
    return DEFAULT_TLS_PORT if transport.upper() == "TLS" else DEFAULT_PORT
