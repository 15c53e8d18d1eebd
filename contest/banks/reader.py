"""A bank file (xlsx, csv or json) → canonical questions and every fault, named by its row.

Reads the shapes organizers really keep: title rows above the header, header variants
with instructions in them, one sheet per type, labelled option cells, the long layout
(one row per option, sharing a 序号), and an instruction row under the header.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath

from contest.banks import notation
from contest.banks.questions import CanonicalQuestion, Fault, LoadResult
from contest.banks.tables import MAX_BYTES, MAX_ROWS, Progress, Sheet, TableFileError, read_tables

HEADER_SEARCH_ROWS = 20
MAX_STEM = 2000
MAX_OPTION = 500
MAX_SCORE = 1000
_INSTRUCTION_WORDS = ("必填", "选填", "填写说明", "说明：", "说明:", "注：", "注:", "请填写", "请输入", "示例：")


class BankFileError(TableFileError):
    """The whole file is refused (empty, not a spreadsheet, too big, unsafe, no header)."""


def read_bank(data: bytes, filename: str, progress: Progress | None = None) -> LoadResult:
    """Read every question of a bank file; faults are collected, never half-returned as good."""
    if PurePath(filename or "").suffix.lower() == ".json":
        return _read_json(data)
    try:
        sheets = read_tables(data, filename, progress)
    except TableFileError as error:
        raise BankFileError(error.message) from None
    result = LoadResult()
    found_header = False
    named = sum(1 for sheet in sheets if _find_header(sheet) is not None) > 1
    for sheet in sheets:
        header = _find_header(sheet)
        if header is None:
            continue  # an instructions sheet, a cover page
        found_header = True
        _read_sheet(sheet, header, result, sheet.name if named else "")
    if not found_header:
        raise BankFileError("找不到表头：没有一张表在前 20 行里有「题目」（或题干、试题）列。请使用题库导入模板。")
    _mark_repeats(result)
    if not result.rows:
        raise BankFileError("文件中没有题目（只有表头）。")
    return result


# ---- sheets ----------------------------------------------------------------------------

def _find_header(sheet: Sheet) -> tuple[int, dict[int, str]] | None:
    """The index of the header row and the role of each of its columns."""
    for index, (_number, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        roles: dict[int, str] = {}
        for column, cell in enumerate(cells):
            role = notation.header_role(cell) if cell else None
            if role and role not in roles.values():
                roles[column] = role
        if "stem" in roles.values() and len(roles) >= 2:
            return index, roles
    return None


def _read_sheet(sheet: Sheet, header: tuple[int, dict[int, str]], result: LoadResult, sheet_label: str) -> None:
    index, roles = header
    rows = sheet.rows[index + 1:]
    if rows and _is_instruction(rows[0][1]):
        rows = rows[1:]
    sheet_type = notation.type_of_sheet(sheet.name)
    if "candidate" in roles.values() and "is_right" in roles.values():
        groups = _long_layout_groups(rows, roles)
    else:
        groups = [(number, _fields(cells, roles)) for number, cells in rows]
    for number, fields in groups:
        question, problems = build_question(fields, sheet_type)
        if question is not None:
            question.row = number
        faults = [Fault(number, problem, sheet_label) for problem in problems]
        result.rows.append({"row": number, "sheet": sheet_label, "question": question, "faults": faults,
                            "stem": fields.get("stem", "")})
        result.faults.extend(faults)
        if question is not None and not faults:
            result.questions.append(question)


def _is_instruction(cells: list[str]) -> bool:
    if any(notation.question_type(cell) for cell in cells[:3] if cell):
        return False
    return any(word in cell for cell in cells for word in _INSTRUCTION_WORDS)


def _fields(cells: list[str], roles: dict[int, str]) -> dict:
    fields: dict = {"options": []}
    for column, role in roles.items():
        value = cells[column] if column < len(cells) else ""
        if role.startswith("option:"):
            fields["options"].append((role[-1], value))
        else:
            fields[role] = value
    fields["options"].sort()
    return fields


def _long_layout_groups(rows: list[tuple[int, list[str]]], roles: dict[int, str]) -> list[tuple[int, dict]]:
    """One row per option: rows sharing a 序号 (or following a row with a stem) are one question."""
    groups: list[tuple[int, dict]] = []
    current_seq = None
    for number, cells in rows:
        fields = _fields(cells, roles)
        seq = fields.get("seq", "")
        starts = (seq and seq != current_seq) or (not seq and fields.get("stem")) or not groups
        if starts:
            current_seq = seq
            fields["long_options"] = []
            groups.append((number, fields))
        question = groups[-1][1]
        candidate = fields.get("candidate", "")
        if candidate:
            question["long_options"].append((candidate, fields.get("is_right", "")))
    for _number, fields in groups:
        options, right = [], []
        for position, (text, mark) in enumerate(fields.pop("long_options")):
            letter = _letter(position)
            options.append((letter, text))
            if notation.is_right_mark(mark):
                right.append(letter)
        fields["options"] = options
        if not fields.get("answer"):
            fields["answer"] = ",".join(right)
            fields["long_layout"] = True
    return groups


# ---- one question ----------------------------------------------------------------------

def _letter(position: int) -> str:
    """The option's letter; past H, a mark no label matches (build_question refuses so many)."""
    return notation.LETTERS[position] if position < len(notation.LETTERS) else "?"


