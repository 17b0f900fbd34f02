"""The DOT language's quoting, attribute lists and the escaping of its HTML-like labels
(graphviz.org/doc/info/lang.html, /shapes.html#html)."""

from __future__ import annotations


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def escape(text: str) -> str:
    """Text escaped for an HTML-like label."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def attr_list(attrs: dict[str, str]) -> str:
    """``[k="v", ...]``; values starting with ``<`` are HTML-like labels and go unquoted."""
    out = []
    for key, value in attrs.items():
        out.append(f"{key}={value}" if value.startswith("<") else f"{key}={quote(value)}")
    return "[" + ", ".join(out) + "]"
