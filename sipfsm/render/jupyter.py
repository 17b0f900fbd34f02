"""The Jupyter hook: a :class:`~sipfsm.model.machine.Machine` shows as its diagram.

Importing this module registers :func:`repr_svg` with the model layer
(:func:`~sipfsm.model.machine.set_svg_renderer`), which knows nothing of drawing; the package
imports it whenever a model module is reached through ``sipfsm``.
"""

from __future__ import annotations

import shutil

from sipfsm.model.machine import Machine, set_svg_renderer
from sipfsm.render.dot import to_dot
from sipfsm.render.output import render


def repr_svg(machine: Machine) -> str | None:
    """The SVG of ``machine`` under the default profile, or None when ``dot`` is missing."""
    if shutil.which("dot") is None:
        return None
    return render(to_dot(machine), "svg").decode()


set_svg_renderer(repr_svg)  # Jupyter shows a Machine as its diagram