def build_question(fields: dict, sheet_type: str | None = None) -> tuple[CanonicalQuestion | None, list[str]]:
    """Fields as text → a canonical question, or the reasons it is not one (in Chinese)."""
    problems: list[str] = []
    fields = {name: notation.printable(value) if isinstance(value, str) else value for name, value in fields.items()}
    fields["options"] = [(letter, notation.printable(text)) for letter, text in fields.get("options", [])]
    kind = _type(fields.get("type", ""), sheet_type, problems)
    stem = fields.get("stem", "")
    if not stem:
        problems.append("题目为空")
    elif len(stem) > MAX_STEM:
        problems.append(f"题目超过 {MAX_STEM} 字")
    options = _options(fields.get("options", []), problems) if kind in ("single", "multiple") else []
    answer = parse_answer(kind, fields.get("answer", ""), options, problems, fields)
    score = _score(fields.get("score", ""), problems)
    if problems or kind is None or answer is None:
        return None, problems or ["无法识别这一行"]
    return CanonicalQuestion(
        type=kind, stem=stem, options=options, answer=answer,
        explanation=fields.get("explanation", ""), score=score,
        category=fields.get("category", "")[:100], difficulty=fields.get("difficulty", "")[:20],
    ), []


def _type(text: str, sheet_type: str | None, problems: list[str]) -> str | None:
    if text:
        kind = notation.question_type(text)
        if kind is None:
            problems.append(f"题型「{text}」无法识别，应为 单选、多选、判断 或 填空")
        return kind
    if sheet_type:
        return sheet_type
    problems.append("题型为空，应为 单选、多选、判断 或 填空")
    return None


def _options(cells: list[tuple[str, str]], problems: list[str]) -> list[str]:
    options = [notation.strip_option_label(text, letter) for letter, text in cells]
    while options and not options[-1]:
        options.pop()
    for letter, text in zip(notation.LETTERS, options, strict=False):
        if not text:
            problems.append(f"选项 {letter} 为空，但后面还有选项")
        elif len(text) > MAX_OPTION:
            problems.append(f"选项 {letter} 超过 {MAX_OPTION} 字")
    if len(options) < 2:
        problems.append(f"选择题至少要有两个选项，这里只有 {len(options)} 个")
    elif len(options) > notation.MAX_OPTIONS:
        problems.append(f"选择题最多 {notation.MAX_OPTIONS} 个选项，这里有 {len(options)} 个")
    return options


def parse_answer(kind: str | None, text: str, options: list[str], problems: list[str], fields: dict | None = None):
    """The canonical key of a question of type `kind` from its answer cell, or None; each fault
    is added to `problems` in the organizer's words (also for a key corrected later)."""
    fields = fields or {}
    if not text:
        problems.append("答案为空" if not fields.get("long_layout") else "没有标为正确的候选答案")
        return None
    if kind in ("single", "multiple"):
        letters = notation.choice_letters(text)
        if letters is None:
            problems.append(f"答案「{text}」无法识别，应为选项字母，如 A 或 A,C")
            return None
        missing = [letter for letter in letters if notation.LETTERS.index(letter) >= len(options)]
        if missing:
            problems.append(f"答案中的 {'、'.join(missing)} 没有对应的选项")
        if kind == "single" and len(letters) > 1:
            problems.append(f"单选题只能有一个答案，这里填了 {''.join(letters)}（如是多选题，请把题型改为多选）")
        return letters
    if kind == "judge":
        if fields.get("long_layout"):
            text = _long_judge(fields)
        verdict = notation.judge_answer(text)
        if verdict is None:
            problems.append(f"判断题的答案「{text}」无法识别，应为 正确/错误（或 对/错、√/×、T/F、是/否、A/B）")
        return verdict
    if kind == "fill":
        if fields.get("long_layout"):
            return [option for letter, option in fields["options"] if letter in text.split(",")] or None
        answers = notation.fill_answers(text)
        if not answers:
            problems.append("填空题的答案为空")
            return None
        return answers
    return None


