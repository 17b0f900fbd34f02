"""An ABNF reader (RFC 5234, with RFC 7405's ``%s``/``%i``), itself written as a Lark grammar.

``read_abnf(files)`` parses ABNF files into a :class:`Grammar`: rules by case-insensitive name
(RFC 5234 section 2.1), incremental alternatives (``=/``, section 3.3) merged in file order, and
the undefined and unused rules reported. Prose values (``<...>``, section 4) cannot be compiled
and are refused with the file, line, column and rule. Errors raise :class:`AbnfError`.

The tree it builds is small and immutable: :class:`Alt`, :class:`Seq`, :class:`Rep`,
:class:`Ref`, :class:`Lit` (a quoted string) and :class:`Range` (a numeric value or range).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from sipfsm.errors import SipfsmError

#: RFC 5234 section 4 (ABNF of ABNF), as a Lark LALR grammar. A newline followed by white
#: space continues a rule (``c-nl WSP``); any other newline ends it.
ABNF_LARK = r"""
start: (rule | _NL)*
rule: RULENAME DEFINED_AS alternation _NL
alternation: concatenation ("/" concatenation)*
concatenation: repetition+
repetition: REPEAT? element
?element: RULENAME -> ref
        | "(" alternation ")" -> group
        | "[" alternation "]" -> option
        | CHAR_VAL -> char_val
        | NUM_VAL -> num_val
        | PROSE_VAL -> prose_val

RULENAME: /[A-Za-z][A-Za-z0-9-]*/
DEFINED_AS: "=/" | "="
REPEAT: /[0-9]*\*[0-9]*/ | /[0-9]+/
CHAR_VAL: /(%[sSiI])?"[\x20\x21\x23-\x7e]*"/
NUM_VAL: /%[xX][0-9A-Fa-f]+((\.[0-9A-Fa-f]+)+|-[0-9A-Fa-f]+)?/
       | /%[dD][0-9]+((\.[0-9]+)+|-[0-9]+)?/
       | /%[bB][01]+((\.[01]+)+|-[01]+)?/
PROSE_VAL: /<[\x20-\x3d\x3f-\x7e]*>/
COMMENT: /;[^\n]*/
WS: /[ \t]+/
CONT: /\r?\n(?=[ \t])/
_NL: /\r?\n/
%ignore WS
%ignore COMMENT
%ignore CONT
"""


class AbnfError(SipfsmError):
    """An ABNF file is wrong: names the file, line and column (1-based) and the rule."""

    def __init__(self, file: str, line: int, column: int, rule: str, reason: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.rule = rule
        self.reason = reason
        where = f"{file}:{line}:{column}"
        super().__init__(f"{where}: {reason}" + (f" (rule {rule})" if rule else ""))


@dataclass(frozen=True)
class Node:
    """Base class of ABNF expression nodes."""


@dataclass(frozen=True)
class Alt(Node):
    """Alternatives ``a / b`` (RFC 5234 section 3.2), in order."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Seq(Node):
    """Concatenation ``a b`` (section 3.1)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Rep(Node):
    """Repetition ``n*m item`` (section 3.6); ``[item]`` is ``Rep(0, 1, item)`` (section 3.8)."""

    min: int
    max: int | None
    item: Node


@dataclass(frozen=True)
class Ref(Node):
    """A rule name, as written; ``key`` is the case-insensitive name (section 2.1)."""

    name: str
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Lit(Node):
    """A quoted string: case-insensitive unless ``%s`` (section 2.3, RFC 7405)."""

    text: str
    case_sensitive: bool = False


@dataclass(frozen=True)
class Range(Node):
    """One octet in ``lo..hi`` (``%x41`` or ``%x41-5A``, section 2.3 and 3.4)."""

    lo: int
    hi: int


@dataclass
class Rule:
    """A rule: its name as first written, its definition, and where each part was defined."""

    name: str
    body: Node
    file: str
    line: int
    column: int


@dataclass
class Grammar:
    """Rules by lower-cased name, in the order they were first defined."""

    rules: dict[str, Rule]
    undefined: list[tuple[str, str, int, int, str]]
    """``(name, file, line, column, rule using it)`` for each reference to an undefined rule."""

    def unused(self, roots: Iterable[str]) -> list[str]:
        """Rules not reachable from ``roots`` (names as first written), in definition order."""
        seen: set[str] = set()
        stack = [r.lower() for r in roots]
        while stack:
            key = stack.pop()
            if key in seen or key not in self.rules:
                continue
            seen.add(key)
            stack.extend(refs(self.rules[key].body))
        return [rule.name for key, rule in self.rules.items() if key not in seen]


def refs(node: Node) -> set[str]:
    """The lower-cased rule names ``node`` refers to."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Ref):
            out.add(n.key)
        elif isinstance(n, Alt | Seq):
            stack.extend(n.items)
        elif isinstance(n, Rep):
            stack.append(n.item)
    return out


