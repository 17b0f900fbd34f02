"""Testing other SIP implementations: Hypothesis strategies for SIP messages
(:mod:`sipfsm.testing.strategies`) and :func:`differential`, which compares another parser with
sipfsm (RFC 3261 section 25, RFC 4475)."""

from sipfsm.testing.differ import Disagreement, Report, differential, sipfsm_fields

__all__ = ["Disagreement", "Report", "differential", "sipfsm_fields"]
