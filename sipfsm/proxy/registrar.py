"""The registrar (RFC 3261 10.3): ``models/registrar.toml`` over a non-INVITE server transaction.

Each REGISTER that reaches the core starts one machine of ``models/registrar.toml``. The
machine's states are the steps of 10.3; in each, :data:`CHECKS` evaluates that step on the
request (a message operation citing its step) and the outcome is the machine's next event.
The model decides what an outcome does; the verbs it returns are carried out here:
``respond_NNN`` answers with the code the vocabulary names (423 with Min-Expires, 420 with
Unsupported), ``update_bindings`` writes the location service (10.3 step 7) and ``respond_200``
lists every current binding with its expires (step 8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sipfsm.engine.outputs import CoreAction, Output, ToTU
from sipfsm.engine.transaction import Transaction
from sipfsm.errors import ProtocolError
from sipfsm.message.headers import NameAddr, Wildcard
from sipfsm.message.message import Request
from sipfsm.model.timers import Timers
from sipfsm.proxy.element import Element
from sipfsm.proxy.location import Binding, LocationService, canonical_aor

#: 10.2.1.1: with no expires parameter and no Expires header the registrar picks the interval;
#: this is its locally configured default (one hour, the value 10.2.1.1 names as typical).
DEFAULT_EXPIRES = 3600


@dataclass(frozen=True, slots=True)
class Update:
    """One Contact of a REGISTER: its URI (None for ``*``), its requested interval and q."""

    contact: NameAddr | None
    expires: int
    q: float


class Registrar(Element):
    """A registrar for ``domains`` writing ``location`` (10.3), sans-IO.

    ``min_expires`` is the shortest interval it accepts (10.3 step 7: 423 below it);
    ``supported`` the option-tags it supports (10.3 step 2).
    """

    def __init__(
        self,
        name: str,
        host: str,
        domains: Iterable[str],
        location: LocationService | None = None,
        *,
        min_expires: int = 60,
        supported: Iterable[str] = (),
        timers: Timers | None = None,
    ) -> None:
        super().__init__(name, host, timers=timers)
        self.domains = frozenset(d.lower() for d in domains)
        self.location = location if location is not None else LocationService()
        self.min_expires = min_expires
        self.supported = frozenset(s.lower() for s in supported)

    def to_core(self, tx: Transaction, out: ToTU, now: float) -> None:
        """A REGISTER on a new server transaction: run ``models/registrar.toml`` on it."""
        req = out.message
        if out.what != "request" or not isinstance(req, Request):
            return
        if req.method != "REGISTER":
            self.respond(tx, req, 405, now, (("Allow", "REGISTER"),))  # 8.2.1
            return
        runner = self.runner("registrar")
        self._carry_out(runner.start(now), tx, req, now)
        while not runner.terminated:
            event = CHECKS[runner.state](self, req, now)
            self._carry_out(runner.handle(event, now, req), tx, req, now)

    def _carry_out(self, outputs: list[Output], tx: Transaction, req: Request, now: float) -> None:
        for out in outputs:
            if not isinstance(out, CoreAction):
                continue
            if out.verb == "update_bindings":
                self._update(req, now)
            elif out.status is not None:
                self.respond(tx, req, out.status, now, self._headers(out.status, req, now))
            else:
                raise ProtocolError("registrar", "-", out.verb, "10.3", "no meaning here")

    def _headers(self, status: int, req: Request, now: float) -> tuple[tuple[str, str], ...]:
        if status == 200:  # 10.3 step 8: every current binding, with its expires
            aor = _aor(req)
            return tuple(
                ("Contact", f"<{b.contact}>;expires={b.expires_in(now)}")
                for b in self.location.bindings(aor, now)
            )
        if status == 423:  # 10.3 step 7
            return (("Min-Expires", str(self.min_expires)),)
        if status == 420:  # 8.2.2.3
            unknown = [t for t in req.require if t.lower() not in self.supported]
            return (("Unsupported", ", ".join(unknown)),)
        return ()

    # --- the checks of 10.3, one per state of the model ----------------------------------

    def check_require(self, req: Request, now: float) -> str:
        """Step 2: every option-tag of Require is supported (8.2.2.3)."""
        unknown = [t for t in req.require if t.lower() not in self.supported]
        return "reg_bad_extension" if unknown else "reg_ok"

    def check_aor(self, req: Request, now: float) -> str:
        """Step 5: the To URI is a SIP or SIPS address-of-record of one of our domains."""
        to = req.to
        ok = to is not None and to.uri.is_sip and (to.uri.host or "").lower() in self.domains
        return "reg_ok" if ok else "reg_aor_unknown"

    def check_contacts(self, req: Request, now: float) -> str:
        """Step 6: Contact ``*`` only alone and with Expires 0."""
        contacts = req.contact
        star = any(isinstance(c, Wildcard) for c in contacts)
        bad = star and (len(contacts) > 1 or req.expires != 0)
        return "reg_bad_contact" if bad else "reg_ok"

    def check_bindings(self, req: Request, now: float) -> str:
        """Step 7: each interval at least Min-Expires (or 0), and no update out of order."""
        aor = _aor(req)
        for u in _updates(req):
            if 0 < u.expires < self.min_expires:
                return "reg_interval_too_brief"
        call_id, seq = req.call_id or "", req.cseq.seq if req.cseq else 0
        for u in _updates(req):
            olds = (
                self.location.bindings(aor, now)
                if u.contact is None
                else [b for b in [self.location.find(aor, u.contact.uri, now)] if b]
            )
            if any(b.call_id == call_id and b.cseq >= seq for b in olds):
                return "reg_out_of_order"
        return "reg_ok"

    def _update(self, req: Request, now: float) -> None:
        """Step 7: add, refresh or remove each binding (all of them for ``*``)."""
        aor = _aor(req)
        call_id, seq = req.call_id or "", req.cseq.seq if req.cseq else 0
        for u in _updates(req):
            if u.contact is None:
                self.location.remove_all(aor)
            elif u.expires == 0:
                self.location.remove(aor, u.contact.uri, now)
            else:
                binding = Binding(u.contact.uri, now + u.expires, u.q, call_id, seq)
                self.location.put(aor, binding, now)


def _aor(req: Request) -> str:
    """The canonical address-of-record of a REGISTER (10.3 step 5: from To)."""
    return canonical_aor(req.to.uri) if req.to else ""


def _updates(req: Request) -> list[Update]:
    """The Contacts of a REGISTER with their intervals (10.2.1.1: the expires parameter, else
    the Expires header, else the registrar's default) and q-values (20.10, default 1.0)."""
    header = req.expires
    out = []
    for c in req.contact:
        if isinstance(c, Wildcard):
            out.append(Update(None, 0, 1.0))
            continue
        expires = c.expires if c.expires is not None else header
        out.append(
            Update(c, DEFAULT_EXPIRES if expires is None else expires, 1.0 if c.q is None else c.q)
        )
    return out


#: The check of each step (state of ``models/registrar.toml``): it returns the next event.
CHECKS: dict[str, Callable[[Registrar, Request, float], str]] = {
    "Require": Registrar.check_require,
    "AddressOfRecord": Registrar.check_aor,
    "Contacts": Registrar.check_contacts,
    "Bindings": Registrar.check_bindings,
}
