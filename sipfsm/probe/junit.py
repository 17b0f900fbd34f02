"""The probe's report as JUnit XML (``sipfsm probe --junit FILE``), for CI systems.

One ``<testsuite>`` for the run (its target, role, T1/T2/T4, seed and tolerance as
properties), one ``<testcase>`` per check (``classname`` ``sipfsm.probe.ROLE``, ``name`` the
check's id): a FAIL carries a ``<failure>`` whose message is the observed value and whose text
gives the RFC section, what was expected and the minimal exchange; an ERROR (the check raised:
a bug of the probe) carries an ``<error>`` with the exception as its message and the traceback
as its text; any other verdict that is neither pass nor fail (skip, inconclusive, or one a later
probe adds) is ``<skipped>`` with its reason. Text that
XML 1.0 cannot carry (control characters a hostile peer sent back) is written as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from sipfsm.probe.runner import CheckResult, Report

__all__ = ["junit_xml", "write_junit"]

#: Characters XML 1.0 does not allow (2.2 Characters), and the surrogates.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def junit_xml(report: Report) -> str:
    """The JUnit XML document of ``report``."""
    failures = sum(r.verdict == "fail" for r in report.results)
    errors = sum(r.verdict == "error" for r in report.results)
    skipped = sum(r.verdict not in ("pass", "fail", "error") for r in report.results)
    counts = {
        "tests": str(len(report.results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": f"{report.duration:.3f}",
    }
    suites = ET.Element("testsuites", {"name": "sipfsm probe", **counts})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {"name": _text(f"sipfsm probe {report.target}"), "timestamp": report.started, **counts},
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report.target),
        ("role", report.role),
        ("t1", f"{report.base.t1:g}"),
        ("t2", f"{report.base.t2:g}"),
        ("t4", f"{report.base.t4:g}"),
        ("tolerance", report.tolerance.describe()),
        ("seed", "" if report.seed is None else str(report.seed)),
        ("interrupted", str(report.interrupted).lower()),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    for result in report.results:
        _testcase(suite, result)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _testcase(suite: ET.Element, result: CheckResult) -> None:
    check = result.check
    case = ET.SubElement(
        suite, "testcase", {"classname": f"sipfsm.probe.{check.role}", "name": check.id}
    )
    if result.verdict == "fail":
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _text(result.observed), "type": f"RFC 3261 {check.section}"},
        )
        lines = [
            f"{check.id} ({check.section}): {check.title}",
            f"expected: {result.expected}",
            f"observed: {result.observed}",
            "minimal exchange:",
            *(f"  {e.t:8.3f}  {e.dir:<4}  {e.summary}" for e in result.trace),
        ]
        failure.text = _text("\n".join(lines))
    elif result.verdict == "error":
        error = ET.SubElement(
            case, "error", {"message": _text(result.observed), "type": "probe error"}
        )
        error.text = _text(result.traceback)
    elif result.verdict != "pass":
        ET.SubElement(case, "skipped", {"message": _text(f"{result.verdict}: {result.observed}")})


def write_junit(report: Report, path: Path) -> None:
    """Write the JUnit XML report."""
    path.write_text(junit_xml(report), encoding="utf-8")
