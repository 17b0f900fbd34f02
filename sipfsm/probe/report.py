"""The probe's report: a summary table, the JSON document, and ladder diagrams (SVG).

The JSON document carries, per check, every exchange it ran with the raw bytes of each
message sent and received (``exchanges``), so that a report can be replayed: bounded by
:data:`RAW_LIMITS`, which the document states (``raw_messages``), and latin-1 text (one
character per octet: ``text.encode("latin-1")`` gives the bytes back).

Each failing check's minimal trace is drawn as a ladder (sequence) diagram with Graphviz:
two panels side by side, the oracle's expected timeline on the left and the observed one on
the right, each with the probe's and the target's lifelines, one arrow per message, labelled
with its time and summary. Rows are spaced by order (not to scale) so close messages stay
readable; the time is in every label.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sipfsm.probe.checks import Outcome
from sipfsm.probe.io import Event
from sipfsm.probe.runner import CheckResult, Report
from sipfsm.probe.verdict import VERDICTS

__all__ = ["RAW_LIMITS", "exchanges_json", "ladder_dot", "report_json", "table", "write_json",
           "write_ladders"]  # fmt: skip

#: Bounds of the raw messages in the JSON report: octets kept of each message, messages kept of
#: each exchange, exchanges kept of each check (those in error and failing ones first), and
#: octets kept of all of one check's messages (what a flooding peer can make a report weigh:
#: 1 MiB per check).
RAW_LIMITS = {
    "max_octets_per_message": 8192,
    "max_messages_per_exchange": 200,
    "max_exchanges_per_check": 40,
    "max_octets_per_check": 1 << 20,
}


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def table(report: Report, width: int = 200) -> str:
    """The human summary: one row per check, expected vs observed in one line each."""
    rows = [("CHECK", "RFC", "VERDICT", "EXPECTED", "OBSERVED")]
    for r in report.results:
        rows.append((r.check.id, r.check.section, r.verdict.upper(), r.expected, r.observed))
    w_id = max(len(x[0]) for x in rows)
    w_rfc = min(max(len(x[1]) for x in rows), 18)
    w_verdict = max(7, *(len(x[2]) for x in rows))
    rest = max(40, width - w_id - w_rfc - 12)
    w_exp = rest // 2
    lines = []
    for i, (cid, rfc, verdict, exp, obs) in enumerate(rows):
        lines.append(
            f"{cid:<{w_id}}  {_cut(rfc, w_rfc):<{w_rfc}}  {verdict:<{w_verdict}} "
            f"{_cut(exp, w_exp):<{w_exp}}  {_cut(obs, rest - w_exp)}"
        )
        if i == 0:
            lines.append("-" * min(width, len(lines[0]) + 10))
    counts = {v: sum(r.verdict == v for r in report.results) for v in VERDICTS}
    head = (
        f"sipfsm probe {report.target} (role {report.role}, T1={report.base.t1:g} s, "
        f"T2={report.base.t2:g} s, T4={report.base.t4:g} s; tolerance "
        f"{report.tolerance.describe()})"
    )
    tail = (
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
        + (f", {counts['inconclusive']} inconclusive" if counts["inconclusive"] else "")
        + (f", {counts['error']} in error (a bug of the probe)" if counts["error"] else "")
        + f" in {report.duration:.1f} s"
        + (" (interrupted: partial report)" if report.interrupted else "")
    )
    out = [head, "", *lines, "", tail]
    for r in report.results:
        if r.verdict == "fail":
            out += [
                "",
                f"FAIL {r.check.id} ({r.check.section}): {r.check.title}",
                f"  expected: {r.expected}",
                f"  observed: {r.observed}",
                f"  minimal exchange (parameters: {params_text(r.params)}):",
            ]
            out += [f"    {e.t:8.3f}  {e.dir:<4}  {e.summary}" for e in r.trace]
            if r.svg:
                out.append(f"  ladder: {r.svg}")
        elif r.verdict == "inconclusive":  # the reason in full: the row cuts it
            out += ["", f"INCONCLUSIVE {r.check.id} ({r.check.section}): {_cut(r.observed, 600)}"]
        elif r.verdict == "error":  # the exception and where it was raised
            out += ["", f"ERROR {r.check.id} ({r.check.section}): {_cut(r.observed, 600)}"]
            out += [f"  {line}" for line in r.traceback.rstrip().splitlines()]
    return "\n".join(out)


def write_json(report: Report, path: Path) -> None:
    """Write the JSON report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n")


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON: the run's document, each check with its raw ``exchanges``."""
    doc = report.to_json()
    doc["raw_messages"] = {**RAW_LIMITS, "encoding": "latin-1"}
    for entry, result in zip(doc["checks"], report.results, strict=True):
        entry.update(exchanges_json(result))
    return doc


