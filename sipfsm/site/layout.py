"""The frame of every page: the head (the site's own CSS and script, nothing from the network),
the navigation, the language switch (the same page in the other language) and the embedded
JSON the script reads."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from sipfsm.site.i18n import LANGS, NATIVE, Catalog
from sipfsm.site.rfc_text import section as rfc_section

#: The pages of the navigation bar, by file name, with their ``[ui]`` key.
NAV: tuple[tuple[str, str], ...] = (
    ("index.html", "nav_models"),
    ("timers.html", "nav_timers"),
    ("abnf.html", "nav_abnf"),
    ("scenario-trapezoid.html", "nav_trapezoid"),
    ("scenarios.html", "nav_scenarios"),
    ("glossary.html", "nav_glossary"),
)


def e(text: object) -> str:
    """HTML-escaped text."""
    return escape(str(text), quote=True)


def json_script(element_id: str, data: Any) -> str:
    """Data for the page's script, as a JSON script element (``</`` cannot end it early)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return f'<script type="application/json" id="{e(element_id)}">{text}</script>'


def page(
    cat: Catalog,
    file: str,
    title: str,
    body: str,
    *,
    kind: str = "plain",
    data: dict[str, Any] | None = None,
) -> str:
    """A whole page of the site in ``cat``'s language: ``file`` is its name in the language's
    folder (``model-invite_client.html``), the switch links to the same name in the other."""
    other = next(lang for lang in LANGS if lang != cat.lang)
    here = ' class="here"'
    nav = " ".join(
        f'<a href="{href}"{here if href == file else ""}>{e(cat.ui(key))}</a>' for href, key in NAV
    )
    scripts = "\n".join(json_script(k, v) for k, v in (data or {}).items())
    return f"""<!DOCTYPE html>
<html lang="{"zh-Hans" if cat.lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · sipfsm</title>
<link rel="stylesheet" href="../assets/site.css">
<script src="../assets/site.js"></script>
</head>
<body data-page="{e(kind)}" data-lang="{cat.lang}">
<header>
<a class="brand" href="index.html">sipfsm</a>
<nav>{nav}</nav>
<span class="lang">{e(cat.ui("language"))}: <b>{e(NATIVE[cat.lang])}</b>
<a id="lang-switch" href="../{other}/{file}" hreflang="{other}">{e(NATIVE[other])}</a></span>
</header>
<main>
<h1>{e(title)}</h1>
{body}
</main>
{scripts}
</body>
</html>
"""


def section_blocks(cat: Catalog, refs: list[str], anchor: Any, external: Any) -> str:
    """The RFC 3261 text of every cited section, each in a closed ``details`` with the id the
    diagram's links and the script point at; a section of another RFC (not shipped) gets its
    rfc-editor.org link."""
    out: list[str] = []
    seen: set[str] = set()
    for ref in refs:
        key = anchor(ref)
        if key in seen:
            continue
        seen.add(key)
        number = key.removeprefix("sec-")
        found = rfc_section(number) if number[:1].isdigit() else None
        if found is not None:
            out.append(
                f'<details class="section" id="{e(key)}"><summary>RFC 3261 §{e(found.number)} '
                f"{e(found.title)}</summary><pre>{e(found.text)}</pre></details>"
            )
        else:
            out.append(
                f'<details class="section" id="{e(key)}"><summary>{e(ref)}</summary>'
                f'<p>{e(cat.ui("not_shipped"))} <a class="ext" href="{e(external(ref))}">'
                f"{e(external(ref))}</a></p></details>"
            )
    return "\n".join(out)
