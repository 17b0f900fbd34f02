"""``sipfsm probe``: property tests of live SIP implementations over UDP and TCP.

The pieces (each module's docstring says more):

* :mod:`~sipfsm._probe.oracle`: what RFC 3261 (17, 13.3.1.4, Table 4) expects on the wire and
  when, written independently of the models;
* :mod:`~sipfsm._probe.checks`: the registry of checks, as data (id, section, role, what is
  sent, what is expected, tolerance, Hypothesis strategy of parameters, exchange);
* :mod:`~sipfsm._probe.corpus`: the malformed requests (RFC 4475, generated defects) and the
  verdict each deserves;
* :mod:`~sipfsm._probe.io` and :mod:`~sipfsm._probe.wire`: exchanges over
  :mod:`sipfsm._aio`, and the messages the probe writes;
* :mod:`~sipfsm._probe.runner`: Hypothesis drives and shrinks each check against the target;
* :mod:`~sipfsm._probe.reference`: sipfsm's own UA, the embedded default target;
* :mod:`~sipfsm._probe.report`: table, JSON and ladder SVGs.
"""

from __future__ import annotations

from sipfsm._probe.checks import CHECKS, Check, Outcome, Users
from sipfsm._probe.oracle import Base, Tolerance, doubling, judge_train
from sipfsm._probe.runner import CheckResult, ProbeConfig, Report, Unreachable, probe

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
