"""The registry of ``sipfsm probe``'s checks: :data:`CHECKS`, one :class:`Check` record per
RFC 3261 rule, in the order they run; :func:`by_id` selects from it.

A check that cannot apply to a target (it answered 404 where the check needs a 2xx, it has
no UDP ...) returns ``skip`` with the reason.
"""

from __future__ import annotations

from typing import Any

from sipfsm.probe.checks.base import Check, Params, ProbeContext, st
from sipfsm.probe.checks.cancel import cancel, cancel_unknown
from sipfsm.probe.checks.client import (
    ack_for_2xx,
    ack_for_non_2xx,
    invite_client_retransmit,
    non_invite_client_retransmit,
)
from sipfsm.probe.checks.common import any_transport
from sipfsm.probe.checks.invite_server import (
    invite_server_absorbs_retransmit,
    invite_server_ack_stops_retransmit,
    invite_server_final_retransmit,
    uas_2xx_no_ack_bye,
    uas_2xx_retransmit,
)
from sipfsm.probe.checks.malformed import malformed, malformed_explicit, malformed_params
from sipfsm.probe.checks.non_invite_server import non_invite_server_absorbs_retransmit
from sipfsm.probe.oracle import doubling

__all__ = ["CHECKS", "by_id"]


def _fixed(**kw: st.SearchStrategy[Any]) -> st.SearchStrategy[Params]:
    return st.fixed_dictionaries(kw)


def _reject_users(ctx: ProbeContext) -> st.SearchStrategy[str]:
    return st.sampled_from(list(ctx.users.reject))


