"""Whole numbers as people and clients send them: an integer, or a few ASCII digits.

str.isdigit() is true for "²" (which int() refuses) and for 5,000 digits (past int()'s limit),
so a check by isdigit() alone let such text through to a 500.
"""

from __future__ import annotations

MAX_DIGITS = 9  # ids, counts, positions and limits all fit; a larger number is no such thing here


def whole_number(value: object, digits: int = MAX_DIGITS) -> int | None:
    """`value` as a whole number: a JSON integer as it is (true is not one), or text of at most
    `digits` ASCII digits with spaces around; None for anything else. Ranges are the caller's."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text and len(text) <= digits and text.isascii() and text.isdigit():
            return int(text)
    return None