def exchanges_json(result: CheckResult) -> dict[str, Any]:
    """``{exchanges: [...], exchanges_left_out: N}``: each exchange's verdict, parameters and
    messages (``t``, ``dir``, ``transport``, ``octets``, ``raw``; ``truncated`` when cut) and,
    of an exchange in error, its ``traceback``; exchanges in error and failing ones first,
    within :data:`RAW_LIMITS` (what is left out is counted)."""
    ordered = sorted(result.exchanges, key=lambda o: o.verdict not in ("error", "fail"))
    kept = ordered[: RAW_LIMITS["max_exchanges_per_check"]]
    budget = [RAW_LIMITS["max_octets_per_check"]]
    return {
        "exchanges": [_exchange(o, budget) for o in kept],
        "exchanges_left_out": len(ordered) - len(kept),
    }


def _exchange(outcome: Outcome, budget: list[int]) -> dict[str, Any]:
    """One exchange; ``budget`` holds the octets the check may still carry."""
    messages = [e for e in outcome.trace if e.raw is not None]
    out = []
    for event in messages[: RAW_LIMITS["max_messages_per_exchange"]]:
        octets = min(len(event.raw or b""), RAW_LIMITS["max_octets_per_message"])
        if octets > budget[0]:
            break
        budget[0] -= octets
        out.append(_message(event))
    doc: dict[str, Any] = {
        "verdict": outcome.verdict,
        "observed": outcome.observed,
        "params": {k: v for k, v in _plain(outcome.params).items() if k != "original"},
        "messages": out,
        "messages_left_out": len(messages) - len(out),
    }
    if outcome.traceback:
        doc["traceback"] = outcome.traceback
    return doc


def _message(event: Event) -> dict[str, Any]:
    raw = event.raw or b""
    cap = RAW_LIMITS["max_octets_per_message"]
    out: dict[str, Any] = {
        "t": round(event.t, 6),
        "dir": event.dir,
        "transport": event.transport,
        "octets": len(raw),
        "raw": raw[:cap].decode("latin-1"),
    }
    if len(raw) > cap:
        out["truncated"] = True
    return out


