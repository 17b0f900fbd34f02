"""The identifiers a UA makes (RFC 3261 8.1.1.3, 8.1.1.4, 8.1.1.7, 19.3): tags, Call-IDs and
branches, its Via and its Contact, and a new request outside any dialog (8.1.1).

They are unique per UA and deterministic (a counter after the UA's name), so that a simulated
call is the same every run.
"""

from __future__ import annotations

from typing import TypedDict

from sipfsm.message.build import build_request
from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.message import Request


class Via(TypedDict):
    """Where a request of the UA is sent from (8.1.1.7): the keywords of the builders."""

    sent_by: str
    transport: str
    branch: str


class Identifiers:
    """The tags, Call-IDs and branches of one UA ``sip:user@host`` named ``name``; its address
    of record is ``sip:user@domain`` when a ``domain`` is given (RFC 3261 4: Alice's AOR is
    sip:alice@atlanta.com, her phone pc33.atlanta.com)."""

    def __init__(
        self, user: str, host: str, name: str, transport: str, domain: str | None = None
    ) -> None:
        self.user = user
        self.host = host
        #: The domain of the address of record (8.1.1.3), when it is not the UA's host.
        self.domain = domain or host
        self.name = name
        self.transport = transport
        self._n = 0

    @property
    def aor(self) -> str:
        """The address of record, ``sip:user@domain`` (the host when no domain is given)."""
        return f"sip:{self.user}@{self.domain}"

    def token(self, kind: str) -> str:
        """A new token: ``t`` a tag (19.3), ``c`` a Call-ID's local part, ``b`` a branch."""
        self._n += 1
        return f"{kind}{self.name}{self._n}"

    def via(self) -> Via:
        """Where a request of this UA is sent from: its Via (8.1.1.7), a new branch."""
        return Via(
            sent_by=self.host, transport=self.transport, branch=f"{MAGIC_COOKIE}{self.token('b')}"
        )

    def contact(self) -> str:
        """The UA's Contact (8.1.1.8)."""
        return f"<sip:{self.user}@{self.host}>"

    def new_request(
        self, method: str, target: str, to: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Request:
        """A request outside any dialog (8.1.1): a new From tag and Call-ID, CSeq 1."""
        via = self.via()
        return build_request(
            method,
            target,
            **via,
            to=f"<{to}>",
            from_=f"<{self.aor}>;tag={self.token('t')}",
            call_id=f"{self.token('c')}@{self.host}",
            contact=self.contact(),
            headers=headers,
        )