CHECKS: tuple[Check, ...] = (
    Check(
        "invite-server-final-retransmit",
        "17.2.1",
        "client",
        "INVITE server transaction retransmits a non-2xx final per Timer G until Timer H",
        "INVITE to a rejecting user; the ACK is withheld",
        "final response at T1, 3T1, 7T1 ... (interval doubling, cap T2) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=any_transport(c), user=_reject_users(c)),
        invite_server_final_retransmit,
        long=True,
        by_transport=True,
    ),
    Check(
        "invite-server-ack-stops-retransmit",
        "17.2.1",
        "client",
        "the ACK of a non-2xx stops Timer G",
        "INVITE to a rejecting user; ACK after k retransmissions",
        "no retransmission of the final response after the ACK",
        "messages in flight: 50 ms",
        lambda c: _fixed(
            transport=any_transport(c), user=_reject_users(c), acks_after=st.integers(0, 3)
        ),
        invite_server_ack_stops_retransmit,
        by_transport=True,
    ),
    Check(
        "uas-2xx-retransmit",
        "13.3.1.4",
        "client",
        "the UAS core retransmits its 2xx until the ACK",
        "INVITE to an answering user; ACK after k 2xx retransmissions",
        "2xx at T1, 3T1, 7T1 ... (doubling, cap T2) on any transport; none after the ACK",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(
            transport=any_transport(c), k=st.integers(1, len(doubling(c.base.t1, c.base.t2, c.t64)))
        ),
        uas_2xx_retransmit,
        long=True,
    ),
    Check(
        "uas-2xx-no-ack-bye",
        "13.3.1.4",
        "client",
        "without an ACK the 2xx is retransmitted for 64*T1, then the UAS sends BYE",
        "INVITE to an answering user; no ACK ever",
        "2xx retransmissions until 64*T1, then BYE (SHOULD)",
        "intervals max(50 ms, 10%); BYE within 10% of 64*T1",
        lambda c: _fixed(transport=any_transport(c)),
        uas_2xx_no_ack_bye,
        long=True,
    ),
    Check(
        "invite-server-absorbs-retransmit",
        "17.2.1",
        "client",
        "a retransmitted INVITE is absorbed by its server transaction",
        "INVITE, then the same INVITE again at drawn instants within Timer H; ACK twice",
        "each retransmission answered with the last response (same status and To tag); "
        "no new transaction; retransmitted ACK not answered",
        "an answer within max(200 ms, 4 x 50 ms)",
        lambda c: _fixed(
            user=st.sampled_from([*c.users.reject, *([c.users.ring] if c.users.ring else [])]),
            at=st.lists(st.integers(0, 9), min_size=1, max_size=3),
        ),
        invite_server_absorbs_retransmit,
        long=True,
    ),
    Check(
        "non-invite-server-absorbs-retransmit",
        "17.2.2",
        "client",
        "a retransmitted non-INVITE request is absorbed during Timer J",
        "OPTIONS, then the same OPTIONS again at drawn instants within Timer J",
        "the same final response (status, To tag) to each retransmission",
        "an answer within max(200 ms, 4 x 50 ms)",
        lambda c: _fixed(
            method=st.sampled_from(["OPTIONS"]),
            at=st.lists(st.integers(0, 9), min_size=1, max_size=3),
        ),
        non_invite_server_absorbs_retransmit,
        long=True,
    ),
    Check(
        "malformed",
        "8.2; 21.4; RFC 4475",
        "client",
        "malformed and semantically wrong requests get the response the RFC prescribes",
        "RFC 4475 invalid/semantic requests (all) and generated one-defect requests",
        "400/416/420/415/505/...; dropped only where allowed; never accepted",
        "an answer within min(max(16*T1, 1 s), 4 s)",
        malformed_params,
        malformed,
        explicit=malformed_explicit,
        last=True,
        timed=False,
    ),
    Check(
        "cancel",
        "9.2",
        "client",
        "CANCEL of a ringing INVITE: 200 to the CANCEL, 487 to the INVITE",
        "INVITE to a ringing user, CANCEL after a drawn delay",
        "200 (CANCEL) and 487 (INVITE)",
        "answers within max(2 s, 8*T1)",
        lambda c: _fixed(transport=any_transport(c), delay=st.integers(0, 4)),
        cancel,
        timed=False,
    ),
    Check(
        "cancel-unknown",
        "9.2",
        "client",
        "CANCEL matching no transaction gets 481",
        "CANCEL with a fresh branch and Call-ID",
        "481",
        "an answer within 2 s",
        lambda c: _fixed(transport=any_transport(c)),
        cancel_unknown,
        timed=False,
    ),
    Check(
        "invite-client-retransmit",
        "17.1.1.2",
        "server",
        "INVITE client transaction retransmits per Timer A until Timer B",
        "nothing: the probe stays silent",
        "INVITE at T1, 3T1, 7T1 ... (doubling, no cap) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=any_transport(c)),
        invite_client_retransmit,
        long=True,
        by_transport=True,
    ),
    Check(
        "non-invite-client-retransmit",
        "17.1.2.2",
        "server",
        "non-INVITE client transaction retransmits per Timer E until Timer F",
        "nothing to the non-INVITE request (an INVITE first gets 200)",
        "request at T1, 3T1, 7T1 ... (doubling, cap T2) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=any_transport(c)),
        non_invite_client_retransmit,
        long=True,
        by_transport=True,
    ),
    Check(
        "ack-for-non-2xx",
        "17.1.1.3",
        "server",
        "the ACK of a non-2xx final response",
        "a non-2xx final (drawn status) to the target's INVITE",
        "ACK on the INVITE's branch, To tag ours, CSeq n ACK, same Request-URI and Route",
        "an ACK within max(2 s, 4*T1)",
        lambda c: _fixed(
            transport=any_transport(c),
            status=st.sampled_from([486, 404, 480, 603]),
            delay=st.integers(0, 3),
        ),
        ack_for_non_2xx,
        timed=False,
    ),
    Check(
        "ack-for-2xx",
        "13.2.2.4",
        "server",
        "the ACK of a 2xx is a new transaction",
        "200 with a Contact to the target's INVITE",
        "ACK with a new branch, Request-URI = our Contact, CSeq n ACK, To tag ours",
        "an ACK within max(2 s, 8*T1)",
        lambda c: _fixed(transport=any_transport(c), delay=st.integers(0, 3)),
        ack_for_2xx,
        timed=False,
    ),
)


def by_id(ids: list[str] | None = None, role: str | None = None) -> list[Check]:
    """The checks with these ids (all when None), of ``role`` when given, in registry
    order. Unknown ids raise ValueError."""
    known = {c.id for c in CHECKS}
    if ids:
        bad = [i for i in ids if i not in known]
        if bad:
            raise ValueError(
                f"unknown check(s) {', '.join(bad)}; known: {', '.join(sorted(known))}"
            )
    return [c for c in CHECKS if (not ids or c.id in ids) and (role is None or c.role == role)]
