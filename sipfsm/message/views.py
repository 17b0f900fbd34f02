"""Typed header access for messages (RFC 3261 sections 7.3, 20): the ``msg.via``, ``msg.to.tag``,
``msg.cseq.seq`` layer.

:class:`HeaderViews` is a mix-in for the message classes of :mod:`~sipfsm.message.message`;
it relies only on ``self.headers`` (ordered, duplicates kept) whose items have ``canonical``
(long name), ``value`` (unfolded) and ``tree()`` (the value parsed by the header's ABNF rule).

Comma-separated and repeated forms read the same way (7.3.1): ``msg.via`` is the list of every
``via-parm`` of every Via line, in order. Single-value headers (To, From, CSeq, ...) give the first
occurrence, or None when absent; :func:`sipfsm.validate` reports duplicates (RFC 4475 3.3.8).

Reading a view runs the header's grammar rule first: a malformed value raises
:class:`sipfsm.ParseError` naming the header and the position of the defect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from sipfsm.message import grammar as _grammar
from sipfsm.message import header_builders as B
from sipfsm.message import headers as H
from sipfsm.message.grammar import BY_RULE, COMPACT_FORMS, LIST_HEADERS
from sipfsm.message.numbers import decimal
from sipfsm.message.split import parse_params, split_top, strip_lws

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token, Tree

    from sipfsm.message.header import Header

#: Issue 11, defect 7: everything the first use of a view needs is loaded with the message
#: classes (this module), not on first use: the view classes (``message.headers``,
#: ``message.header_builders``, ``message.uri``), Lark with the LALR tables of the non-regular
#: fields, and every regex (compiled at import, :mod:`sipfsm.message.precompiled`). So no first
#: use of a view costs more than reading it (``bench/bench_views.py``).
_grammar.prepare_lalr()

__all__ = ["COMPACT", "LIST_HEADERS", "HeaderViews", "canonical_name", "typed_value"]

T = TypeVar("T")


class _HeaderLike(Protocol):
    @property
    def canonical(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def line(self) -> int: ...

    def position(self, offset: int) -> tuple[int, int]: ...

    def tree(self) -> Tree[Token]: ...


#: Compact forms (section 7.3.3 and the extension RFCs) -> long names, as the ABNF gives them
#: (:data:`sipfsm.message.grammar.COMPACT_FORMS`).
COMPACT: dict[str, str] = COMPACT_FORMS


@dataclass(frozen=True)
class _Spec:
    """How a header's value reads: the builder of one item (of each comma item when the ABNF
    makes the value a comma list, :data:`LIST_HEADERS`, else of the whole value); when the
    grammar gives the value structure (a non-regular rule, parsed by LALR), ``from_tree``
    builds the view from the rule-named nodes instead."""

    build: Callable[[str], object]
    from_tree: Callable[[Tree[Token]], object] | None = None


def _text_of(node: Tree[Token] | Token) -> str:
    """The source text under a tree node (tokens concatenated; no recursion, so that a comment
    nested deeper than Python's recursion limit reads too)."""
    from lark import Token

    out: list[str] = []
    todo: list[Tree[Token] | Token] = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, Token):
            out.append(str(n))
        else:
            todo.extend(reversed(n.children))
    return "".join(out)


def _rule_name(node: Tree[Token] | Token) -> str:
    from lark import Token

    return "" if isinstance(node, Token) else str(node.data)


def _retry_after_tree(tree: Tree[Token]) -> H.RetryAfter:
    """Retry-After (20.33) from its LALR tree: ``DELTA_SECONDS [comment] *(SEMI param)``."""
    from lark import Token

    seconds = 0
    comment: str | None = None
    tail: list[str] = []
    for child in tree.children:
        if isinstance(child, Token) and child.type == "DELTA_SECONDS":
            seconds = decimal(child)
        elif _rule_name(child) == "comment":
            comment = _text_of(child).strip()[1:-1]
        else:
            tail.append(_text_of(child))
    _, params = parse_params("x" + "".join(tail))
    return H.RetryAfter(params, seconds, comment)


