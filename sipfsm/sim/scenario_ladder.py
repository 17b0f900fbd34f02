"""The ladder of a played scenario, as RFC 3261 draws Figure 1: one column per host, time
running down, each message an arrow with its F-number and first line (``F1 INVITE``,
``F3 100 Trying``). Deterministic: the same scenario gives the same text, byte for byte.

Numbering, decision: every message gets the next F-number, except a 100 (Trying) sent by a UA,
drawn unnumbered as ``(100 Trying)``: Figure 1 draws none (17.2.1 lets a UAS whose TU answers
within 200 ms omit it; ``models/invite_server.toml`` always sends it), so that F1-F14 are the
RFC's. A retransmission (the same bytes from the same host again) is marked ``(again)``, a
copy the link made ``(duplicate)``; a
datagram the network lost is marked ``(lost)`` and its arrow ends in ``x``.
"""

from __future__ import annotations

import json
from typing import Any

from sipfsm.message.message import Response
from sipfsm.sim.network import Datagram
from sipfsm.sim.scenario import Played

#: Width of one column of the ladder, in characters.
COLUMN = 20
_MARGIN = 10


def title(g: Datagram) -> str:
    """What Figure 1 writes on an arrow: the method, or the status code and reason phrase."""
    msg = g.message
    if isinstance(msg, Response):
        return f"{msg.status} {msg.reason}"
    return str(msg.method)


def figure_numbers(played: Played) -> list[str | None]:
    """The F-number of each datagram of the log (``None``: drawn unnumbered)."""
    roles = {h["name"]: h.get("role") for h in played.data["hosts"]}
    out: list[str | None] = []
    n = 0
    for g in played.log:
        ua_100 = isinstance(g.message, Response) and g.message.status == 100
        if ua_100 and roles.get(g.src) == "ua":
            out.append(None)
            continue
        n += 1
        out.append(f"F{n}")
    return out


def labels(played: Played) -> list[str]:
    """The label of each arrow: ``F6 180 Ringing``, ``(100 Trying)``, ``F4 INVITE (again)``."""
    seen: set[tuple[str, bytes]] = set()
    out = []
    for g, number in zip(played.log, figure_numbers(played), strict=True):
        text = f"{number} {title(g)}" if number else f"({title(g)})"
        if g.duplicate:
            text += " (duplicate)"
        elif (g.src, g.data) in seen:
            text += " (again)"
        if g.lost:
            text += " (lost)"
        seen.add((g.src, g.data))
        out.append(text)
    return out


def _x(index: int) -> int:
    return _MARGIN + index * COLUMN


def _rail(width: int, columns: int) -> list[str]:
    line = [" "] * width
    for i in range(columns):
        line[_x(i)] = "|"
    return line


def text_ladder(played: Played) -> str:
    """The ladder as text (the shape of RFC 3261 Figure 1)."""
    columns = played.columns
    where = {name: i for i, (name, _) in enumerate(columns)}
    width = _x(len(columns) - 1) + COLUMN
    data = played.data["scenario"]
    lines = [f"{data.get('figure', data['name'])}: {data.get('title', '')}".rstrip(), ""]
    for row in ([n for n, _ in columns], [lab for _, lab in columns]):
        head = [" "] * (width + COLUMN)
        for i, text in enumerate(row):
            start = max(_x(i) - len(text) // 2, 0)
            head[start : start + len(text)] = text
        lines.append("".join(head).rstrip())
    lines.append("".join(_rail(width, len(columns))).rstrip())
    for g, text in zip(played.log, labels(played), strict=True):
        a, b = _x(where[g.src]), _x(where[g.dst])
        left, right = min(a, b), max(a, b)
        label = _rail(width, len(columns))
        stamp = f"{g.sent:8.3f}"
        label[0 : len(stamp)] = stamp
        label[left + 2 : left + 2 + len(text)] = text
        arrow = _rail(width, len(columns))
        arrow[left + 1 : right] = "-" * (right - left - 1)
        if b > a:
            arrow[right - 1] = "x" if g.lost else ">"
        else:
            arrow[left + 1] = "x" if g.lost else "<"
        lines += ["".join(label).rstrip(), "".join(arrow).rstrip()]
    lines.append("".join(_rail(width, len(columns))).rstrip())
    return "\n".join(lines) + "\n"


def json_log(played: Played) -> str:
    """Every message as JSON: its number, times, hosts, first line and full text."""
    rows: list[dict[str, Any]] = []
    for g, number in zip(played.log, figure_numbers(played), strict=True):
        rows.append(
            {
                "n": g.n,
                "figure": number,
                "sent": round(g.sent, 6),
                "arrives": round(g.arrives, 6),
                "from": g.src,
                "to": g.dst,
                "lost": g.lost,
                "duplicate": g.duplicate,
                "first_line": g.data.split(b"\r\n", 1)[0].decode(),
                "message": g.data.decode(),
            }
        )
    return json.dumps({"scenario": played.name, "messages": rows}, indent=2) + "\n"
