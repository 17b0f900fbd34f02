"""``sipfsm site OUT [--lang en|zh]``: write the teaching site (issue 17, :mod:`sipfsm.site`).

Every page is generated from the models, the timer table, the grammar (``grammar/``, shipped
with the package, or ``--grammar DIR``), the scenarios and the translations (``models/i18n/``), in
English and Chinese: ``OUT/en/``, ``OUT/zh/``; ``OUT/index.html`` opens the language of
``--lang``. Nothing on the pages loads from the network. Exit codes: 0 written, 2 bad input
(a folder that cannot be written, no grammar, a model or translation file that cannot be read).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sipfsm.cli.models import add_models_dir, load, models_directory
from sipfsm.cli.outputs import output_folder, writing
from sipfsm.data import ABNF_DIR
from sipfsm.errors import SipfsmError
from sipfsm.site import Site, build_site
from sipfsm.site.i18n import LANGS


def grammar_folder(path: Path | None) -> Path:
    """The folder of the ``*.abnf`` files: ``--grammar``, else the copy of ``grammar/`` shipped
    with the package (:data:`sipfsm.data.ABNF_DIR`)."""
    folder = path or ABNF_DIR
    if not folder.is_dir() or not any(folder.glob("*.abnf")):
        raise SipfsmError(
            f"no ABNF files in {str(folder)!r} for the ABNF browser "
            "(give a folder of *.abnf files with --grammar DIR)"
        )
    return folder


def write_site(out: Path, lang: str, args: argparse.Namespace) -> Site:
    """Check ``out``, write the site there and return what was written."""
    grammar = grammar_folder(getattr(args, "grammar", None))
    output_folder(out, "OUT")
    with writing(out, "OUT"):
        return build_site(
            out, lang, grammar=grammar, directory=models_directory(args), models=load(args)
        )


def open_hint(site: Site) -> list[str]:
    """How to open the site: a file URL (no server needed) and a local server for publishing."""
    entry = site.entry.resolve()
    return [
        f"Open {entry.as_uri()} in a browser (no server needed; works offline),",
        f"or serve it: python3 -m http.server -d {site.out} 8000, then http://localhost:8000/",
    ]


def run(args: argparse.Namespace) -> int:
    """Write the site and say how to open it."""
    site = write_site(Path(args.out), args.lang, args)
    pages = sum(1 for p in site.files if p.suffix == ".html")
    print(f"sipfsm site: {pages} pages in {', '.join(LANGS)} under {site.out}/")
    print("\n".join(open_hint(site)))
    return 0


def register(subparsers: Any) -> None:
    """Add ``sipfsm site``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "site",
        help="write the teaching site (English and Chinese) generated from the models",
        description=(
            "Write a self-contained static site into OUT: every model's clickable diagram "
            "with the RFC 3261 text of each state and transition, events fired in the "
            "browser, the (state, event) tables, RFC 3261 against RFC 6026, Table 4 with a "
            "T1/T2/T4 calculator, the ABNF browser, the trapezoid and the other scenarios as "
            "animated ladders, a glossary; in English and Chinese (OUT/en, OUT/zh)."
        ),
    )
    parser.add_argument("out", metavar="OUT", help="folder to write the site into")
    parser.add_argument(
        "--lang",
        choices=LANGS,
        default=LANGS[0],
        help="the language OUT/index.html opens (both are written; default en)",
    )
    parser.add_argument(
        "--grammar",
        type=Path,
        metavar="DIR",
        help="folder of the *.abnf files (default: grammar/, shipped with sipfsm)",
    )
    add_models_dir(parser)
    parser.set_defaults(func=run)
