"""Rows of the big sheets written as sheet XML directly, spliced into openpyxl's file.

openpyxl spends ~15 µs on each cell it serialises; the city's 答题明细 alone has almost a
million cells. So openpyxl writes every sheet's frame (header, widths, frozen pane,
filter, chart, styles) and the big tables' rows are generated here, column by column, as
plain `<row>` XML, then inserted before `</sheetData>` while the file is copied once.
Text is always an inline string cell (never a formula), cleaned by safe_cells; risky text
gets the quote-prefix style.
"""

from __future__ import annotations

import math
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from contest.reports.safe_cells import clean_text, is_risky

CHUNK_ROWS = 5000
CENTER = Alignment(horizontal="center")
# A bare CR would come back as LF from any XML parser; a character reference keeps it.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


@dataclass
class Column:
    """One column of values; `number_format` styles numbers, `text` makes inline strings."""

    values: Sequence
    number_format: str | None = None
    text: bool = False
    centered: bool = False

    def style_key(self, quote: bool = False) -> tuple:
        return (self.number_format, self.centered, quote)


@dataclass
class PendingRows:
    sheet_index: int  # 1-based position of the sheet in the workbook (its part name)
    columns: list[Column]
    styles: dict[tuple, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.columns[0].values) if self.columns else 0


def style_id(ws: WriteOnlyWorksheet, number_format: str | None = None, centered: bool = False,
             quote: bool = False) -> int:
    """Register a cell style in the workbook and return its index (the `s` attribute)."""
    probe = WriteOnlyCell(ws, 0)
    if number_format:
        probe.number_format = number_format
    if centered:
        probe.alignment = CENTER
    if quote:
        probe.quotePrefix = True
    return probe.style_id


def defer_rows(ws: WriteOnlyWorksheet, columns: list[Column]) -> PendingRows:
    """Rows 2.. of `ws`, to be written when the file is saved (see `save_with_rows`)."""
    pending = PendingRows(sheet_index=ws.parent.worksheets.index(ws) + 1, columns=columns)
    for column in columns:
        for key in (column.style_key(), column.style_key(quote=True)) if column.text else (column.style_key(),):
            if key not in pending.styles:
                pending.styles[key] = style_id(ws, *key)
    return pending


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def _text_body(value: object, plain: str, quoted: str) -> str:
    """A text cell after its reference: style, type and the escaped text."""
    text = clean_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    style = quoted if is_risky(text) else plain
    return f'{style} t="inlineStr"><is><t{space}>{text.translate(_ESCAPES)}</t></is></c>'


def _is_blank(value: object) -> bool:
    return value is None or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value))


def _all_finite(values: Sequence) -> bool:
    """No None, NaN or infinity among the numbers (fsum checks them all in C)."""
    try:
        return math.isfinite(math.fsum(values))
    except (TypeError, ValueError, OverflowError):
        return False


def _cells(column: Column, letter: str, first_row: int, values: Sequence, pending: PendingRows) -> list[str]:
    style = _style(pending.styles[column.style_key()])
    if column.text:
        # Names, units and prizes repeat across rows: each distinct text is escaped once.
        quoted = _style(pending.styles[column.style_key(quote=True)])
        bodies = {v: _text_body(v, style, quoted) for v in set(values) if not _is_blank(v)}
        return [f'<c r="{letter}{r}"{bodies[v]}' if v in bodies else ""
                for r, v in enumerate(values, start=first_row)]
    if not _all_finite(values):
        return [f'<c r="{letter}{r}"{style}><v>{v}</v></c>' if not _is_blank(v) else ""
                for r, v in enumerate(values, start=first_row)]
    return [f'<c r="{letter}{r}"{style}><v>{v}</v></c>' for r, v in enumerate(values, start=first_row)]


def row_xml(pending: PendingRows) -> Iterator[str]:
    """The `<row>` elements, a chunk of rows per string."""
    letters = [get_column_letter(i) for i in range(1, len(pending.columns) + 1)]
    for start in range(0, pending.count, CHUNK_ROWS):
        first_row = start + 2
        columns = [_cells(col, letter, first_row, col.values[start:start + CHUNK_ROWS], pending)
                   for col, letter in zip(pending.columns, letters, strict=True)]
        yield "".join(f'<row r="{r}">{"".join(cells)}</row>'
                      for r, cells in enumerate(zip(*columns, strict=True), start=first_row))


def save_with_rows(source: IO[bytes], target: str | IO[bytes], pending: list[PendingRows]) -> None:
    """Copy the saved workbook `source` to `target`, inserting each sheet's deferred rows."""
    by_part = {f"xl/worksheets/sheet{p.sheet_index}.xml": p for p in pending}
    # Level 1 deflate: a third of the time of the default for a file a little larger.
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            rows = by_part.get(info.filename)
            if rows is None:
                with zin.open(info) as src, zout.open(info.filename, "w") as dst:
                    shutil.copyfileobj(src, dst)
                continue
            head, tail = zin.read(info).decode("utf-8").split("</sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as dst:
                dst.write(head.encode("utf-8"))
                for chunk in row_xml(rows):
                    dst.write(chunk.encode("utf-8"))
                dst.write(("</sheetData>" + tail).encode("utf-8"))