def _server_tree(tree: Tree[Token]) -> str:
    """Server / User-Agent (20.35, 20.41): the ``server-val`` items joined by one space."""
    vals = [_text_of(c).strip() for c in tree.children if _rule_name(c) == "server_val"]
    return " ".join(vals)


def _text(v: str) -> str:
    return strip_lws(v)


def _int(v: str) -> int:
    return decimal(strip_lws(v))


def _h(name: str) -> Callable[[str], object]:
    """``sipfsm.message.header_builders.<name>``, looked up when first called (see
    ``_Lazy``)."""

    def build(value: str) -> object:
        fn: Callable[[str], object] = getattr(B, name)
        return fn(value)

    build.__name__ = name
    return build


_SPECS: dict[str, _Spec] = {
    "Accept": _Spec(_h("build_media_type")),
    "Accept-Encoding": _Spec(_h("build_token")),
    "Accept-Language": _Spec(_h("build_language")),
    "Alert-Info": _Spec(_h("build_info")),
    "Allow": _Spec(_text),
    "Authentication-Info": _Spec(_h("build_auth_info")),
    "Authorization": _Spec(_h("build_credentials")),
    "Call-ID": _Spec(_text),
    "Call-Info": _Spec(_h("build_info")),
    "Contact": _Spec(_h("build_contact")),
    "Content-Disposition": _Spec(_h("build_disposition")),
    "Content-Encoding": _Spec(_h("build_token")),
    "Content-Language": _Spec(_h("build_token")),
    "Content-Length": _Spec(_int),
    "Content-Type": _Spec(_h("build_media_type")),
    "CSeq": _Spec(_h("build_cseq")),
    "Date": _Spec(_h("build_date")),
    "Error-Info": _Spec(_h("build_info")),
    "Expires": _Spec(_int),
    "From": _Spec(_h("build_name_addr")),
    "In-Reply-To": _Spec(_text),
    "Max-Forwards": _Spec(_int),
    "MIME-Version": _Spec(_text),
    "Min-Expires": _Spec(_int),
    "Organization": _Spec(_text),
    "Priority": _Spec(_text),
    "Proxy-Authenticate": _Spec(_h("build_challenge")),
    "Proxy-Authorization": _Spec(_h("build_credentials")),
    "Proxy-Require": _Spec(_text),
    "Record-Route": _Spec(_h("build_name_addr")),
    "Reply-To": _Spec(_h("build_name_addr")),
    "Require": _Spec(_text),
    "Retry-After": _Spec(_text, _retry_after_tree),  # read from its tree only (a comment nests)
    "Route": _Spec(_h("build_name_addr")),
    "Server": _Spec(_text, _server_tree),
    "Subject": _Spec(_text),
    "Supported": _Spec(_text),
    "Timestamp": _Spec(_h("build_timestamp")),
    "To": _Spec(_h("build_name_addr")),
    "Unsupported": _Spec(_text),
    "User-Agent": _Spec(_text, _server_tree),
    "Via": _Spec(_h("build_via")),
    "Warning": _Spec(_h("build_warning")),
    "WWW-Authenticate": _Spec(_h("build_challenge")),
    # extension headers of grammar/
    "RAck": _Spec(_h("build_rack")),
    "RSeq": _Spec(_int),
    "P-Asserted-Identity": _Spec(_h("build_name_addr")),
    "P-Preferred-Identity": _Spec(_h("build_name_addr")),
    "Reason": _Spec(_h("build_reason")),
    "Refer-To": _Spec(_h("build_name_addr")),
    "Session-Expires": _Spec(_h("build_delta_params")),
    "Min-SE": _Spec(_h("build_delta_params")),
    "Event": _Spec(_h("build_event")),
    "Allow-Events": _Spec(_text),
    "Subscription-State": _Spec(_h("build_subscription_state")),
}