_PARSER: Lark | None = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = Lark(ABNF_LARK, parser="lalr", propagate_positions=False)
    return _PARSER


class _Prose(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _BadToken(Exception):
    def __init__(self, token: Token, reason: str) -> None:
        self.token = token
        self.reason = reason


def _num(text: str) -> Node:
    base = {"x": 16, "d": 10, "b": 2}[text[1].lower()]
    body = text[2:]
    if "-" in body:
        lo_s, hi_s = body.split("-")
        lo, hi = int(lo_s, base), int(hi_s, base)
        if lo > hi:
            raise ValueError(f"empty range {text}")
        return Range(lo, hi)
    values = [int(v, base) for v in body.split(".")]
    if len(values) == 1:
        return Range(values[0], values[0])
    return Seq(tuple(Range(v, v) for v in values))


def _repeat(text: str) -> tuple[int, int | None]:
    if "*" not in text:
        n = int(text)
        return n, n
    lo_s, hi_s = text.split("*")
    lo = int(lo_s) if lo_s else 0
    hi = int(hi_s) if hi_s else None
    if hi is not None and hi < lo:
        raise ValueError(f"repetition {text}: maximum below minimum")
    return lo, hi


@v_args(inline=True)
class _ToNodes(Transformer[Token, list[tuple[Token, Token, Node]]]):
    def start(self, *rules: tuple[Token, Token, Node]) -> list[tuple[Token, Token, Node]]:
        return list(rules)

    def rule(self, name: Token, defined_as: Token, body: Node) -> tuple[Token, Token, Node]:
        return (name, defined_as, body)

    def alternation(self, *items: Node) -> Node:
        return items[0] if len(items) == 1 else Alt(tuple(items))

    def concatenation(self, *items: Node) -> Node:
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def repetition(self, *parts: Token | Node) -> Node:
        if len(parts) == 1:
            node = parts[0]
            assert isinstance(node, Node)
            return node
        rep, node = parts
        assert isinstance(rep, Token) and isinstance(node, Node)
        try:
            lo, hi = _repeat(str(rep))
        except ValueError as exc:
            raise _BadToken(rep, str(exc)) from None
        return Rep(lo, hi, node)

    def ref(self, name: Token) -> Node:
        return Ref(str(name), name.line or 0, name.column or 0)

    def group(self, node: Node) -> Node:
        return node

    def option(self, node: Node) -> Node:
        return Rep(0, 1, node)

    def char_val(self, tok: Token) -> Node:
        text = str(tok)
        sensitive = text[:2].lower() == "%s"
        if text.startswith("%"):
            text = text[2:]
        return Lit(text[1:-1], sensitive)

    def num_val(self, tok: Token) -> Node:
        try:
            return _num(str(tok))
        except ValueError as exc:
            raise _BadToken(tok, str(exc)) from None

    def prose_val(self, tok: Token) -> Node:
        raise _Prose(tok)


def _rule_at(text: str, line: int) -> str:
    """The name of the rule being defined at ``line`` (1-based) of ``text``."""
    lines = text.splitlines()
    for i in range(min(line, len(lines)) - 1, -1, -1):
        candidate = lines[i]
        if candidate[:1].isalpha() and "=" in candidate:
            return candidate.split("=", 1)[0].strip()
    return ""


def parse_abnf(text: str, file: str = "<string>") -> list[tuple[str, str, Node, int, int]]:
    """Parse ABNF text into ``(name, "=" or "=/", body, line, column)`` tuples, in order."""
    source = text if text.endswith("\n") else text + "\n"
    try:
        tree = _parser().parse(source)
        result = _ToNodes().transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _Prose):
            tok = orig.token
            line, col = tok.line or 0, tok.column or 0
            raise AbnfError(
                file,
                line,
                col,
                _rule_at(source, line),
                f"prose value {tok} cannot be compiled (RFC 5234 section 4): replace it with ABNF",
            ) from None
        if isinstance(orig, _BadToken):
            line, col = orig.token.line or 0, orig.token.column or 0
            raise AbnfError(file, line, col, _rule_at(source, line), orig.reason) from None
        line = getattr(exc.obj, "line", 0) or 0
        col = getattr(exc.obj, "column", 0) or 0
        raise AbnfError(file, line, col, _rule_at(source, line), str(orig)) from None
    except UnexpectedCharacters as exc:
        at = exc.pos_in_stream or 0
        char = source[at] if at < len(source) else ""
        raise AbnfError(
            file, exc.line, exc.column, _rule_at(source, exc.line), f"unexpected character {char!r}"
        ) from None
    except UnexpectedEOF as exc:
        raise AbnfError(file, exc.line, exc.column, "", "unexpected end of file") from None
    except UnexpectedInput as exc:
        bad_tok: object = getattr(exc, "token", None)
        what = f"unexpected {bad_tok!r}" if bad_tok is not None else "syntax error"
        if bad_tok is not None and getattr(bad_tok, "type", "") == "$END":
            what = "unexpected end of file"
        raise AbnfError(file, exc.line, exc.column, _rule_at(source, exc.line), what) from None
    return [(str(n), str(d), body, n.line or 0, n.column or 0) for n, d, body in result]


