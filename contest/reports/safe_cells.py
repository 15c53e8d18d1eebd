"""Cells that cannot become formulas: every text is a string cell, control characters dropped.

Excel, LibreOffice and WPS evaluate a cell typed as a formula, and a text beginning with
`=`, `+`, `-` or `@` (or a tab / carriage return before one) turns into a formula when a
user edits it. Text is therefore always written as a string cell, and risky text gets the
quote prefix (Excel's leading apostrophe), so it stays text even after an edit.
"""

from __future__ import annotations

import re

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# XML 1.0 forbids these; openpyxl would raise IllegalCharacterError on them. Tab, LF and CR stay.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RISKY_START = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit for one cell's text.
MAX_TEXT = 32767


def clean_text(value: object) -> str:
    """Text without control characters, cut to what one Excel cell holds."""
    text = CONTROL.sub("", str(value))
    return text[:MAX_TEXT]


def is_risky(text: str) -> bool:
    return text.startswith(RISKY_START)


def text_cell(ws: WriteOnlyWorksheet, value: object) -> WriteOnlyCell | str | None:
    """A value for `ws.append`: plain text as is; risky text as a quote-prefixed string cell."""
    if value is None:
        return None
    text = clean_text(value)
    if not is_risky(text):
        return text
    cell = WriteOnlyCell(ws)
    cell.value = text
    cell.data_type = "s"  # openpyxl guessed "f" from the leading "="; force plain text
    cell.quotePrefix = True
    return cell


def write_text(cell: Cell, value: object) -> None:
    """Text into a cell of an ordinary (not write-only) worksheet, safe as text_cell's."""
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"
    if is_risky(text):
        cell.quotePrefix = True