def _long_judge(fields: dict) -> str:
    """Long layout judge: the text of the option marked right (正确 / 错误)."""
    letters = fields.get("answer", "").split(",")
    chosen = [option for letter, option in fields["options"] if letter in letters]
    return chosen[0] if len(chosen) == 1 else fields.get("answer", "")


def _score(text: str, problems: list[str]) -> float:
    if not text:
        return 1.0
    try:
        score = float(text.replace("分", "").strip())
    except ValueError:
        score = math.nan
    if not (0 < score <= MAX_SCORE):  # also catches nan and inf
        problems.append(f"分值「{text}」应为大于 0 的数")
        return 1.0
    return score


def _mark_repeats(result: LoadResult, unit: str = "行") -> None:
    """A stem that appears twice in the file is a fault on the later row."""
    seen: dict[str, dict] = {}
    for row in result.rows:
        question = row["question"]
        if question is None:
            continue
        first = seen.setdefault(question.stem_key, row)
        if first is not row:
            where = f"「{first['sheet']}」表" if first["sheet"] != row["sheet"] else ""
            fault = Fault(row["row"], f"题目与{where}第{first['row']}{unit}重复", row["sheet"], unit)
            row["faults"].append(fault)
    result.faults = [fault for row in result.rows for fault in row["faults"]]  # in row order
    result.questions = [row["question"] for row in result.rows if row["question"] is not None and not row["faults"]]


# ---- json ------------------------------------------------------------------------------

def _read_json(data: bytes) -> LoadResult:
    if len(data) > MAX_BYTES:
        raise BankFileError(f"文件有 {len(data) / 1024 / 1024:.1f} MB，超过 10 MB 的上限，请拆分后再上传。")
    try:
        body = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[…]]] nested past Python's stack
        raise BankFileError("文件不是有效的 JSON（UTF-8）。") from None
    items = body.get("questions") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise BankFileError("JSON 应为题目的列表，或含 \"questions\" 列表的对象。")
    if not items:
        raise BankFileError("文件中没有题目。")
    if len(items) > MAX_ROWS:
        raise BankFileError(f"文件超过 {MAX_ROWS} 道题的上限，请拆分后再上传。")
    result = LoadResult()
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            question, problems = None, ["应为一个题目对象"]
            fields = {}
        else:
            fields = _json_fields(item)
            question, problems = build_question(fields)
        if question is not None:
            question.row = number
        faults = [Fault(number, problem, unit="题") for problem in problems]
        result.rows.append({"row": number, "sheet": "", "question": question, "faults": faults,
                            "stem": fields.get("stem", "")})
        result.faults.extend(faults)
    _mark_repeats(result, unit="题")
    return result


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _json_fields(item: dict) -> dict:
    answer = item.get("answer")
    kind = notation.question_type(_text(item.get("type")))
    if isinstance(answer, bool):
        answer_text = "正确" if answer else "错误"
    elif isinstance(answer, list):
        answer_text = ("|" if kind == "fill" else ",").join(_text(part) for part in answer)
    else:
        answer_text = _text(answer)
    options = item.get("options") or []
    if not isinstance(options, list):
        options = []
    return {
        "type": _text(item.get("type")),
        "stem": _text(item.get("stem")),
        "options": [(_letter(i), _text(text)) for i, text in enumerate(options)],
        "answer": answer_text,
        "explanation": _text(item.get("explanation")),
        "score": _text(item.get("score")),
        "category": _text(item.get("category")),
        "difficulty": _text(item.get("difficulty")),
    }
