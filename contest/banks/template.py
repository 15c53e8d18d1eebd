"""The organizer's blank template (题库导入模板.xlsx), and a bank written back in the same shape."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from contest.banks.notation import MAX_OPTIONS
from contest.banks.questions import CanonicalQuestion
from contest.reports.safe_cells import write_text

# (header, width, what the instruction row under it says)
TEMPLATE_COLUMNS = [
    ("题型", 9, "必填：单选/多选/判断/填空"),
    ("题目（必填）", 48, "必填：题目内容，单元格内可换行"),
    ("选项A", 18, "选择题必填，至少两项"),
    ("选项B", 18, "选填"),
    ("选项C", 18, "选填"),
    ("选项D", 18, "选填"),
    ("选项E", 14, "选填"),
    ("选项F", 14, "选填"),
    ("选项G", 14, "选填"),
    ("选项H", 14, "选填"),
    ("答案（多选用英文逗号分隔，如：A,B）", 22, "必填：单选 A；多选 A,C；判断 正确/错误；填空 多个答案用 | 分隔"),
    ("解析", 36, "选填：提交后给答题者看"),
    ("分值", 7, "选填，默认 1"),
    ("难度", 7, "选填：易/中/难"),
    ("分类", 12, "选填：如 党史、工会知识"),
]

NOTES = [
    "题库导入模板 · 填写说明",
    "1. 在「题库」表第 3 行起每行填写一道题；第 2 行是说明，导入时会自动跳过，可以保留。",
    "2. 题型：单选、多选、判断、填空（写“单选题”“多选题”也可以）。",
    "3. 选项：选择题至少两个选项，最多八个；选项里写上“A.”“A、”“(A)”也可以，导入时会去掉。",
    "4. 答案：单选填一个字母，如 B；多选填多个字母，如 ABC、A,C、A、C 都可以（全角字母也可以）。",
    "5. 判断题答案：正确/错误、对/错、√/×、T/F、是/否 都可以；写 A/B 时 A 表示正确。",
    "6. 填空题答案：有多个可接受的答案时用 | 或 ； 分隔，如：上海|上海市。",
    "7. 分值不填时每题 1 分；难度、分类选填，分类可用于按类别组卷。",
    "8. 同一题库中题目不能重复；文件有任何一行有误时整个文件都不会导入，请按提示的行号修改后重新上传。",
    "9. 文件不超过 10 MB、20000 行。也可以上传 CSV（UTF-8 或 GB18030 编码）。",
]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FILL = PatternFill("solid", fgColor="C00000")
_NOTE_FILL = PatternFill("solid", fgColor="FFF2CC")


def build_template() -> bytes:
    """The blank template: a header, an instruction row the loader skips, and a notes sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    _header(sheet, 1)
    for column, (_name, _width, note) in enumerate(TEMPLATE_COLUMNS, 1):
        cell = sheet.cell(row=2, column=column, value=note)
        cell.fill = _NOTE_FILL
        cell.font = Font(color="7F6000", size=9)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"
    types = DataValidation(type="list", formula1='"单选,多选,判断,填空"', allow_blank=True,
                           error="题型应为 单选、多选、判断 或 填空", showErrorMessage=True)
    sheet.add_data_validation(types)
    types.add("A3:A20000")
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 110
    for row, line in enumerate(NOTES, 1):
        notes.cell(row=row, column=1, value=line).font = Font(bold=row == 1, size=12 if row == 1 else 11)
    return _save(workbook)


def write_bank(questions: Iterable[CanonicalQuestion | dict], title: str | None = None) -> bytes:
    """Questions in the template's columns (with a merged title row when given): a bank's own xlsx."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    first = 1
    if title:
        write_text(sheet.cell(row=1, column=1), title)
        sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TEMPLATE_COLUMNS))
        first = 2
    _header(sheet, first)
    sheet.freeze_panes = f"A{first + 1}"
    names = {"single": "单选", "multiple": "多选", "judge": "判断", "fill": "填空"}
    for row, question in enumerate(questions, first + 1):
        q = question.canonical() if isinstance(question, CanonicalQuestion) else question
        if q["type"] == "judge":
            answer = "正确" if q["answer"] else "错误"
        elif q["type"] == "fill":
            answer = "|".join(q["answer"])
        else:
            answer = ",".join(q["answer"])
        options = list(q.get("options") or []) + [""] * MAX_OPTIONS
        values = [names[q["type"]], q["stem"], *options[:MAX_OPTIONS], answer, q.get("explanation", ""),
                  q.get("score", 1), q.get("difficulty", ""), q.get("category", "")]
        for column, value in enumerate(values, 1):
            if isinstance(value, str):
                if value:  # never a formula, whatever the text starts with, even once edited
                    write_text(sheet.cell(row=row, column=column), value)
            else:
                sheet.cell(row=row, column=column, value=value)
        sheet.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    return _save(workbook)


def _header(sheet, row: int) -> None:
    for column, (name, width, _note) in enumerate(TEMPLATE_COLUMNS, 1):
        cell = sheet.cell(row=row, column=column, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.row_dimensions[row].height = 32


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
