"""The legend under every diagram: how to read the picture (left) and the timers the machine
uses with their RFC 3261 Table 4 values (17.1.1.1) and the random windows of 14.1 (right),
computed from ``models/timers.toml``."""

from __future__ import annotations

from sipfsm.model.loader import Machine, TimerTable, Window, seconds
from sipfsm.model.timer_table import at_cap_of
from sipfsm.model.timers import time_until_at_cap
from sipfsm.render.dot_syntax import escape
from sipfsm.render.drawing import BASE_PROFILE, timers_used
from sipfsm.render.palette import ADDED, ERROR, INK, MUTED, REMOVED, TIMER
from sipfsm.render.sections import section_title


def interval_text(expr: str, table: TimerTable) -> str:
    """An interval expression with its value: ``64*T1`` -> ``64·T1 = 32 s``."""
    if expr == "none":
        return "—"
    ref = at_cap_of(expr)
    if ref is not None:  # RFC 4320 4.1: the time a client's Timer E takes to reach T2
        value = time_until_at_cap(table.timers[ref], table.base)
        return f"{ref} at its cap = {value:g} s"
    head, _, tail = expr.partition("*")
    if tail:
        value = float(head) * table.base[tail]
        return f"{head}·{tail} = {value:g} s"
    if expr in table.base:
        return f"{expr} = {table.base[expr]:g} s"
    return f"{float(expr):g} s"


def window_text(window: Window, table: TimerTable) -> str:
    """A timer started at random (14.1): ``2.1-4 s (Call-ID owner), 0-2 s``."""

    def span(bounds: tuple[str, str]) -> str:
        low, high = (seconds(e, table.base) for e in bounds)
        return f"{low:g}-{high:g} s"

    return f"{span(window.owner)} (Call-ID owner), {span(window.other)}"


def _cell(text: str, span: int = 1, colour: str = INK, bold: bool = False) -> str:
    body = f"<B>{escape(text)}</B>" if bold else escape(text)
    return (
        f'<TD ALIGN="LEFT" COLSPAN="{span}"><FONT POINT-SIZE="9" COLOR="{colour}">'
        f"{body}</FONT></TD>"
    )


def _how_to_read(machine: Machine, profile: str, statuses: set[str]) -> list[str]:
    """The left column: where the machine is in the RFC, its profile and the line styles."""
    where = section_title(machine.section)
    if machine.figure:
        where += f" · {machine.figure}"
    if profile == BASE_PROFILE:
        prof = f"profile {profile}: RFC 3261 as published"
    else:
        prof = f"profile {profile}: RFC 3261 as amended (RFC 6026, RFC 4320)"
    left = [_cell(where, 2, bold=True), _cell(prof, 2)]
    keys = [
        (INK, "──▶", "event (over) action, in the RFC's wording; click: the section"),
        (TIMER, "──▶", "fired by a timer; orange text: timers started, stopped, reset"),
        (ERROR, "──▶", "transport error (17.1.4, 17.2.4)"),
    ]
    if "added" in statuses:
        keys.append((ADDED, "━━▶", "added by the amendments: only in this profile"))
    if "removed" in statuses:
        keys.append((REMOVED, "╌╌▶", "RFC 3261 as published, replaced in this profile"))
    keys.append((INK, "↻", "in a state: a transition back to that same state"))
    for colour, sample, text in keys:
        left.append(
            f'<TD ALIGN="LEFT"><FONT COLOR="{colour}">{escape(sample)}</FONT></TD>' + _cell(text)
        )
    left.append(
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{MUTED}">absorbs</FONT></TD>'
        + _cell(f"events the state ignores (every pair: sipfsm models --table {machine.name})")
    )
    return left


def _timer_rows(machine: Machine, profile: str, table: TimerTable) -> list[str]:
    """The right column: each timer used with its UDP and TCP values and its meaning."""
    right: list[str] = []
    timers = [
        t
        for t in timers_used(machine, profile)
        if t in table.timers and profile in table.timers[t].profiles
    ]
    if not timers:
        return right
    right.append(
        _cell("timer", bold=True)
        + _cell("UDP", bold=True)
        + _cell("TCP, TLS", bold=True)
        + _cell("meaning (RFC 3261 Table 4)", bold=True)
    )
    for name in timers:
        spec = table.timers[name]
        window = table.windows.get(name)
        udp = (
            interval_text(spec.unreliable, table) if window is None else window_text(window, table)
        )
        tcp = interval_text(spec.reliable, table) if window is None else udp
        if spec.backoff and spec.unreliable != "none":
            udp += ", doubling" + (f" to {spec.cap}" if spec.cap else "")
        right.append(
            _cell(name, colour=TIMER, bold=True) + _cell(udp) + _cell(tcp) + _cell(spec.meaning)
        )
    base = ", ".join(f"{k} = {v:g} s" for k, v in table.base.items())
    right.append(_cell(f"{base} (defaults, 17.1.1.1)", 4))
    return right


def legend(machine: Machine, profile: str, table: TimerTable, statuses: set[str]) -> str:
    """The legend as an HTML-like label: the two columns side by side.

    ``statuses`` says whether anything is drawn as added or removed (changed profiles).
    """
    left = _how_to_read(machine, profile, statuses)
    right = _timer_rows(machine, profile, table)
    rows = []
    for i in range(max(len(left), len(right))):
        lhs = left[i] if i < len(left) else '<TD COLSPAN="2"></TD>'
        rhs = right[i] if i < len(right) else ('<TD COLSPAN="4"></TD>' if right else "")
        rows.append(f'<TR>{lhs}<TD WIDTH="16"></TD>{rhs}</TR>')
    return (
        '<<TABLE BORDER="1" COLOR="#c8d1da" CELLBORDER="0" CELLSPACING="0" '
        'CELLPADDING="2" BGCOLOR="#fbfcfd">' + "".join(rows) + "</TABLE>>"
    )
