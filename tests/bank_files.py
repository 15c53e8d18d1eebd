"""Bank files as organizers make them, built in memory for the loader tests."""

from __future__ import annotations

import io

from openpyxl import Workbook

HEADER = ["题型", "题目", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "分值", "分类"]


def xlsx(*sheets: tuple[str, list[list]], merge_title: bool = False) -> bytes:
    """Sheets of rows (None for an empty cell) → xlsx bytes; a merged title above the first."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if merge_title:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def one_sheet(rows: list[list], header: list[str] = HEADER) -> bytes:
    return xlsx(("题库", [header, *rows]))


def csv_bytes(rows: list[list], encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    lines = [",".join(f'"{cell}"' if ("," in str(cell) or "\n" in str(cell)) else str(cell) for cell in row)
             for row in [header, *rows]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