def _plain(value: Any) -> Any:
    """Parameters as JSON values (bytes as latin-1 text, whole: they are what was sent)."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def params_text(params: dict[str, object]) -> str:
    """Parameters in one line (long values cut)."""
    return (
        ", ".join(f"{k}={_cut(repr(v), 60)}" for k, v in params.items() if k != "original") or "-"
    )


# --------------------------------------------------------------------------- ladders

_X = {"expected": (0.0, 330.0), "observed": (470.0, 800.0)}
_ROW = 34.0


def _arrows(events: list[Event]) -> list[Event]:
    return [e for e in events if e.dir in ("send", "recv", "note")]


def ladder_dot(result: CheckResult, target: str) -> str:
    """The DOT source (for ``neato -n``: every node pinned) of one check's ladder."""
    panels = {"expected": _arrows(result.expected_trace), "observed": _arrows(result.trace)}
    rows = max(len(v) for v in panels.values()) if panels else 0
    height = (rows + 2) * _ROW
    out = [
        "digraph ladder {",
        '  graph [splines=line, outputorder=edgesfirst, fontname="Helvetica", bgcolor=white];',
        '  node [shape=point, width=0.01, height=0.01, label=""];',
        '  edge [arrowsize=0.7, fontname="Helvetica", fontsize=9];',
    ]
    title = html.escape(
        f"{result.check.id} ({result.check.section}): {result.verdict.upper()} - target {target}"
    )
    out.append(
        f'  title [shape=plaintext, fontsize=13, label="{title}", '
        f'pos="{(_X["observed"][1]) / 2:.0f},{height + 40:.0f}!"];'
    )
    for name, (left, right) in _X.items():
        color = "#2b6cb0" if name == "expected" else "#c53030"
        head = "expected (oracle: RFC 3261 + Table 4)" if name == "expected" else "observed"
        mid = (left + right) / 2
        out.append(
            f'  h_{name} [shape=plaintext, fontsize=11, fontcolor="{color}", '
            f'label="{head}", pos="{mid:.0f},{height + 14:.0f}!"];'
        )
        for side, x in (("probe", left), ("target", right)):
            label = "sipfsm probe" if side == "probe" else "target"
            out.append(
                f"  {name}_{side}_top [shape=box, style=rounded, fontsize=10, "
                f'width=1.1, height=0.3, label="{label}", pos="{x:.0f},{height:.0f}!"];'
            )
            out.append(f'  {name}_{side}_bot [pos="{x:.0f},0!"];')
            out.append(
                f"  {name}_{side}_top -> {name}_{side}_bot [arrowhead=none, "
                'color="#999999", style=dashed];'
            )
        for i, e in enumerate(panels[name]):
            y = height - (i + 1) * _ROW
            a, b = f"{name}_a{i}", f"{name}_b{i}"
            label = html.escape(_cut(f"{e.t:.3f} s  {e.summary}", 58))
            if e.dir == "note":
                out.append(
                    f'  {a} [shape=plaintext, fontsize=9, fontcolor="#555555", '
                    f'label="{label}", pos="{mid:.0f},{y:.0f}!"];'
                )
                continue
            src, dst = (left, right) if e.dir == "send" else (right, left)
            out.append(f'  {a} [pos="{src:.0f},{y:.0f}!"];')
            out.append(f'  {b} [pos="{dst:.0f},{y:.0f}!"];')
            out.append(f'  {a} -> {b} [color="{color}"];')
            out.append(
                f'  {a}_l [shape=plaintext, fontsize=9, label="{label}", '
                f'pos="{mid:.0f},{y + 9:.0f}!"];'
            )
    out.append("}")
    return "\n".join(out)


def write_ladders(
    report: Report,
    directory: Path,
    *,
    all_checks: bool = False,
    formats: tuple[str, ...] = ("svg",),
) -> list[Path]:
    """Draw each failing check's ladder (every check's with ``all_checks``) into
    ``directory/ID.svg`` with Graphviz; set ``result.svg``. No ``dot``: nothing is drawn."""
    written: list[Path] = []
    dot = shutil.which("dot")
    directory.mkdir(parents=True, exist_ok=True)
    for r in report.results:
        if not (all_checks or r.verdict == "fail") or not (r.trace or r.expected_trace):
            continue
        src = directory / f"{r.check.id}.dot"
        src.write_text(ladder_dot(r, report.target))
        written.append(src)
        if dot is None:
            continue
        for fmt in formats:
            out = directory / f"{r.check.id}.{fmt}"
            done = subprocess.run(
                [dot, "-Kneato", "-n", f"-T{fmt}", str(src), "-o", str(out)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0:
                written.append(out)
                if fmt == "svg":
                    r.svg = str(out)
    return written
