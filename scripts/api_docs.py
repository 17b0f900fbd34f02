"""Write the API reference of sipfsm's public modules as HTML, from their docstrings (pdoc).

Run through ``scripts/api-docs [OUT]``. Only the public modules are documented (:data:`PUBLIC`);
every other module is private and left out. Docstrings are reST-ish (````literal````,
``:class:`~sipfsm.Machine```): pdoc reads them as reStructuredText; the ``~`` of Sphinx's short
form is dropped so that the full name shows and links. Any warning pdoc gives fails the build.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import pdoc
import pdoc.docstrings
import pdoc.render

import sipfsm

#: The modules a user imports from (the same list as tests/test_public_api.py).
PUBLIC = ("sipfsm", "sipfsm.headers", "sipfsm.aio", "sipfsm.strategies", "sipfsm.testing")
#: Submodules pdoc would otherwise walk into: the private layers of the package.
PRIVATE = r"!sipfsm\.(abnf|cli|engine|errors|message|model|net|probe|render|sim|ua|testing\.)"

_rst = pdoc.docstrings.rst


def _rst_short_roles(contents: str, source_file: Path | None) -> str:
    """``:class:`~a.b.C``` -> ``:class:`a.b.C```, then pdoc's own reST conversion."""
    return _rst(re.sub(r"(:[a-z]+:`)~", r"\1", contents), source_file)


def build(out: Path) -> list[str]:
    """Write the HTML into ``out``; return pdoc's warnings (none on success)."""
    pdoc.docstrings.rst = _rst_short_roles
    pdoc.render.configure(
        docformat="restructuredtext",
        show_source=False,
        footer_text=f"sipfsm {sipfsm.__version__}",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*PUBLIC, PRIVATE, output_directory=out)
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("out/api")
    problems = build(out)
    for p in problems:
        print(f"api-docs: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"api-docs: {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
