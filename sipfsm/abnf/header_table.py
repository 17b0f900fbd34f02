"""The header table of the grammar (RFC 3261 section 25, extended with ``=/``): every
alternative of ``message-header`` is a rule ``Name = ( "Name" / "c" ) HCOLON value``, which
gives the field's long name, its compact form (section 7.3.3), its value rule and, for a
comma list ``x *(COMMA x)`` (section 7.3.1), the rule of one element.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipfsm.abnf.compiler import CompileError
from sipfsm.abnf.reader import Alt, Grammar, Lit, Node, Ref, Rep, Seq

__all__ = ["HeaderSpec", "header_specs", "lark_name"]


@dataclass
class HeaderSpec:
    """One header field: its rule, names, and how its value is compiled."""

    rule: str
    """The ABNF rule as written (``Via``)."""
    names: tuple[str, ...]
    """Long name first, then the compact form if any (RFC 3261 section 7.3.3)."""
    value: Node
    """What follows ``HCOLON``."""
    item: str | None
    """For ``x *(COMMA x)`` lists, the rule of one element."""


def lark_name(rule: str) -> str:
    """The Lark name of an ABNF rule: lower-cased, ``-`` as ``_`` (``Call-ID`` -> ``call_id``)."""
    return rule.lower().replace("-", "_")


def _names(node: Node) -> tuple[str, ...] | None:
    if isinstance(node, Lit):
        return (node.text,)
    if isinstance(node, Alt):
        out: list[str] = []
        for it in node.items:
            got = _names(it)
            if got is None:
                return None
            out.extend(got)
        return tuple(out)
    return None


def _list_item(value: Node) -> str | None:
    """``x *(COMMA x)`` or ``[ x *(COMMA x) ]`` (or one alternative of that) -> x's rule."""
    if isinstance(value, Alt):
        for alt in value.items:
            got = _list_item(alt)
            if got is not None:
                return got
        return None
    if isinstance(value, Rep) and value.min == 0 and value.max == 1:
        value = value.item
    if (
        isinstance(value, Seq)
        and len(value.items) == 2
        and isinstance(value.items[0], Ref)
        and isinstance(value.items[1], Rep)
    ):
        first, rest = value.items
        assert isinstance(first, Ref) and isinstance(rest, Rep)
        body = rest.item
        if (
            rest.min == 0
            and rest.max is None
            and isinstance(body, Seq)
            and len(body.items) == 2
            and isinstance(body.items[0], Ref)
            and body.items[0].key == "comma"
            and isinstance(body.items[1], Ref)
            and body.items[1].key == first.key
        ):
            return first.name
    return None


def header_specs(grammar: Grammar) -> list[HeaderSpec]:
    """Every header field of ``message-header``, with its names and value rule."""
    mh = grammar.rules["message-header"].body
    found: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Ref):
            if n.key not in ("crlf", "extension-header"):
                found.append(n.name)
        elif isinstance(n, Alt | Seq):
            for it in n.items:
                walk(it)
        else:
            raise CompileError(f"message-header: unexpected {n!r}")

    walk(mh)
    specs: list[HeaderSpec] = []
    for name in found:
        rule = grammar.rules[name.lower()]
        body = rule.body
        if not (isinstance(body, Seq) and len(body.items) >= 3):
            raise CompileError(f"{rule.name}: expected  Name HCOLON value")
        names = _names(body.items[0])
        hcolon = body.items[1]
        if names is None or not (isinstance(hcolon, Ref) and hcolon.key == "hcolon"):
            raise CompileError(f"{rule.name}: expected  Name HCOLON value")
        rest = body.items[2:]
        value: Node = rest[0] if len(rest) == 1 else Seq(tuple(rest))
        specs.append(HeaderSpec(rule.name, names, value, _list_item(value)))
    return specs
