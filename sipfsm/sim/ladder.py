"""A trace of ``sipfsm trace`` drawn as a ladder (sequence) diagram: SVG for Jupyter
(:class:`Trace`, the list of steps :func:`~sipfsm.sim.trace.run_trace` returns, shows itself so).

Three lifelines: the TU, the machine the trace runs (a transaction, an INVITE session's UA, the
caller's dialog) and the peer across the network. Each message the machine sends or receives
is an arrow between it and the peer (17: the transaction layer between the transport and the
TU), each one passed up an arrow to the TU, labelled with its time; timers, state changes
and the rest are notes on the machine's lifeline. Rows go by order, not to scale (the time is
in every label). Plain SVG written here, no Graphviz: a notebook shows it wherever it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from sipfsm.engine.outputs import Step
from sipfsm.sim.steps import step_fields

__all__ = ["Trace", "ladder_html", "ladder_svg"]

_LANES = {"tu": 90.0, "machine": 330.0, "peer": 570.0}
_WIDTH, _TOP, _ROW = 660.0, 64.0, 24.0
#: Where each kind of message line goes: (from, to).
_ARROWS = {"send": ("machine", "peer"), "recv": ("peer", "machine"), "tu": ("machine", "tu")}
_COLOURS = {"send": "#2b6cb0", "recv": "#c53030", "tu": "#2f855a"}


def ladder_svg(steps: Sequence[Step], machine: str) -> str:
    """The SVG document of ``steps``, ``machine`` naming the middle lifeline."""
    height = _TOP + (len(steps) + 1) * _ROW
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {_WIDTH:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="11">',
        "<defs>",
        *(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
            for kind, colour in _COLOURS.items()
        ),
        "</defs>",
        f'<rect width="{_WIDTH:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    for lane, name in (("tu", "TU"), ("machine", machine), ("peer", "peer")):
        x = _LANES[lane]
        out.append(
            f'<rect class="participant" x="{x - 80:.0f}" y="10" width="160" height="26" rx="6" '
            'fill="#edf2f7" stroke="#4a5568"/>'
        )
        out.append(
            f'<text class="participant" x="{x:.0f}" y="27" text-anchor="middle" '
            f'font-size="12">{escape(name)}</text>'
        )
        out.append(
            f'<line x1="{x:.0f}" y1="36" x2="{x:.0f}" y2="{height - 8:.0f}" stroke="#a0aec0" '
            'stroke-dasharray="4 3"/>'
        )
    for i, step in enumerate(steps):
        out += _row(step, _TOP + i * _ROW)
    out.append("</svg>")
    return "\n".join(out)


def _row(step: Step, y: float) -> list[str]:
    kind = str(step_fields(step)["kind"])
    label = escape(f"{step.t:.3f}  {step.what}")
    if kind in _ARROWS:
        start, end = (_LANES[lane] for lane in _ARROWS[kind])
        mid = (start + end) / 2
        return [
            f'<line class="message" x1="{start:.0f}" y1="{y + 8:.0f}" x2="{end:.0f}" '
            f'y2="{y + 8:.0f}" stroke="{_COLOURS[kind]}" marker-end="url(#arrow-{kind})"/>',
            f'<text class="message" x="{mid:.0f}" y="{y + 4:.0f}" text-anchor="middle">'
            f"{label}</text>",
        ]
    x = _LANES["machine"]
    if kind == "enter":
        return [
            f'<rect class="state" x="{x - 70:.0f}" y="{y - 6:.0f}" width="140" height="18" '
            'rx="9" fill="#fefcbf" stroke="#b7791f"/>',
            f'<text class="state" x="{x:.0f}" y="{y + 7:.0f}" text-anchor="middle">{label}</text>',
        ]
    return [f'<text class="note" x="{x + 8:.0f}" y="{y + 7:.0f}" fill="#4a5568">{label}</text>']


def ladder_html(steps: Sequence[Step], machine: str) -> str:
    """The ladder for a notebook: the SVG, then the trace's lines as a table."""
    rows = "\n".join(
        f"<tr><td>{s.t:.3f}</td><td>{escape(s.what)}</td><td>{escape(s.state)}</td></tr>"
        for s in steps
    )
    return (
        f'<div class="sipfsm-trace">\n{ladder_svg(steps, machine)}\n'
        f"<details><summary>{len(steps)} steps of {escape(machine)}</summary>\n"
        "<table><thead><tr><th>t (s)</th><th>what</th><th>state</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody></table></details>\n</div>"
    )


class Trace(list[Step]):
    """The steps of one run of ``sipfsm trace`` (a list), which a notebook shows as a ladder
    diagram (:func:`ladder_svg`): the TU, ``machine`` and the peer."""

    def __init__(self, steps: Sequence[Step] = (), machine: str = "machine") -> None:
        super().__init__(steps)
        self.machine = machine

    def _repr_svg_(self) -> str:
        return ladder_svg(self, self.machine)

    def _repr_html_(self) -> str:
        return ladder_html(self, self.machine)
