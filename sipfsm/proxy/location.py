"""The location service (RFC 3261 10, 16.5): bindings of addresses-of-record to contacts, sans-IO.

A registrar writes it (10.3 step 7), a proxy reads it to build a target set (16.5). Each
binding has its contact URI, the instant it expires, its q-value (20.10) and the Call-ID and
CSeq of the REGISTER that last wrote it (10.3 step 7 orders updates by them). Time is passed
in: nothing here reads a clock; an expired binding is simply not listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipfsm.message.uri import URI


@dataclass(frozen=True, slots=True)
class Binding:
    """One contact of an address-of-record (10.3 step 7)."""

    contact: URI
    expires_at: float
    q: float
    call_id: str
    cseq: int

    def expires_in(self, now: float) -> int:
        """Seconds left, as the 200 of 10.3 step 8 lists them (whole seconds, rounded up)."""
        left = self.expires_at - now
        whole = int(left)
        return whole + (1 if left > whole else 0)


def canonical_aor(uri: URI) -> str:
    """The address-of-record of a To URI, made canonical (10.3 step 5): ``sip:user@host``
    without port, parameters or headers, the host in lower case, the user unescaped."""
    user = uri.user_unescaped
    host = (uri.host or "").lower()
    return f"{uri.scheme.lower()}:{user + '@' if user else ''}{host}"


class LocationService:
    """Bindings per address-of-record, keyed by :func:`canonical_aor`."""

    def __init__(self) -> None:
        self._bindings: dict[str, list[Binding]] = {}

    def bindings(self, aor: str, now: float) -> list[Binding]:
        """The current bindings of ``aor`` at ``now``, highest q first (then oldest first)."""
        live = [b for b in self._bindings.get(aor, []) if b.expires_at > now]
        self._bindings[aor] = live
        return sorted(live, key=lambda b: -b.q)

    def find(self, aor: str, contact: URI, now: float) -> Binding | None:
        """The current binding of ``aor`` for ``contact`` (URI equivalence, 19.1.4)."""
        return next((b for b in self.bindings(aor, now) if b.contact.equivalent(contact)), None)

    def put(self, aor: str, binding: Binding, now: float) -> None:
        """Add ``binding``, replacing the one of the same contact (10.3 step 7: update)."""
        kept = [b for b in self.bindings(aor, now) if not b.contact.equivalent(binding.contact)]
        self._bindings[aor] = [*kept, binding]

    def remove(self, aor: str, contact: URI, now: float) -> None:
        """Remove the binding of ``contact`` (10.3 step 7: expiration interval 0)."""
        self._bindings[aor] = [
            b for b in self.bindings(aor, now) if not b.contact.equivalent(contact)
        ]

    def remove_all(self, aor: str) -> None:
        """Remove every binding of ``aor`` (10.3 step 6: Contact * with Expires 0)."""
        self._bindings.pop(aor, None)
