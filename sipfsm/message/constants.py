"""The protocol constants of RFC 3261 that the ABNF of ``grammar/`` does not carry.

Each is written here once; every other module imports it. What the grammar does say (header
names, compact forms, which fields are comma lists, which take a bare addr-spec) is derived
from the compiled grammar in :mod:`sipfsm.message.grammar`, never written in Python.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "MAGIC_COOKIE",
    "REASONS",
    "SIP_VERSION",
    "default_port",
]

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


#: RFC 3261 section 21: the Reason-Phrase of each status code it defines (7.2: a
#: recommendation; the grammar takes any text).
REASONS: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    493: "Undecipherable",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}
