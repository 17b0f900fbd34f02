"""Header values matched against their own ABNF rule (RFC 3261 sections 7.3, 20, 25).

:func:`check_header` matches one value with its rule's terminal (or, for the non-regular rules
that nest ``comment``, with Lark's LALR parser) and returns its tree; when it does not match,
the :class:`ParseError` says where and why: an unterminated quoted-string, the first list
element that fails, or a URI with a comma, semicolon or question mark outside ``<>``
(section 20.10). A header is anything shaped like :class:`HeaderLike` (the message classes'
``Header``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from sipfsm.errors import ParseError
from sipfsm.message import grammar as _grammar
from sipfsm.message.fields import parse_error
from sipfsm.message.grammar import HeaderRule, Matcher
from sipfsm.message.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token, Tree

__all__ = [
    "HeaderLike",
    "check_header",
    "fail_value",
    "lalr_error",
    "nesting",
    "open_parens",
    "too_deep",
    "value_error",
]

#: A character outside every alternative of header-value (section 25): used only to point at
#: the first bad octet in an error.
_NOT_TEXT = re.compile(r"[^\t -~\x80-\xfd]")


class HeaderLike(Protocol):
    """What the checks read of a header field (``sipfsm.message.header.Header``)."""

    name: str
    rule: HeaderRule | None
    _text: str

    @property
    def canonical(self) -> str: ...

    def position(self, offset: int) -> tuple[int, int]: ...


def value_error(h: HeaderLike, code: str, reason: str, offset: int, rule: str) -> ParseError:
    """A :class:`ParseError` at octet ``offset`` of the value of ``h``."""
    line, col = h.position(offset)
    return parse_error(code, reason, line, col, rule)


#: Text before the first DQUOTE that opens a quoted-string never closed: closed
#: quoted-strings (quoted-pairs inside) and the octets between them, in one pass.
_BALANCED = re.compile(r'(?:[^"]*+"(?:[^"\\]++|\\.)*+")*+[^"]*+', re.S)


def unbalanced_quote(text: str) -> int | None:
    """Offset of a DQUOTE that opens a quoted-string never closed (section 25), if any."""
    m = _BALANCED.match(text)
    assert m is not None  # the pattern matches the empty string
    return None if m.end() == len(text) else m.end()


def fail_value(h: HeaderLike, rule_name: str) -> ParseError:
    text = h._text
    q = unbalanced_quote(text)
    if q is not None:
        return value_error(
            h,
            "unterminated-quoted-string",
            f"{h.canonical}: quoted-string opened and never closed (section 25)",
            q,
            "quoted-string",
        )
    rule = h.rule
    offset = 0
    failing = rule_name
    if rule is not None and rule.comma_split:
        assert rule.item is not None
        offset = _first_bad_piece(h, rule.item)
        failing = rule.item.lower().replace("_", "-")
    elif rule is not None and rule.angle and rule.item is None:
        _needs_angle(h, _grammar.fullmatcher(rule.terminal), 0, text)
    elif rule is not None and rule.item is not None:
        # Find the first element of the comma list that does not match.
        item_re = _grammar.regex(rule.item)
        comma = _grammar.regex("COMMA")
        pos = 0
        while pos < len(text):
            m = item_re.match(text, pos)
            if m is None:
                break
            end = m.end()
            c = comma.match(text, end)
            if c is None or c.end() == end:
                break
            pos = c.end()
        offset = pos
        failing = rule.item.lower().replace("_", "-")
    return value_error(
        h,
        "bad-header-value",
        f"{h.canonical} value does not match its ABNF rule {failing} (section 25)",
        offset,
        failing,
    )


def _first_bad_piece(h: HeaderLike, item: str) -> int:
    """Offset of the first element of a ``comma_split`` value (every top-level comma
    separates elements, section 20.10) that does not match ``item``; raises
    ``uri-needs-angle-brackets`` when it fails only for want of ``<>`` (:func:`_needs_angle`).
    Each piece is matched at most three times: linear time."""
    text = h._text
    fm = _grammar.fullmatcher(item)
    prev: tuple[int, str] | None = None
    for at, piece in _grammar.top_pieces(text):
        if fm(piece) is None:
            _needs_angle(h, fm, at, piece)
            if piece and prev is not None and "<" not in prev[1]:
                # A bare URI before the comma that the plain ABNF let it hold?
                window = text[prev[0] : at + len(piece)]
                _needs_angle(h, fm, prev[0], window, text.rfind(",", 0, at))
            return at
        prev = (at, piece)
    return 0  # pragma: no cover - the value failed, so some piece does


def _needs_angle(
    h: HeaderLike, fm: Matcher, at: int, piece: str, offset: int | None = None
) -> None:
    """RFC 3261 section 20.10, 20.20, 20.39: a bare ``piece`` (no ``<``) at ``at`` that does
    not match, yet would as ``<piece>``, has a URI with a comma or semicolon outside ``<>``:
    raise ``uri-needs-angle-brackets`` (at ``offset``, default its first ``,`` or ``;``)."""
    if "<" in piece or fm(f"<{piece}>") is None:
        return
    if offset is None:
        found = _SEP.search(piece)
        offset = at + (found.start() if found else 0)
    raise value_error(
        h,
        "uri-needs-angle-brackets",
        f"{h.canonical}: a URI with a comma or semicolon must be written in <>; outside <> a "
        "comma separates list elements and a semicolon starts a header parameter "
        "(RFC 3261 section 20.10, 20.20, 20.39)",
        offset,
        "name-addr",
    )


_SEP = re.compile("[,;]")


_NOT_PAREN = re.compile(r"(?:\\.|[^()])++", re.S)


def nesting(text: str, limit: int) -> bool:
    """True when comments nest deeper than ``limit`` (quoted-pairs do not count)."""
    if text.count("(") <= limit:
        return False
    parens = _NOT_PAREN.sub("", text)
    if parens.count("(") <= limit:
        return False
    depth = 0
    for c in parens:
        depth += 1 if c == "(" else -1
        if depth > limit:
            return True
    return False


def check_header(h: HeaderLike, limits: Limits | None = None) -> Tree[Token]:
    """Match a header value against its rule; return its tree or raise ParseError."""
    from lark import Token, Tree

    rule = h.rule
    text = h._text
    if rule is None:
        if _grammar.fullmatcher("HEADER_VALUE")(text) is None:
            found = _NOT_TEXT.search(text)
            bad = found.start() if found else 0
            raise value_error(
                h,
                "bad-header-value",
                f"{h.name}: character not allowed in a header-value (section 25)",
                bad,
                "header-value",
            )
        return Tree("extension_header", [Token("HEADER_VALUE", text)])
    if rule.kind == "regex":
        if _grammar.fullmatcher(rule.terminal)(text) is None:
            raise fail_value(h, rule.rule)
        return Tree(rule.lark_rule, [Token(rule.terminal, text)])
    lim = limits or DEFAULT_LIMITS
    if nesting(text, lim.max_nesting):
        raise too_deep(h, lim.max_nesting)
    try:
        return _grammar.lalr_parse(text, rule.lark_rule)
    except _grammar.LalrError as exc:
        raise lalr_error(h, exc.pos) from None


def lalr_error(h: HeaderLike, pos: int) -> ParseError:
    """The error of a value of a non-regular field that does not match its rule at ``pos``."""
    assert h.rule is not None
    if unbalanced_quote(h._text) is not None:
        return fail_value(h, h.rule.rule)
    return value_error(
        h,
        "bad-header-value",
        f"{h.canonical} value does not match its ABNF rule {h.rule.rule} (section 25)",
        pos,
        h.rule.rule,
    )


def too_deep(h: HeaderLike, limit: int) -> ParseError:
    return value_error(
        h, "nesting-too-deep", f"{h.canonical}: comments nested deeper than {limit}", 0, "comment"
    )


def open_parens(text: str) -> bool:
    """True when ``text`` opens more parentheses than it closes (quoted-pairs skipped)."""
    parens = _NOT_PAREN.sub("", text)
    return parens.count("(") > parens.count(")")
