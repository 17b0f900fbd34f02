"""The pages that are not one per model: the index, the timer table with its T1/T2/T4
calculator (RFC 3261 Table 4 as ``models/timers.toml`` holds it), and the glossary."""

from __future__ import annotations

from sipfsm.model.loader import PROFILES, Machine, TimerTable
from sipfsm.render.drawing import timers_used
from sipfsm.site.i18n import Catalog
from sipfsm.site.layout import e, page, section_blocks
from sipfsm.site.model_data import external_url, section_anchor, timer_data
from sipfsm.site.model_page import file_name as model_file


def _meaning(table: TimerTable, base: str) -> str:
    """What ``timers.toml`` says T1, T2 or T4 is."""
    return str(table.base_doc.get(base, {}).get("meaning", ""))


def _ref(section: str) -> str:
    """A section as linked: ``§17.1.1.2``, or another RFC's as cited (``RFC 6026 8.7``)."""
    return f"§{section}" if section[:1].isdigit() else section


def index_page(models: dict[str, Machine], cat: Catalog) -> str:
    """The models, grouped by kind, and the other pages."""
    groups: dict[str, list[Machine]] = {}
    for machine in models.values():
        groups.setdefault(machine.kind, []).append(machine)
    parts = [f"<p>{e(cat.ui('index_intro'))}</p>"]
    for kind, machines in groups.items():
        cards = "".join(
            f'<div class="card"><h3><a href="{model_file(m)}">{e(cat.title(m))}</a></h3>'
            f"<p><code>{e(m.name)}</code> · RFC 3261 §{e(m.section)} · "
            f"{len(m.state_names(PROFILES[-1]))} {e(cat.ui('states'))}</p></div>"
            for m in machines
        )
        parts.append(f'<h2>{e(cat.ui("kind_" + kind))}</h2><div class="cards">{cards}</div>')
    others = "".join(
        f'<div class="card"><h3><a href="{href}">{e(cat.ui(key))}</a></h3>'
        f"<p>{e(cat.ui(key + '_help'))}</p></div>"
        for href, key in (
            ("timers.html", "nav_timers"),
            ("abnf.html", "nav_abnf"),
            ("scenario-trapezoid.html", "nav_trapezoid"),
            ("scenarios.html", "nav_scenarios"),
            ("glossary.html", "nav_glossary"),
        )
    )
    parts.append(f'<h2>{e(cat.ui("more"))}</h2><div class="cards">{others}</div>')
    parts.append(f'<p class="sub">{e(cat.ui("licence"))}</p>')
    return page(cat, "index.html", cat.ui("site_title"), "\n".join(parts), kind="index")


def timers_page(models: dict[str, Machine], table: TimerTable, cat: Catalog) -> str:
    """Table 4 with the calculator: the values follow the T1, T2 and T4 typed in."""
    users: dict[str, list[Machine]] = {}
    for machine in models.values():
        for t in sorted({t for p in PROFILES for t in timers_used(machine, p)}):
            users.setdefault(t, []).append(machine)
    rows = []
    for name, spec in table.timers.items():
        used = ", ".join(f'<a href="{model_file(m)}">{e(m.name)}</a>' for m in users.get(name, []))
        backoff = spec.backoff or ""
        if spec.cap:
            backoff += f", cap {spec.cap}"
        only = "" if spec.profiles == frozenset(PROFILES) else f" ({', '.join(spec.profiles)})"
        rows.append(
            f'<tr data-timer="{e(name)}"><th>{e(name)}</th><td class="udp"></td>'
            f'<td class="tcp"></td><td><code>{e(spec.unreliable)}</code> / '
            f"<code>{e(spec.reliable)}</code></td><td>{e(backoff)}</td>"
            f'<td class="sequence"></td><td><a href="#{section_anchor(spec.section)}">'
            f"{e(_ref(spec.section))}</a></td><td>{e(cat.timer(name, spec.meaning))}{e(only)}"
            f"</td><td>{used}</td></tr>"
        )
    inputs = "".join(
        f'<label>{k} <input id="{k.lower()}" type="number" step="0.1" min="0.01" '
        f'value="{v}"> <small>{e(cat.timer(k, _meaning(table, k)))}</small></label>'
        for k, v in table.base.items()
    )
    head = "".join(
        f"<th>{e(cat.ui(k))}</th>"
        for k in (
            "timer",
            "udp",
            "tcp",
            "expression",
            "backoff",
            "fires_at",
            "section",
            "meaning",
            "used_by",
        )
    )
    refs = [s.section for s in table.timers.values()]
    refs += [str(d.get("section", "")) for d in table.base_doc.values() if d.get("section")]
    body = f"""
<p>{e(cat.ui("timers_intro"))}</p>
<div class="controls">{inputs}</div>
<table id="timer-table"><tr>{head}</tr>{"".join(rows)}</table>
<h2>{e(cat.ui("sections"))}</h2>
{section_blocks(cat, refs, section_anchor, external_url)}
"""
    data = {
        "timers-data": {
            "base": dict(table.base),
            "timers": {n: timer_data(table, n) for n in table.timers},
        }
    }
    return page(cat, "timers.html", cat.ui("nav_timers"), body, kind="timers", data=data)


def glossary_page(cat: Catalog, english: Catalog, chinese: Catalog) -> str:
    """Every term in both languages, the Chinese variants, and the defining section."""
    rows = []
    zh_terms = chinese.glossary()
    for key, entry in english.glossary().items():
        zh = zh_terms.get(key, {})
        own = cat.glossary().get(key, {})
        variants = "、".join(str(v) for v in zh.get("variants", []))
        section = str(entry.get("section", ""))
        link = f'<a href="#{section_anchor(section)}">{e(_ref(section))}</a>' if section else ""
        rows.append(
            f'<tr id="g-{e(key)}"><th>{e(entry["term"])}</th><td lang="zh">{e(zh.get("term", ""))}'
            f'</td><td lang="zh">{e(variants)}</td><td>{e(own.get("definition", ""))}</td>'
            f"<td>{link}</td></tr>"
        )
    head = "".join(
        f"<th>{e(cat.ui(k))}</th>"
        for k in ("term_en", "term_zh", "variants", "definition", "section")
    )
    refs = [str(v["section"]) for v in english.glossary().values() if v.get("section")]
    body = f"""
<p>{e(cat.ui("glossary_intro"))}</p>
<table id="glossary"><tr>{head}</tr>{"".join(rows)}</table>
<h2>{e(cat.ui("sections"))}</h2>
{section_blocks(cat, refs, section_anchor, external_url)}
"""
    return page(cat, "glossary.html", cat.ui("nav_glossary"), body)
