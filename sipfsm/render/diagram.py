"""Draw any model of ``models/`` as a Graphviz diagram, from its data alone: the one module to
import for drawing (``from sipfsm.render import diagram``), gathering the parts below.

The pictures follow the convention of RFC 3261 Figures 5-8 (section 17): states are boxes,
top to bottom, and every transition is labelled with the event over the action to take, in
the RFC's own wording (:mod:`~sipfsm.render.labels`). Each label has a small orange line
listing the timer work (``stop A, B · start D``), every node and edge links to its RFC section
(:mod:`~sipfsm.render.sections`), a legend explains the styles and gives the Table 4 values
(17.1.1.1) of the timers the machine uses (:mod:`~sipfsm.render.legend`), and under the
amended profile (``rfc6026``) what RFC 6026 changes against RFC 3261 is drawn in blue (added)
and dashed grey (replaced) (:mod:`~sipfsm.render.drawing`, :mod:`~sipfsm.render.palette`).

The DOT text is built by :mod:`~sipfsm.render.dot`, deterministically (golden files in
``diagrams/``); Graphviz's ``dot`` turns it into SVG or PNG (:mod:`~sipfsm.render.output`).
Importing this module registers the Jupyter picture of a model (:mod:`~sipfsm.render.jupyter`).
"""

from __future__ import annotations

from sipfsm.render.dot import to_dot
from sipfsm.render.dot_syntax import attr_list, escape, quote
from sipfsm.render.drawing import BASE_PROFILE, Edge, drawn_edges, edges
from sipfsm.render.jupyter import repr_svg
from sipfsm.render.labels import Label, make_label, rule_label, timer_work
from sipfsm.render.output import FORMATS, DotMissingError, dot_program, file_stem, render, write
from sipfsm.render.palette import ADDED, ERROR, HIGHLIGHT, INK, REMOVED, TIMER
from sipfsm.render.sections import section_title, section_url

#: The short names of DOT quoting and label escaping (the diagram tests use them).
_q = quote
_h = escape

__all__ = [
    "ADDED",
    "BASE_PROFILE",
    "ERROR",
    "FORMATS",
    "HIGHLIGHT",
    "INK",
    "REMOVED",
    "TIMER",
    "DotMissingError",
    "Edge",
    "Label",
    "attr_list",
    "dot_program",
    "drawn_edges",
    "edges",
    "escape",
    "file_stem",
    "make_label",
    "quote",
    "render",
    "repr_svg",
    "rule_label",
    "section_title",
    "section_url",
    "timer_work",
    "to_dot",
    "write",
]
