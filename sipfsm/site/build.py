"""Write the whole site: ``OUT/en/`` and ``OUT/zh/`` (the same pages in each language, every
page linking to its twin), the shared ``OUT/assets/`` (the site's own CSS and script) and
``OUT/index.html``, the entry page, which opens the language asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sipfsm.data import ABNF_DIR
from sipfsm.errors import SipfsmError
from sipfsm.model.loader import Machine, load_models, load_timers, load_vocabulary
from sipfsm.site.abnf_page import abnf_page
from sipfsm.site.i18n import LANGS, NATIVE, catalog
from sipfsm.site.layout import e
from sipfsm.site.model_page import diagrams, model_page
from sipfsm.site.model_page import file_name as model_file
from sipfsm.site.pages import glossary_page, index_page, timers_page
from sipfsm.site.scenario_page import file_name as scenario_file
from sipfsm.site.scenario_page import play_all, scenario_page, scenarios_index

#: The files of ``sipfsm/site/assets`` copied to ``OUT/assets``.
ASSETS: tuple[str, ...] = ("site.css", "site.js")


@dataclass
class Site:
    """What was written: every file, and the entry page."""

    out: Path
    lang: str
    files: list[Path] = field(default_factory=list)

    @property
    def entry(self) -> Path:
        """``OUT/index.html``: open it in a browser (``file://`` is enough)."""
        return self.out / "index.html"


def _write(site: Site, relative: str, text: str) -> None:
    path = site.out / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    site.files.append(path)


def _entry(lang: str) -> str:
    links = " · ".join(f'<a href="{x}/index.html">{NATIVE[x]}</a>' for x in LANGS)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={lang}/index.html">
<title>sipfsm</title></head>
<body><p><a href="{lang}/index.html">sipfsm</a> · {links}</p></body></html>
"""


def build_site(
    out: Path,
    lang: str = "en",
    *,
    grammar: Path = ABNF_DIR,
    directory: Path | None = None,
    models: dict[str, Machine] | None = None,
) -> Site:
    """Write the site under ``out`` with ``lang`` the language ``OUT/index.html`` opens.

    ``grammar`` is the folder of the ABNF files (default ``grammar/``, shipped as package
    data: :data:`sipfsm.data.ABNF_DIR`); ``directory``
    the models folder (default the package's). Every page is generated from the models, the
    timer table, the grammar, the scenarios and the translations: none is written by hand.
    """
    if lang not in LANGS:
        raise SipfsmError(f"unknown language {lang!r} (known: {', '.join(LANGS)})")
    vocab = load_vocabulary(directory)
    table = load_timers(directory)
    machines = models if models is not None else load_models(directory)
    cats = {x: catalog(x, vocab, directory) for x in LANGS}
    played = play_all()
    site = Site(out, lang)
    drawn = {name: diagrams(m, vocab, directory) for name, m in machines.items()}
    for name in ASSETS:
        text = (resources.files("sipfsm.site") / "assets" / name).read_text("utf-8")
        _write(site, f"assets/{name}", text)
    for x, cat in cats.items():
        _write(site, f"{x}/index.html", index_page(machines, cat))
        for machine in machines.values():
            text = model_page(machine, cat, vocab, table, directory, drawn[machine.name])
            _write(site, f"{x}/{model_file(machine)}", text)
        _write(site, f"{x}/timers.html", timers_page(machines, table, cat))
        _write(site, f"{x}/abnf.html", abnf_page(grammar, cat))
        _write(site, f"{x}/glossary.html", glossary_page(cat, cats["en"], cats["zh"]))
        _write(site, f"{x}/scenarios.html", scenarios_index(played, cat))
        for p in played:
            _write(site, f"{x}/{scenario_file(p.name)}", scenario_page(p, cat))
    _write(site, "index.html", _entry(lang))
    return site


__all__ = ["ASSETS", "Site", "build_site", "e"]
