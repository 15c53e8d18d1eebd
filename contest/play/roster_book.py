"""Roster workbooks: the organizer's blank template and the current roster, both in the shape read_roster reads."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from contest.reports.safe_cells import text_cell, write_text

HEADER = ("姓名", "手机号", "单位")
WIDTHS = ("A", 12), ("B", 16), ("C", 30)
TEMPLATE_NAME = "参赛名单模板.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FILL = PatternFill("solid", fgColor="C00000")


def build_roster_template(unit_names: list[str]) -> bytes:
    """A header row, phones as text, and the unit names on a second sheet with a picker in 单位."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    _header(sheet)
    sheet.column_dimensions["B"].number_format = "@"  # phones as text: Excel would show 1.38E+10
    if unit_names:
        # The names must match the unit list exactly; picking them avoids typing faults.
        units = workbook.create_sheet("单位列表")
        units.append(["单位名称（名单中的「单位」须与此一致）"])
        units.column_dimensions["A"].width = 40
        for row, name in enumerate(unit_names, 2):  # a unit named =… stays text
            write_text(units.cell(row=row, column=1), name)
        picker = DataValidation(type="list", formula1=f"'单位列表'!$A$2:$A${len(unit_names) + 1}",
                                allow_blank=True, showErrorMessage=True, errorTitle="单位不在列表中",
                                error="请从「单位列表」中选择单位。")
        picker.add("C2:C1048576")
        sheet.add_data_validation(picker)
    return _save(workbook)


def write_roster(people: Iterable[tuple[str, str, str]]) -> bytes:
    """The current roster (姓名, 手机号, 单位), re-importable as it is; no text becomes a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    for column, width in WIDTHS:
        sheet.column_dimensions[column].width = width
    sheet.append(list(HEADER))
    for person in people:
        sheet.append([text_cell(sheet, value) for value in person])
    return _save(workbook)


def _header(sheet) -> None:
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
    for column, width in WIDTHS:
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
