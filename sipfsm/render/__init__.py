"""Pictures from the data: Graphviz diagrams of every model, drawn from the model files alone.

:mod:`~sipfsm.render.diagram` is the module to import; the parts, bottom to top:
``sections`` (RFC links), ``palette``, ``dot_syntax`` (quoting), ``labels`` (the words on a
transition), ``drawing`` (the states and edges shown under a profile), ``legend``,
``html_labels`` (the boxes and edge labels), ``dot`` (the DOT writer), ``output`` (SVG/PNG via
Graphviz, the files) and ``jupyter`` (a model shows as its diagram).
"""
