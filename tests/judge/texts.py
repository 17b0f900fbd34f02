"""The texts the judge reads: RFC 3261 section 25 as printed (``rfc3261-verbatim.abnf``, made
by ``scripts/extract-abnf``), RFC 5954's patch of it, and the departures table of
``grammar/rfc3261.abnf``; rules cut from ABNF text and compared with white space and comments
normalised. Nothing here reads sipfsm's ABNF reader: the judge shares no code with sipfsm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VERBATIM = HERE / "rfc3261-verbatim.abnf"
RFC5954_PATCH = HERE / "rfc5954.patch"
GRAMMAR = ROOT / "grammar"
RFC3261_ABNF = GRAMMAR / "rfc3261.abnf"

_RULE_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*(=/|=)(.*)$")
_TOKEN = re.compile(
    r'%[si]?"[^"]*"|"[^"]*"|%[bdxBDX][0-9A-Fa-f]+(?:-[0-9A-Fa-f]+|(?:\.[0-9A-Fa-f]+)+)?'
    r"|<[^>]*>|[A-Za-z][A-Za-z0-9-]*|\d*\*\d*|\d+|=/|[=()\[\]/]"
)
_QUOTED_OR_COMMENT = re.compile(r'("[^"]*")|;[^\n]*')


@dataclass(frozen=True)
class RuleText:
    """One rule of an ABNF text: its name as written, ``=`` or ``=/``, and its body."""

    name: str
    defined_as: str
    body: str

    @property
    def key(self) -> str:
        """The name lower-cased (rule names are case-insensitive: RFC 5234 section 2.1)."""
        return self.name.lower()

    @property
    def normal(self) -> str:
        """The body with comments dropped and white space normalised (one SP between tokens,
        rule names lower-cased)."""
        return normalise(self.body)


def normalise(body: str) -> str:
    """``body`` as tokens joined by one space: comments and line breaks gone, names
    lower-cased (quoted strings and numeric values kept as written)."""
    text = _QUOTED_OR_COMMENT.sub(lambda m: m.group(1) or " ", body)
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if text[pos : m.start()].strip():
            raise ValueError(f"not ABNF: {text[pos : m.start()]!r} in {body!r}")
        tok = m.group()
        out.append(tok.lower() if re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", tok) else tok)
        pos = m.end()
    if text[pos:].strip():
        raise ValueError(f"not ABNF: {text[pos:]!r} in {body!r}")
    return " ".join(out)


def split_rules(text: str) -> list[RuleText]:
    """The rules of an ABNF text, in order: a rule starts at the left margin and goes on over
    the lines that start with white space (RFC 5234 section 4: ``c-wsp``)."""
    rules: list[RuleText] = []
    current: list[str] | None = None
    name = defined_as = ""
    for line in [*text.splitlines(), ""]:
        if current is not None and line[:1] in (" ", "\t") and line.strip():
            current.append(line)
            continue
        if current is not None:
            rules.append(RuleText(name, defined_as, "\n".join(current)))
            current = None
        m = _RULE_LINE.match(line)
        if m:
            name, defined_as, current = m.group(1), m.group(2), [m.group(3)]
    return rules


def rule_map(text: str) -> dict[str, RuleText]:
    """The rules of ``text`` by lower-cased name (each defined once with ``=``)."""
    out: dict[str, RuleText] = {}
    for r in split_rules(text):
        if r.defined_as != "=" or r.key in out:
            raise ValueError(f"rule {r.name} is not defined exactly once with '='")
        out[r.key] = r
    return out


def apply_patch(text: str, patch: str) -> str:
    """``text`` with the unified diff ``patch`` applied; every context and removed line must
    be there exactly (no fuzz)."""
    lines = text.splitlines()
    out: list[str] = []
    pos = 0
    plines = patch.splitlines()
    i = 0
    while i < len(plines):
        m = re.match(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", plines[i])
        i += 1
        if not m:
            continue
        start = int(m.group(1)) - 1
        out.extend(lines[pos:start])
        pos = start
        while i < len(plines) and not plines[i].startswith("@@"):
            tag, body = plines[i][:1], plines[i][1:]
            if tag in (" ", "-"):
                if pos >= len(lines) or lines[pos] != body:
                    raise ValueError(f"patch does not apply at line {pos + 1}: {body!r}")
                pos += 1
                if tag == " ":
                    out.append(body)
            elif tag == "+":
                out.append(body)
            i += 1
    out.extend(lines[pos:])
    return "\n".join(out) + "\n"


@cache
def verbatim_text() -> str:
    """RFC 3261 section 25 as printed, errata needed to load it applied."""
    return VERBATIM.read_text(encoding="ascii")


@cache
def baseline_text() -> str:
    """The verbatim text with RFC 5954 applied: what ``grammar/rfc3261.abnf`` is compared
    with."""
    return apply_patch(verbatim_text(), RFC5954_PATCH.read_text(encoding="ascii"))


# -- the departures table ---------------------------------------------------------------------

_ROW = re.compile(r"^; @departure ([a-z0-9-]+) \| (.+) \| (.+)$")
_ROW_TEXT = re.compile(r"^; ([=-])  (.*)$")
WHERE = ("baseline", "grammar", "compiler", "files")


@dataclass(frozen=True)
class Departure:
    """A row of the departures table at the top of ``grammar/rfc3261.abnf``."""

    id: str
    source: str
    where: str
    """``baseline``, ``grammar``, ``compiler``, ``files`` or ``issue N``."""
    sets: tuple[RuleText, ...]
    """The rules it sets, exactly as written in the row."""
    excludes: tuple[RuleText, ...]
    """The values it takes out of a rule: a value of ``name`` matching ``body`` is not one."""

    @property
    def issue(self) -> int | None:
        """The issue that tracks a row not done yet."""
        m = re.fullmatch(r"issue (\d+)", self.where)
        return int(m.group(1)) if m else None


def departures(text: str | None = None) -> list[Departure]:
    """The rows of the departures table of ``grammar/rfc3261.abnf`` (or of ``text``)."""
    if text is None:
        text = RFC3261_ABNF.read_text(encoding="ascii")
    rows: list[Departure] = []
    head: tuple[str, str, str] | None = None
    sets: list[str] = []
    excl: list[str] = []

    def close() -> None:
        if head is not None:
            rows.append(
                Departure(
                    *head, tuple(split_rules("\n".join(sets))), tuple(split_rules("\n".join(excl)))
                )
            )

    for line in text.splitlines():
        if not line.startswith(";"):
            if line.strip():
                break  # the table is in the comment at the top
            continue
        m = _ROW.match(line)
        if m:
            close()
            head, sets, excl = (m.group(1), m.group(2), m.group(3)), [], []
            continue
        t = _ROW_TEXT.match(line)
        if t and head is not None:
            (sets if t.group(1) == "=" else excl).append(t.group(2))
    close()
    for row in rows:
        if row.where not in WHERE and row.issue is None:
            raise ValueError(f"departure {row.id}: WHERE {row.where!r} is not one of {WHERE}")
    return rows


def extension_files() -> list[Path]:
    """The grammar files besides RFC 3261's and the core rules (the ``files`` row)."""
    return sorted(p for p in GRAMMAR.glob("rfc*.abnf") if p.name != "rfc3261.abnf")


