"""A small generic splitter for grammar-validated header values (RFC 3261 sections 7.3.1, 25.1).

Typed header views are built from the Lark tree of ``Header.tree()`` wherever the grammar gives
structure; where a rule compiles to one flat terminal, the (already grammar-validated) text is
decomposed here. The splitter knows only the generic shapes of section 7.3.1 and 25.1, never a
particular header:

* comma-separated items (``COMMA``), for headers of the form ``x *(COMMA x)``;
* ``;``-separated parameters (``SEMI generic-param``), with ``name [= value]``;
* ``<...>`` (``LAQUOT addr-spec RAQUOT``), quoted strings (``DQUOTE ... DQUOTE`` with
  ``quoted-pair``) and comments (``( ... )`` with nesting and ``quoted-pair``), inside which
  separators do not count.

Every function works on an *unfolded* value (folding already replaced by SP, 7.3.1), and never
raises on grammar-valid input.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = [
    "Param",
    "parse_params",
    "split_name_addr",
    "split_top",
    "strip_lws",
    "unquote",
]

#: A ``generic-param`` (25.1): name as written, value as written (quotes kept) or None.
Param = tuple[str, str | None]

_WS = " \t\r\n"


def strip_lws(text: str) -> str:
    """Strip SP / HTAB / folding around ``text`` (SWS of 25.1)."""
    return text.strip(_WS)


def split_top(text: str, sep: str, *, comments: bool = False) -> list[str]:
    """Split ``text`` on the separator character ``sep`` where it stands at top level: outside
    quoted strings, ``<...>`` and (when ``comments``) comments. Items are stripped of LWS.

    >>> split_top('"a, b" <sip:x@y;p=1,2>;q=1, sip:z@w', ",")
    ['"a, b" <sip:x@y;p=1,2>;q=1', 'sip:z@w']
    """
    items: list[str] = []
    start = 0
    for i in _top_positions(text, sep, comments=comments):
        items.append(strip_lws(text[start:i]))
        start = i + 1
    items.append(strip_lws(text[start:]))
    return items


def _top_positions(text: str, sep: str, *, comments: bool = False) -> list[int]:
    """Indices of ``sep`` at top level of ``text``."""
    if '"' not in text and "<" not in text and not (comments and "(" in text):
        # nothing opens a quoted string, <...> or a comment: every sep is at top level
        found: list[int] = []
        i = text.find(sep)
        while i >= 0:
            found.append(i)
            i = text.find(sep, i + 1)
        return found
    return _scan_positions(text, sep, comments=comments)


@cache
def _specials(sep: str) -> re.Pattern[str]:
    """The octets :func:`_scan_positions` acts on: every other one changes nothing."""
    return re.compile("[" + re.escape('\\"()<>' + sep) + "]")


def _scan_positions(text: str, sep: str, *, comments: bool = False) -> list[int]:
    """:func:`_top_positions` through quoted strings, ``<...>`` and comments, visiting only the
    octets that open or close them, escape, or separate (:func:`_specials`)."""
    out: list[int] = []
    in_quote = False
    angle = 0
    comment = 0
    skip = -1  # the octet after a backslash in a quoted string or comment (quoted-pair)
    for m in _specials(sep).finditer(text):
        i = m.start()
        if i == skip:
            continue
        ch = text[i]
        if in_quote:
            if ch == "\\":
                skip = i + 1
            elif ch == '"':
                in_quote = False
        elif comment:
            if ch == "\\":
                skip = i + 1
            elif ch == "(":
                comment += 1
            elif ch == ")":
                comment -= 1
        elif ch == sep and not angle:
            out.append(i)
            if ch == "<":
                angle += 1
        elif ch == '"':
            in_quote = True
        elif ch == "<":
            angle += 1
        elif ch == ">" and angle:
            angle -= 1
        elif ch == "(" and comments and not angle:
            comment += 1
    return out


def parse_params(text: str, *, comments: bool = False) -> tuple[str, tuple[Param, ...]]:
    """Split ``head *(SEMI generic-param)`` into the head and its parameters (25.1).

    Names and values keep their spelling; a quoted value keeps its quotes (see :func:`unquote`).

    >>> parse_params('SIP/2.0/UDP h:5060 ; branch = z9hG4bK1 ;rport;x="a;b"')
    ('SIP/2.0/UDP h:5060', (('branch', 'z9hG4bK1'), ('rport', None), ('x', '"a;b"')))
    """
    head, *rest = split_top(text, ";", comments=comments)
    params: list[Param] = []
    for item in rest:
        name, eq, value = item.partition("=")
        params.append((strip_lws(name), strip_lws(value) if eq else None))
    return head, tuple(params)


def unquote(text: str) -> str:
    """The content of a ``quoted-string`` with ``quoted-pair``\\s resolved (25.1); any other text
    is returned unchanged.

    >>> unquote('"say \\\\"hi\\\\""')
    'say "hi"'
    """
    t = strip_lws(text)
    if len(t) < 2 or t[0] != '"' or t[-1] != '"':
        return text
    out: list[str] = []
    i = 1
    while i < len(t) - 1:
        ch = t[i]
        if ch == "\\" and i + 1 < len(t) - 1:
            out.append(t[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def split_name_addr(text: str) -> tuple[str | None, str, tuple[Param, ...]]:
    """Split ``( name-addr / addr-spec ) *(SEMI param)`` (20.10, 20.20, 20.39, 25.1) into
    display name (unquoted; None when absent), URI text and header parameters.

    In the ``addr-spec`` form, every ``;`` after the URI starts a header parameter, never a
    uri-parameter (20.10; RFC 4475 section 3.3.12).

    >>> split_name_addr('"Bob" <sip:bob@b.com;lr>;tag=12')
    ('Bob', 'sip:bob@b.com;lr', (('tag', '12'),))
    >>> split_name_addr('sip:bob@b.com;tag=12')
    (None, 'sip:bob@b.com', (('tag', '12'),))
    """
    lt = _top_positions(text, "<")
    if lt:
        i = lt[0]
        j = text.find(">", i)
        display = strip_lws(text[:i])
        uri = strip_lws(text[i + 1 : j])
        _, params = parse_params(text[j + 1 :])
        if not display:
            return None, uri, params
        if display.startswith('"'):
            return unquote(display), uri, params
        return " ".join(display.split()), uri, params
    uri, params = parse_params(text)
    return None, uri, params
