"""The stateful proxy (RFC 3261 16): server transactions, the proxy core models, and a client
transaction per branch, on the one engine.

A request that matches no transaction gets its server transaction (17.2; the INVITE server
transaction's ``send_100`` is the hop's 100 Trying) and a machine of
``models/proxy_request.toml``: the proxy walks it, evaluating each state's check
(:data:`sipfsm.proxy.checks.CHECKS`) and feeding the outcome back. Its verbs are carried out
here: ``respond_NNN`` on the server transaction (the code from the vocabulary),
``preprocess_route`` (16.4), ``forward`` (16.6: one copy, one client transaction and one
machine of ``models/proxy_branch.toml`` per target, all under one machine of
``models/proxy_context.toml``). Responses that the branches' client transactions pass up feed
their branch (Timer C, 16.8) and then the context (16.7), whose verbs forward them.

The ACK of a 2xx matches no transaction: it goes through the same request processing and is
forwarded without a client transaction (17); a rejected one is dropped (an ACK is never
answered). Not in this slice (issue 14): CANCEL of a proxied request (16.10), the stateless
proxy (16.11), 3xx recursion and 401/407 aggregation (16.7 items 4, 7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sipfsm.engine.outputs import CoreAction, Output, ToTU
from sipfsm.engine.runner import GuardEvaluator, Runner
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_cancel, build_response
from sipfsm.message.message import Request, Response
from sipfsm.message.uri import URI
from sipfsm.model.timers import Timers
from sipfsm.proxy.checks import CHECKS, target_set
from sipfsm.proxy.element import Element
from sipfsm.proxy.forward import (
    best_response,
    branch_for,
    forwarded_copy,
    preprocessed,
    without_top_via,
)
from sipfsm.proxy.location import LocationService


@dataclass(eq=False)
class Context:
    """The response context of one forwarded request (16.6: created before forwarding)."""

    server_tx: Transaction
    request: Request
    runner: Runner
    branches: list[Branch] = field(default_factory=list)
    stored: list[Response] = field(default_factory=list)


@dataclass(eq=False)
class Branch:
    """One target of the target set: its copy, its client transaction and its machine."""

    context: Context
    request: Request
    runner: Runner
    tx: Transaction | None = None


class StatefulProxy(Element):
    """A stateful proxy (16.2) at ``host``, responsible for ``domains`` (16.5: their targets
    come from ``location``). ``record_route`` adds a Record-Route to every forwarded request
    (16.6 item 4); ``supported`` lists the option-tags it supports (16.3 item 5)."""

    def __init__(
        self,
        name: str,
        host: str,
        domains: Iterable[str] = (),
        location: LocationService | None = None,
        *,
        record_route: bool = False,
        supported: Iterable[str] = (),
        transport: str = "udp",
        timers: Timers | None = None,
    ) -> None:
        super().__init__(name, host, timers=timers)
        self.domains = frozenset(d.lower() for d in domains)
        self.location = location if location is not None else LocationService()
        self.record_route = record_route
        self.supported = frozenset(s.lower() for s in supported)
        self.transport = transport
        #: The response contexts by server transaction, while it lives (16.6, 16.10).
        self.contexts: dict[Transaction, Context] = {}
        #: The contexts with a live server transaction or a live branch (their timers).
        self._open: list[Context] = []
        self._branch_of: dict[Transaction, Branch] = {}
        self._cancels: set[Transaction] = set()

    # --- the clock: the transactions' timers and the branches' Timer C --------------------

    def get_timer(self) -> float | None:
        times = [self.layer.get_timer(), *(b.runner.get_timer() for b in self._branches())]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def handle_timer(self, now: float) -> None:
        while True:
            at = self.get_timer()
            if at is None or at > now:
                return
            if self.layer.get_timer() == at:
                super().handle_timer(at)
                continue
            for branch in self._branches():
                if branch.runner.get_timer() == at:
                    self._branch_outputs(branch, branch.runner.handle_timer(at), at)
                    break

    def _branches(self) -> list[Branch]:
        """The branches still running (a Completed one has no timer); a context is dropped
        once its server transaction and all its branches are done."""
        self._open = [
            c
            for c in self._open
            if not (c.server_tx.terminated and all(b.runner.terminated for b in c.branches))
        ]
        return [b for c in self._open for b in c.branches if not b.runner.terminated]

    def outputs(self, tx: Transaction, outputs: list[Output], now: float) -> None:
        """As for any element; then a terminated transaction is forgotten by the core too."""
        super().outputs(tx, outputs, now)
        if tx.terminated:
            self._branch_of.pop(tx, None)
            self._cancels.discard(tx)
            self.contexts.pop(tx, None)

    # --- requests: 16.3-16.6 --------------------------------------------------------------

    def to_core(self, tx: Transaction, out: ToTU, now: float) -> None:
        """What a transaction passes up: a new request (16.3), or a branch's response (16.7)."""
        if out.what == "request" and isinstance(out.message, Request):
            if out.message.method == "CANCEL" and self._cancel(tx, out.message, now):
                return
            self._process(tx, out.message, now)
        elif tx in self._cancels:
            return  # the response to our own CANCEL (16.7 item 3: no Via left for it)
        elif out.what == "response" and isinstance(out.message, Response):
            self._response(tx, out.message, now)
        elif out.what in ("timeout", "transport_error") and tx in self._branch_of:
            # 16.7 item 2 (a timeout: as if a 408 arrived); 16.9: "MUST behave as if the
            # forwarded request received a 503 (Service Unavailable) response"
            status = 408 if out.what == "timeout" else 503
            branch = self._branch_of[tx]
            self._response(tx, build_response(branch.request, status, to_tag=self.tag()), now)

    def _cancel(self, tx: Transaction, cancel: Request, now: float) -> bool:
        """16.10: a CANCEL matching a response context's server transaction (9.2's matching)
        is that context's ``ctx_cancel``; ``False`` when none matches."""
        invite_tx = self.layer.match_cancel(TransactionKey.from_message(cancel))
        ctx = self.contexts.get(invite_tx) if invite_tx is not None else None
        if ctx is None:
            return False
        outputs = ctx.runner.handle("ctx_cancel", now, cancel)
        for out in outputs:
            if isinstance(out, CoreAction) and out.verb == "respond_200":
                self.respond(tx, cancel, 200, now)
        self._context_outputs(ctx, [o for o in outputs if not _is(o, "respond_200")], None, now)
        return True

    def stray_ack(self, ack: Request, now: float) -> None:
        """An ACK that matches no server transaction (the ACK of a 2xx, 13.2.2.4, through a
        proxy that Record-Routes): processed like any request (16.3-16.6), forwarded without
        a client transaction (17: there is none for ACK)."""
        self._process(None, ack, now)

    def _process(self, tx: Transaction | None, req: Request, now: float) -> None:
        """Walk ``models/proxy_request.toml`` over the request, one check per step."""
        runner = self.runner("proxy_request")
        state = _Processing(tx, req)
        self._request_outputs(state, runner.start(now), now)
        while not runner.terminated:
            event = CHECKS[runner.state](state.request, self, now)
            self._request_outputs(state, runner.handle(event, now, state.request), now)

    def _request_outputs(self, state: _Processing, outputs: list[Output], now: float) -> None:
        for out in outputs:
            if not isinstance(out, CoreAction):
                continue
            if out.verb == "preprocess_route":
                state.request = preprocessed(state.request, self.host)
            elif out.verb == "forward":
                self._forward(state, now)
            elif out.status is not None:
                if state.tx is None:
                    continue  # an ACK is never answered (17): a rejected ACK is dropped
                headers = _headers(out.status, state.received, self.supported)
                self.respond(state.tx, state.received, out.status, now, headers)
            else:
                raise ProtocolError("proxy_request", "-", out.verb, "16", "no meaning here")

    def _forward(self, state: _Processing, now: float) -> None:
        """16.6: a response context, then per target a copy, a branch and its transaction;
        each branch computed from the request as received (16.6 item 8, 16.3 item 4)."""
        req = state.request
        if state.tx is None:  # the ACK of a 2xx: forwarded as is, no transaction (17)
            for index, target in enumerate(target_set(req, self, now), start=1):
                branch_id = branch_for(state.received, self.host, index)
                self.outbox.append(self._copy(req, target, branch_id).raw)
            return
        ctx = Context(state.tx, req, self.runner("proxy_context"))
        ctx.runner.start(now)
        self.contexts[state.tx] = ctx
        self._open.append(ctx)
        for index, target in enumerate(target_set(req, self, now), start=1):
            copy = self._copy(req, target, branch_for(state.received, self.host, index))
            branch = Branch(ctx, copy, self.runner("proxy_branch", self._guard_for(copy)))
            ctx.branches.append(branch)
            branch.runner.start(now)
            key = TransactionKey.from_message(copy)
            branch.tx, outputs = self.layer.send_request(key, copy, now, transport=self.transport)
            self._branch_of[branch.tx] = branch
            self._branch_outputs(branch, branch.runner.handle("br_sent", now, copy), now)
            self.outputs(branch.tx, outputs, now)

    def _copy(self, req: Request, target: URI, branch: str) -> Request:
        """16.6 items 1-9 for one target; Record-Route (item 4) when configured, on a request
        outside a dialog (no To tag: one that may create a dialog, 12.1)."""
        outside = not (req.to and req.to.tag)
        return forwarded_copy(
            req,
            target,
            sent_by=self.host,
            transport=self.transport,
            branch=branch,
            record_route=self.record_route and outside,
        )

    @staticmethod
    def _guard_for(copy: Request) -> GuardEvaluator:
        """The branch model's guards (``invite_request``): the method of its copy."""

        def guard(name: str, context: object) -> bool:
            invite = copy.method == "INVITE"
            return invite if name == "invite_request" else not invite

        return guard

    # --- responses: 16.7 ------------------------------------------------------------------

    def _response(self, tx: Transaction, resp: Response, now: float) -> None:
        branch = self._branch_of.get(tx)
        if branch is None:
            return
        event = branch.runner.event_for_status(resp.status, "branch")
        if event is not None:  # 16.7 item 2 (Timer C), on the branch
            self._branch_outputs(branch, branch.runner.handle(event, now, resp), now)
        self._to_context(branch.context, resp, now)

    def _to_context(self, ctx: Context, resp: Response, now: float) -> None:
        upstream = without_top_via(resp)  # 16.7 item 3
        if upstream is None:
            return
        event = ctx.runner.event_for_status(resp.status, "branch")
        if event is not None:  # 16.7 items 4-6, on the context
            self._context_outputs(ctx, ctx.runner.handle(event, now, upstream), upstream, now)
        self._maybe_done(ctx, now)

    def _maybe_done(self, ctx: Context, now: float) -> None:
        """16.7: every branch done and no final forwarded: the context chooses."""
        if all(b.runner.terminated for b in ctx.branches):
            outputs = ctx.runner.handle("ctx_all_done", now)
            self._context_outputs(ctx, outputs, None, now)

    def _context_outputs(
        self, ctx: Context, outputs: list[Output], resp: Response | None, now: float
    ) -> None:
        for out in outputs:
            if not isinstance(out, CoreAction):
                continue
            if out.verb == "forward_response" and resp is not None:
                self._send_upstream(ctx, resp, now)
            elif out.verb == "store_response" and resp is not None:
                ctx.stored.append(resp)
            elif out.verb == "cancel_branches":
                for b in ctx.branches:
                    if not b.runner.terminated:
                        self._branch_outputs(b, b.runner.handle("br_cancel", now), now)
            elif out.verb == "forward_best":
                self._send_upstream(ctx, best_response(ctx.stored, ctx.request, self.tag()), now)
            else:
                raise ProtocolError("proxy_context", "-", out.verb, "16.7", "no meaning here")

    def _send_upstream(self, ctx: Context, resp: Response, now: float) -> None:
        """16.7 item 9: the response goes out on the server transaction."""
        self.outputs(ctx.server_tx, self.layer.respond(ctx.server_tx, resp.status, now, resp), now)

    def _branch_outputs(self, branch: Branch, outputs: list[Output], now: float) -> None:
        for out in outputs:
            if not isinstance(out, CoreAction):
                continue
            if out.verb == "cancel_branch":  # 16.8, 16.10, with 9.1's CANCEL
                cancel = build_cancel(branch.request)
                key = TransactionKey.from_message(cancel)
                tx, sent = self.layer.send_request(key, cancel, now, transport=self.transport)
                self._cancels.add(tx)
                self.outputs(tx, sent, now)
            elif out.verb == "timeout_408":  # 16.8, 9.1: as if a 408 arrived
                if branch.tx is not None:
                    self.layer.destroy(branch.tx)  # 9.1: it matches nothing from now on
                timeout = build_response(branch.request, 408, to_tag=self.tag())
                self._to_context(branch.context, timeout, now)
            else:
                raise ProtocolError("proxy_branch", "-", out.verb, "16.8", "no meaning here")


def _is(out: Output, verb: str) -> bool:
    return isinstance(out, CoreAction) and out.verb == verb


def _headers(status: int, req: Request, supported: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """16.3 item 5: a 420 lists the unsupported option-tags in Unsupported."""
    if status == 420:
        unknown = [t for t in req.proxy_require if t.lower() not in supported]
        return (("Unsupported", ", ".join(unknown)),)
    return ()


@dataclass(eq=False)
class _Processing:
    """One request on its way through ``models/proxy_request.toml``."""

    tx: Transaction | None  # None: an ACK without a transaction
    received: Request
    request: Request = field(init=False)

    def __post_init__(self) -> None:
        self.request = self.received
