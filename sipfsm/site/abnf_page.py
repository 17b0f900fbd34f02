"""The ABNF browser: every rule of ``grammar/*.abnf`` (RFC 3261 section 25, the RFC 5234 core
rules, the extension headers), each rule name in a rule linked to its definition, each rule
listing the rules that use it, and the header fields of ``message-header`` first.

This is a reader for display, not the grammar compiler (:mod:`sipfsm.abnf`, build time only):
it finds where each rule starts (a name at column 0 then ``=`` or ``=/``, RFC 5234 section
3.1: a rule's continuation lines are indented) and which words of a rule's text are rule
names (outside quoted strings, numeric values and comments; names are case-insensitive, RFC
5234 section 2.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sipfsm.errors import SipfsmError
from sipfsm.site.i18n import Catalog
from sipfsm.site.layout import e, page

_START = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*=/?")
_TOKEN = re.compile(
    r'(?P<comment>;[^\n]*)|(?P<literal>"[^"\n]*")|(?P<num>%[xdbXDB][0-9A-Fa-f.\-]+)'
    r"|(?P<name>[A-Za-z][A-Za-z0-9-]*)|(?P<other>.)",
    re.S,
)


@dataclass
class Rule:
    """One definition of a rule (``=`` or ``=/``) in one file."""

    name: str
    file: str
    text: str
    uses: list[str] = field(default_factory=list)


def read_rules(folder: Path) -> list[Rule]:
    """Every rule definition of the ``*.abnf`` files of ``folder``: core rules first, then
    RFC 3261, then the extensions, each file in its order."""
    files = sorted(
        folder.glob("*.abnf"),
        key=lambda p: (p.name != "core.abnf", p.name != "rfc3261.abnf", p.name),
    )
    if not files:
        raise SipfsmError(f"{folder}: no *.abnf files (the grammar/ folder of a checkout)")
    rules: list[Rule] = []
    for path in files:
        current: Rule | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            start = _START.match(line)
            if start:
                current = Rule(start.group(1), path.name, line.rstrip())
                rules.append(current)
            elif current is not None and line[:1] in (" ", "\t") and line.strip():
                current.text += "\n" + line.rstrip()
            elif not line.strip() or line.startswith(";"):
                current = None if line.startswith(";") or not line.strip() else current
    known = {r.name.lower() for r in rules}
    for rule in rules:
        body = rule.text.split("=", 1)[1]
        for m in _TOKEN.finditer(body):
            name = m.group("name")
            if name and name.lower() in known and name.lower() not in rule.uses:
                rule.uses.append(name.lower())
    return rules


def _linked(rule: Rule, known: set[str]) -> str:
    """The rule's text as HTML, every defined rule name a link to its definition."""
    head, eq, body = rule.text.partition("=")
    out = [f'<a class="def" href="#r-{e(rule.name.lower())}">{e(head)}</a>{eq}']
    for m in _TOKEN.finditer(body):
        kind, text = m.lastgroup, m.group(0)
        if kind == "comment":
            out.append(f'<span class="abnf-comment">{e(text)}</span>')
        elif kind == "literal" or kind == "num":
            out.append(f'<span class="abnf-literal">{e(text)}</span>')
        elif kind == "name" and text.lower() in known:
            out.append(f'<a href="#r-{e(text.lower())}">{e(text)}</a>')
        else:
            out.append(e(text))
    return "".join(out)


def abnf_page(folder: Path, cat: Catalog) -> str:
    """The browser page in ``cat``'s language."""
    rules = read_rules(folder)
    known = {r.name.lower() for r in rules}
    used_by: dict[str, list[str]] = {}
    for rule in rules:
        for name in rule.uses:
            if rule.name not in used_by.setdefault(name, []):
                used_by[name].append(rule.name)
    headers = [
        n
        for r in rules
        if r.name.lower() == "message-header"
        for n in r.uses
        if n not in ("crlf", "extension-header")
    ]
    first: dict[str, str] = {}
    for r in rules:
        first.setdefault(r.name.lower(), r.name)
    header_links = " · ".join(f'<a href="#r-{e(n)}">{e(first[n])}</a>' for n in headers)
    blocks = []
    seen: set[str] = set()
    file = ""
    for rule in rules:
        if rule.file != file:
            file = rule.file
            blocks.append(f"<h2>{e(file)}</h2>")
        key = rule.name.lower()
        ident = f' id="r-{e(key)}"' if key not in seen else ""
        seen.add(key)
        users = ", ".join(f'<a href="#r-{e(u.lower())}">{e(u)}</a>' for u in used_by.get(key, []))
        used = f'<div class="used">{e(cat.ui("used_by"))}: {users}</div>' if users else ""
        blocks.append(
            f'<div class="rule" data-name="{e(key)}"{ident}><pre>{_linked(rule, known)}</pre>'
            f"{used}</div>"
        )
    body = f"""
<p>{e(cat.ui("abnf_intro"))}</p>
<p><label>{e(cat.ui("filter"))} <input id="filter" type="search"></label></p>
<h2>{e(cat.ui("header_fields"))}</h2>
<p>{header_links}</p>
{"".join(blocks)}
"""
    return page(cat, "abnf.html", cat.ui("nav_abnf"), body, kind="abnf")