def canonical_name(name: str) -> str:
    """The long, canonically spelled name of a header (7.3.3), or ``name`` itself for an
    unknown header.

    >>> canonical_name("v"), canonical_name("CALL-id"), canonical_name("X-Foo")
    ('Via', 'Call-ID', 'X-Foo')
    """
    low = name.strip().lower()
    if low in COMPACT:
        return COMPACT[low]
    rule = BY_RULE.get(low)
    return rule.long_name if rule is not None else name.strip()


def _raise_bad(header: _HeaderLike, err: Exception) -> None:
    from sipfsm.errors import ParseError

    line, column = header.position(0)
    raise ParseError(
        "bad-header-value",
        f"{header.canonical} value {header.value!r} cannot be read: {err}",
        line=line,
        column=column,
        rule=header.canonical,
    ) from err


def typed_value(header: _HeaderLike) -> list[object]:
    """The typed items of one header line: one item for a single-value header, the comma
    items for a list header, ``[value]`` (a str) for an unknown header. Runs the header's
    grammar rule first (``header.tree()``), so a malformed value raises ParseError naming the
    header, line and column."""
    spec = _SPECS.get(header.canonical)
    tree = header.tree()  # validates; raises ParseError naming header and position
    if spec is None:
        return [header.value]
    try:
        if spec.from_tree is not None:
            return [spec.from_tree(tree)]
        if header.canonical.lower() in LIST_HEADERS:
            return [spec.build(item) for item in split_top(header.value, ",") if item]
        return [spec.build(header.value)]
    except (ValueError, IndexError) as err:  # URIError is a ValueError
        _raise_bad(header, err)
        raise  # pragma: no cover - _raise_bad always raises