def read_abnf(files: Sequence[Path | tuple[str, str]]) -> Grammar:
    """Read ABNF ``files`` (paths, or ``(name, text)`` pairs) in order into one grammar.

    ``=`` defines a rule (defining it twice is an error); ``=/`` adds alternatives to a rule
    already defined (RFC 5234 section 3.3). Undefined references are collected in
    :attr:`Grammar.undefined`, not raised: :func:`check` raises them.
    """
    rules: dict[str, Rule] = {}
    for item in files:
        if isinstance(item, tuple):
            fname, text = item
        else:
            fname, text = str(item), item.read_text(encoding="utf-8")
        for name, defined_as, body, line, col in parse_abnf(text, fname):
            key = name.lower()
            if defined_as == "=":
                if key in rules:
                    first = rules[key]
                    raise AbnfError(
                        fname,
                        line,
                        col,
                        name,
                        f"rule {name} defined twice (first at {first.file}:{first.line}); "
                        "use =/ to add alternatives",
                    )
                rules[key] = Rule(name, body, fname, line, col)
            else:
                if key not in rules:
                    raise AbnfError(
                        fname, line, col, name, f"=/ adds to rule {name}, which is not defined yet"
                    )
                old = rules[key]
                old_items = old.body.items if isinstance(old.body, Alt) else (old.body,)
                new_items = body.items if isinstance(body, Alt) else (body,)
                old.body = Alt(old_items + new_items)
    undefined: list[tuple[str, str, int, int, str]] = []
    for rule in rules.values():
        stack: list[Node] = [rule.body]
        while stack:
            n = stack.pop()
            if isinstance(n, Ref):
                if n.key not in rules:
                    undefined.append((n.name, rule.file, n.line, n.column, rule.name))
            elif isinstance(n, Alt | Seq):
                stack.extend(n.items)
            elif isinstance(n, Rep):
                stack.append(n.item)
    undefined.sort(key=lambda u: (u[1], u[2], u[3]))
    return Grammar(rules, undefined)


def check(grammar: Grammar) -> None:
    """Raise :class:`AbnfError` for the first reference to an undefined rule."""
    if grammar.undefined:
        name, file, line, col, rule = grammar.undefined[0]
        raise AbnfError(file, line, col, rule, f"rule {name} is used but not defined")
