"""The teaching site (issue 17): ``sipfsm site OUT [--lang en|zh]`` writes a self-contained
static site, generated from the models, the timer table, the grammar and the scenarios, in
English and Chinese (``models/i18n/``). Nothing on it comes from the network: the pages use
the site's own small CSS and script (``assets/``), copied beside them.

The parts, bottom to top: ``rfc_text`` (a section of RFC 3261 cut from the shipped copy),
``i18n`` (the translations), ``model_data`` (a model as JSON for the page's interpreter),
``svg`` (the diagram, marked for clicking), ``layout`` (the frame of a page), the pages
(``model_page``, ``pages``: index, timers, glossary; ``abnf_page``; ``scenario_page``) and
``build`` (:func:`build_site`, the one function to call).
"""

from __future__ import annotations

from sipfsm.site.build import Site, build_site

__all__ = ["Site", "build_site"]
