"""``sipfsm probe``: property tests of live SIP implementations over UDP and TCP.

The pieces (each module's docstring says more):

* :mod:`~sipfsm.probe.oracle`: what RFC 3261 (17, 13.3.1.4, Table 4) expects on the wire and
  when, written independently of the models;
* :mod:`~sipfsm.probe.checks`: the checks, as data (id, section, role, what is sent, what is
  expected, tolerance, Hypothesis strategy of parameters, exchange), one module per subject
  judged, and their registry;
* :mod:`~sipfsm.probe.corpus`: the malformed requests (RFC 4475, generated defects) and the
  verdict each deserves;
* :mod:`~sipfsm.probe.io` and :mod:`~sipfsm.probe.wire`: exchanges over
  :mod:`sipfsm.net.aio` (every request of the target answered at once), and the messages the
  probe writes (matched to their transactions per 17.1.3);
* :mod:`~sipfsm.probe.sdp`: the offer in the probe's INVITEs and the answer in an ACK;
* :mod:`~sipfsm.probe.runner`: Hypothesis drives and shrinks each check against the target
  (:mod:`~sipfsm.probe.triggers` make it send, role server; :mod:`~sipfsm.probe.progress`
  shows how far it got);
* :mod:`~sipfsm.probe.reference`: sipfsm's own UA (behind the 8.2 checks of
  :mod:`sipfsm.ua.screen`, on :class:`sipfsm.net.server.Server`), the embedded default target;
* :mod:`~sipfsm.probe.report`: table, JSON and ladder SVGs.
"""

from __future__ import annotations

from sipfsm.probe.checks import CHECKS, Check, Outcome, Users
from sipfsm.probe.oracle import Base, Tolerance, doubling, judge_train
from sipfsm.probe.runner import CheckResult, ProbeConfig, Report, Unreachable, probe

__all__ = [
    "CHECKS",
    "Base",
    "Check",
    "CheckResult",
    "Outcome",
    "ProbeConfig",
    "Report",
    "Tolerance",
    "Unreachable",
    "Users",
    "doubling",
    "judge_train",
    "probe",
]
