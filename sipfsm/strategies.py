"""Hypothesis strategies for SIP: the stable public name of :mod:`sipfsm.testing.strategies`.

``from sipfsm.strategies import messages`` keeps working as the README has always shown it; the
strategies themselves live with the rest of the testing face in :mod:`sipfsm.testing`.
"""

from sipfsm.testing.strategies import (
    DEFECTS,
    Malformed,
    malformed_messages,
    message_bytes,
    messages,
    name_addrs,
    request_bytes,
    requests,
    response_bytes,
    responses,
    tokens,
    uris,
)

__all__ = [
    "DEFECTS",
    "Malformed",
    "malformed_messages",
    "message_bytes",
    "messages",
    "name_addrs",
    "request_bytes",
    "requests",
    "response_bytes",
    "responses",
    "tokens",
    "uris",
]
