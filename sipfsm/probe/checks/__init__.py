"""The checks of ``sipfsm probe``, as data: one :class:`Check` record per RFC 3261 rule, split
by the subject judged.

* :mod:`~sipfsm.probe.checks.base`: the records (:class:`Check`, :class:`ProbeContext`,
  :class:`Outcome`, :class:`Users`, :class:`Trigger`);
* :mod:`~sipfsm.probe.checks.common`: what several exchanges share;
* :mod:`~sipfsm.probe.checks.invite_server`: the INVITE server transaction and the UAS's 2xx
  (17.2.1, 13.3.1.4);
* :mod:`~sipfsm.probe.checks.non_invite_server`: the non-INVITE server transaction (17.2.2);
* :mod:`~sipfsm.probe.checks.cancel`: CANCEL (9.2);
* :mod:`~sipfsm.probe.checks.malformed`: malformed requests (8.2, 21.4, RFC 4475);
* :mod:`~sipfsm.probe.checks.client`: the target's client transactions and ACKs (role server:
  17.1.1.2, 17.1.2.2, 17.1.1.3, 13.2.2.4);
* :mod:`~sipfsm.probe.checks.registry`: :data:`CHECKS`, in order, and :func:`by_id`.
"""

from __future__ import annotations

from sipfsm.probe.checks.base import Check, Outcome, ProbeContext, Trigger, Users
from sipfsm.probe.checks.registry import CHECKS, by_id

__all__ = ["CHECKS", "Check", "Outcome", "ProbeContext", "Trigger", "Users", "by_id"]