class HeaderViews:
    """Typed accessors for every header of RFC 3261 section 20 and the extensions in grammar/.

    List headers give lists over all lines and comma items; single-value headers give the first
    occurrence or None.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # pragma: no cover

        @property
        def headers(self) -> list[Header]: ...

    # -- generic
    def typed(self, name: str) -> list[object]:
        """Typed items of every header named ``name`` (any spelling, compact forms too), in
        order; unknown headers give their unfolded value strings."""
        want = canonical_name(name)
        out: list[object] = []
        for h in self.headers:
            if h.canonical.lower() == want.lower():
                out.extend(typed_value(h))
        return out

    def _list(self, name: str, cls: type[T]) -> list[T]:
        return [v for v in self.typed(name) if isinstance(v, cls)]

    def _one(self, name: str, cls: type[T]) -> T | None:
        for h in self.headers:
            if h.canonical == name:
                v = typed_value(h)[0]
                return v if isinstance(v, cls) else None
        return None

    # -- 20.42 Via and the address headers
    @property
    def via(self) -> list[H.Via]:
        """Every ``via-parm`` of every Via line, top first (20.42)."""
        return self._list("Via", H.Via)

    @property
    def to(self) -> H.NameAddr | None:
        """To (20.39)."""
        return self._one("To", H.NameAddr)

    @property
    def from_(self) -> H.NameAddr | None:
        """From (20.20); ``from`` is a Python keyword."""
        return self._one("From", H.NameAddr)

    @property
    def contact(self) -> list[H.NameAddr | H.Wildcard]:
        """Contact items (20.10); ``*`` reads as :class:`Wildcard`."""
        return [v for v in self.typed("Contact") if isinstance(v, H.NameAddr | H.Wildcard)]

    @property
    def route(self) -> list[H.NameAddr]:
        """Route (20.34)."""
        return self._list("Route", H.NameAddr)

    @property
    def record_route(self) -> list[H.NameAddr]:
        """Record-Route (20.30)."""
        return self._list("Record-Route", H.NameAddr)

    @property
    def reply_to(self) -> H.NameAddr | None:
        """Reply-To (20.31)."""
        return self._one("Reply-To", H.NameAddr)

    # -- scalars
    @property
    def cseq(self) -> H.CSeq | None:
        """CSeq (20.16)."""
        return self._one("CSeq", H.CSeq)

    @property
    def call_id(self) -> str | None:
        """Call-ID (20.8)."""
        return self._one("Call-ID", str)

    @property
    def max_forwards(self) -> int | None:
        """Max-Forwards (20.22)."""
        return self._one("Max-Forwards", int)

    @property
    def content_length(self) -> int | None:
        """Content-Length (20.14)."""
        return self._one("Content-Length", int)

    @property
    def expires(self) -> int | None:
        """Expires (20.19)."""
        return self._one("Expires", int)

    @property
    def min_expires(self) -> int | None:
        """Min-Expires (20.23)."""
        return self._one("Min-Expires", int)

    @property
    def mime_version(self) -> str | None:
        """MIME-Version (20.24)."""
        return self._one("MIME-Version", str)

    @property
    def subject(self) -> str | None:
        """Subject (20.36)."""
        return self._one("Subject", str)

    @property
    def organization(self) -> str | None:
        """Organization (20.25)."""
        return self._one("Organization", str)

    @property
    def priority(self) -> str | None:
        """Priority (20.26)."""
        return self._one("Priority", str)

    @property
    def server(self) -> str | None:
        """Server (20.35)."""
        return self._one("Server", str)

    @property
    def user_agent(self) -> str | None:
        """User-Agent (20.41)."""
        return self._one("User-Agent", str)

    @property
    def date(self) -> H.SipDate | None:
        """Date (20.17)."""
        return self._one("Date", H.SipDate)

    @property
    def retry_after(self) -> H.RetryAfter | None:
        """Retry-After (20.33)."""
        return self._one("Retry-After", H.RetryAfter)

    @property
    def timestamp(self) -> H.Timestamp | None:
        """Timestamp (20.38)."""
        return self._one("Timestamp", H.Timestamp)

    # -- content
    @property
    def content_type(self) -> H.MediaType | None:
        """Content-Type (20.15)."""
        return self._one("Content-Type", H.MediaType)

    @property
    def content_encoding(self) -> list[H.Token]:
        """Content-Encoding (20.12)."""
        return self._list("Content-Encoding", H.Token)

    @property
    def content_language(self) -> list[H.Token]:
        """Content-Language (20.13)."""
        return self._list("Content-Language", H.Token)

    @property
    def content_disposition(self) -> H.ContentDisposition | None:
        """Content-Disposition (20.11)."""
        return self._one("Content-Disposition", H.ContentDisposition)

    @property
    def accept(self) -> list[H.MediaType]:
        """Accept (20.1)."""
        return self._list("Accept", H.MediaType)

    @property
    def accept_encoding(self) -> list[H.Token]:
        """Accept-Encoding (20.2)."""
        return self._list("Accept-Encoding", H.Token)

    @property
    def accept_language(self) -> list[H.LanguageRange]:
        """Accept-Language (20.3)."""
        return self._list("Accept-Language", H.LanguageRange)

    # -- option tags and methods
    @property
    def require(self) -> list[str]:
        """Require option-tags (20.32)."""
        return self._list("Require", str)

    @property
    def proxy_require(self) -> list[str]:
        """Proxy-Require option-tags (20.29)."""
        return self._list("Proxy-Require", str)

    @property
    def supported(self) -> list[str]:
        """Supported option-tags (20.37)."""
        return self._list("Supported", str)

    @property
    def unsupported(self) -> list[str]:
        """Unsupported option-tags (20.40)."""
        return self._list("Unsupported", str)

    @property
    def allow(self) -> list[str]:
        """Allow methods (20.5)."""
        return self._list("Allow", str)

    @property
    def in_reply_to(self) -> list[str]:
        """In-Reply-To Call-IDs (20.21)."""
        return self._list("In-Reply-To", str)

    # -- security
    @property
    def authorization(self) -> list[H.Credentials]:
        """Authorization (20.7), one per line."""
        return self._list("Authorization", H.Credentials)

    @property
    def proxy_authorization(self) -> list[H.Credentials]:
        """Proxy-Authorization (20.28), one per line."""
        return self._list("Proxy-Authorization", H.Credentials)

    @property
    def www_authenticate(self) -> list[H.Challenge]:
        """WWW-Authenticate (20.44), one per line."""
        return self._list("WWW-Authenticate", H.Challenge)

    @property
    def proxy_authenticate(self) -> list[H.Challenge]:
        """Proxy-Authenticate (20.27), one per line."""
        return self._list("Proxy-Authenticate", H.Challenge)

    @property
    def authentication_info(self) -> H.AuthParams | None:
        """Authentication-Info (20.6): every ``ainfo`` of every line, in order (the value is
        the comma list ``ainfo *(COMMA ainfo)``, so 7.3.1 lets it span several lines)."""
        items = self._list("Authentication-Info", H.AuthParams)
        if not items:
            return None
        return H.AuthParams("", tuple(p for item in items for p in item.params))

    # -- informational
    @property
    def warning(self) -> list[H.Warning]:
        """Warning values (20.43)."""
        return self._list("Warning", H.Warning)

    @property
    def alert_info(self) -> list[H.InfoItem]:
        """Alert-Info (20.4)."""
        return self._list("Alert-Info", H.InfoItem)

    @property
    def call_info(self) -> list[H.InfoItem]:
        """Call-Info (20.9)."""
        return self._list("Call-Info", H.InfoItem)

    @property
    def error_info(self) -> list[H.InfoItem]:
        """Error-Info (20.18)."""
        return self._list("Error-Info", H.InfoItem)

    # -- extensions (grammar/rfc3262, 3325, 3326, 3515, 4028, 6665)
    @property
    def rack(self) -> H.RAck | None:
        """RAck (RFC 3262 section 7.2)."""
        return self._one("RAck", H.RAck)

    @property
    def rseq(self) -> int | None:
        """RSeq (RFC 3262 section 7.1)."""
        return self._one("RSeq", int)

    @property
    def p_asserted_identity(self) -> list[H.NameAddr]:
        """P-Asserted-Identity (RFC 3325 section 9.1)."""
        return self._list("P-Asserted-Identity", H.NameAddr)

    @property
    def p_preferred_identity(self) -> list[H.NameAddr]:
        """P-Preferred-Identity (RFC 3325 section 9.2)."""
        return self._list("P-Preferred-Identity", H.NameAddr)

    @property
    def reason_header(self) -> list[H.ReasonValue]:
        """Reason (RFC 3326 section 2)."""
        return self._list("Reason", H.ReasonValue)

    @property
    def refer_to(self) -> H.NameAddr | None:
        """Refer-To (RFC 3515 section 2.1)."""
        return self._one("Refer-To", H.NameAddr)

    @property
    def session_expires(self) -> H.DeltaParams | None:
        """Session-Expires (RFC 4028 section 4)."""
        return self._one("Session-Expires", H.DeltaParams)

    @property
    def min_se(self) -> H.DeltaParams | None:
        """Min-SE (RFC 4028 section 5)."""
        return self._one("Min-SE", H.DeltaParams)

    @property
    def event(self) -> H.Event | None:
        """Event (RFC 6665 section 8.2.1)."""
        return self._one("Event", H.Event)

    @property
    def allow_events(self) -> list[str]:
        """Allow-Events (RFC 6665 section 8.2.2)."""
        return self._list("Allow-Events", str)

    @property
    def subscription_state(self) -> H.SubscriptionState | None:
        """Subscription-State (RFC 6665 section 8.2.3)."""
        return self._one("Subscription-State", H.SubscriptionState)
