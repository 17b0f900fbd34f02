"""Decimal numbers of header values (RFC 3261 section 25: ``1*DIGIT``), read in linear time.

The ABNF puts no bound on the length of a number, and leading zeros are allowed (RFC 4475
section 3.1.1.1 has them: ``Max-Forwards: 0068``), while Python's ``int()`` refuses a string of
more than 4,300 digits (and costs quadratic time on long ones). So numbers are read by their
*significant* digits:

* :func:`within` says whether a number is in a range of the RFC (CSeq below 2**31, section
  8.1.1.5; Max-Forwards 0-255, 20.22; delta-seconds up to 2**32-1, 20.19) by counting digits
  first: any length, any leading zeros, no ``int()`` of a long string;
* :func:`decimal` gives the value of a number for the typed views; one of more than
  :func:`max_digits` significant digits cannot be read (ValueError, which a view reports as
  a ParseError naming the field).
"""

from __future__ import annotations

import sys

__all__ = ["TooManyDigits", "decimal", "max_digits", "significant", "within"]

#: Python's default bound on the digits int() takes (``sys.int_info.default_max_str_digits``).
_DEFAULT_MAX_DIGITS = 4300


class TooManyDigits(ValueError):
    """A number of more significant digits than :func:`max_digits` (:func:`decimal`)."""


def max_digits() -> int:
    """The most significant digits :func:`decimal` reads: what ``int()`` takes in this
    process (``sys.get_int_max_str_digits()``; 4,300 when that is unbounded, to keep the cost
    bounded)."""
    limit = sys.get_int_max_str_digits()
    return limit if 0 < limit < _DEFAULT_MAX_DIGITS else _DEFAULT_MAX_DIGITS


def significant(digits: str) -> str:
    """``digits`` without its leading zeros (``"0"`` for zero).

    >>> significant("0068"), significant("000")
    ('68', '0')
    """
    return digits.lstrip("0") or "0"


def within(digits: str, bound: int) -> bool:
    """True when the number ``digits`` (``1*DIGIT``, any leading zeros) is at most ``bound``.

    >>> within("0" * 5000 + "255", 255), within("1" * 5000, 2**32 - 1)
    (True, False)
    """
    sig = significant(digits)
    width = len(str(bound))
    if len(sig) != width:
        return len(sig) < width
    return int(sig) <= bound


def decimal(digits: str) -> int:
    """The value of the number ``digits`` (``1*DIGIT``, any leading zeros); ValueError when it
    is not one, or has more significant digits than :func:`max_digits`.

    >>> decimal("0" * 5000 + "70")
    70
    """
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{digits[:20]!r} is not a decimal number")
    sig = significant(digits)
    if len(sig) > max_digits():
        raise TooManyDigits(f"a number of {len(sig)} digits is too large to read")
    return int(sig)