def departed_text(rows: list[Departure], *, files: bool = True) -> tuple[str, list[RuleText]]:
    """The baseline with ``rows`` applied (the rules they set replace the baseline's or are
    added), and the exclusions they make; with ``files``, the extension grammars appended
    when a ``files`` row is among ``rows``."""
    rules = dict(rule_map(baseline_text()))
    excludes: list[RuleText] = []
    for row in rows:
        for r in row.sets:
            rules[r.key] = r
        excludes.extend(row.excludes)
    parts = [f"{r.name} = {r.body.strip()}" for r in rules.values()]
    if files and any(row.where == "files" for row in rows):
        parts += [p.read_text(encoding="ascii") for p in extension_files()]
    return "\n".join(parts) + "\n", excludes


def rule_refs(body: str) -> set[str]:
    """Lower-cased rule names used in a normalised body."""
    return {t for t in body.split() if re.fullmatch(r"[a-z][a-z0-9-]*", t)}


def undeparted_differences(grammar_text: str | None = None) -> list[str]:
    """Every rule of ``grammar/rfc3261.abnf`` (or ``grammar_text``) that differs from the
    printed text (the baseline) with no departures row holding exactly its text, and every
    row whose text is not the file's; empty when the file is the RFC's but for its rows."""
    if grammar_text is None:
        grammar_text = RFC3261_ABNF.read_text(encoding="ascii")
    ours = rule_map(grammar_text)
    base = rule_map(baseline_text())
    rows = departures(grammar_text)
    allowed: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if row.where == "grammar":
            for r in row.sets:
                allowed.setdefault(r.key, []).append((row.id, r.normal))
    problems: list[str] = []
    for key, rule in ours.items():
        printed = base.get(key)
        if printed is not None and rule.normal == printed.normal:
            continue
        if any(text == rule.normal for _, text in allowed.get(key, [])):
            continue
        was = printed.normal if printed is not None else "(not in RFC 3261 section 25)"
        problems.append(
            f"{rule.name}: differs from RFC 3261 section 25 without a departures row holding "
            f"its text:\n    grammar/:  {rule.normal}\n    printed:   {was}"
        )
    for key, texts in allowed.items():
        for row_id, text in texts:
            got = ours.get(key)
            if got is None or got.normal != text:
                problems.append(
                    f"departure {row_id}: its text of {key} is not grammar/'s:\n"
                    f"    row:       {text}\n    grammar/:  {got.normal if got else '(none)'}"
                )
    for row in rows:
        if row.where in ("compiler", "baseline", "files") or row.issue is not None:
            for r in row.sets:
                if r.key in ours and r.key in base and ours[r.key].normal != base[r.key].normal:
                    problems.append(
                        f"departure {row.id} ({row.where}): grammar/ changes {r.name} itself"
                    )
    departed = {k: v for k, v in base.items()}
    for key, rule in ours.items():
        departed[key] = rule
    reach = _reachable(departed, "sip-message")
    for key in base.keys() - ours.keys():
        if key in reach:
            problems.append(f"{base[key].name}: printed rule missing from grammar/")
    return problems


def _reachable(rules: dict[str, RuleText], root: str) -> set[str]:
    seen: set[str] = set()
    stack = [root]
    while stack:
        k = stack.pop()
        if k in seen or k not in rules:
            continue
        seen.add(k)
        stack.extend(rule_refs(rules[k].normal))
    return seen
