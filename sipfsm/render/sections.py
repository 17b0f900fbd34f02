"""RFC section references as drawn and linked: every node and edge links to its section."""

from __future__ import annotations


def section_url(section: str) -> str:
    """The rfc-editor.org link of a section: ``17.1.1.2`` (RFC 3261) or ``RFC 6026 8.4``."""
    rfc, number = "3261", section.strip()
    parts = number.split()
    if len(parts) >= 2 and parts[0] == "RFC":
        rfc, number = parts[1], (parts[2] if len(parts) > 2 else "")
    number = number.strip("()")
    base = f"https://www.rfc-editor.org/rfc/rfc{rfc}"
    return f"{base}#section-{number}" if number else base


def section_title(section: str) -> str:
    """``17.1.1.2`` -> ``RFC 3261 §17.1.1.2``; ``RFC 6026 8.4`` -> ``RFC 6026 §8.4``."""
    parts = section.split(maxsplit=2)
    if len(parts) >= 2 and parts[0] == "RFC":
        rest = f" §{parts[2]}" if len(parts) > 2 else ""
        return f"RFC {parts[1]}{rest}"
    return f"RFC 3261 §{section}"


def short_section(section: str) -> str:
    """The section as drawn small under a state name: ``§17.1.1.2`` or ``RFC 6026 §8.4``."""
    title = section_title(section)
    return title.removeprefix("RFC 3261 ")
