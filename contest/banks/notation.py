"""How organizers write things in their sheets: header names, types, answers, option labels."""

from __future__ import annotations

import re
import unicodedata

LETTERS = "ABCDEFGH"
MAX_OPTIONS = 8


# What no cell or page should carry: control characters other than tab, LF and CR (XML, and so
# xlsx, cannot hold them: a bank's download failed), and lone surrogates (a JSON "\ud800", which
# no page can encode).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def fold(text: str) -> str:
    """Full-width → half-width (ＡＢ → AB, （ → (), upper case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


# ---- header names ----------------------------------------------------------------------

_HEADER_ALIASES = {
    "type": ("题型", "题目类型", "试题类型", "类型", "题类", "TYPE"),
    "stem": ("题目", "题干", "试题", "试题内容", "题目内容", "问题", "STEM", "QUESTION"),
    "answer": ("答案", "正确答案", "正确选项", "参考答案", "标准答案", "ANSWER"),
    "explanation": ("解析", "答案解析", "试题解析", "题目解析", "答案说明", "EXPLANATION"),
    "score": ("分值", "分数", "SCORE"),
    "difficulty": ("难度", "题目难度", "难易度", "难易程度", "DIFFICULTY"),
    "category": ("分类", "知识点", "章节", "类别", "题目分类", "CATEGORY"),
    "seq": ("序号", "题号", "编号", "试题编号"),
    "candidate": ("候选答案", "选项内容", "选项"),
    "is_right": ("是否正确", "是否正确答案", "正确与否"),
}
_HEADER_NAMES = {fold(alias): role for role, aliases in _HEADER_ALIASES.items() for alias in aliases}
_OPTION_HEADER = re.compile(r"^(?:选项)?([A-H])(?:选项|项)?$")
# An instruction written into the header cell: 答案（多选用英文逗号分隔，如：A,B）, 题目（必填）, *题目
_HEADER_NOTE = re.compile(r"\(.*?(?:\)|$)|\[.*?(?:\]|$)|【.*?(?:】|$)|[*:：]")


def header_role(cell: str) -> str | None:
    """What a header cell names: "stem", "answer", "option:A", … or None."""
    name = fold(_HEADER_NOTE.sub("", unicodedata.normalize("NFKC", cell)))
    if not name:
        return None
    if name in _HEADER_NAMES:
        return _HEADER_NAMES[name]
    option = _OPTION_HEADER.match(name)
    if option:
        return f"option:{option.group(1)}"
    return None


# ---- question types --------------------------------------------------------------------

_TYPES = {
    "单选": "single", "单项选择": "single", "单选择": "single", "单项": "single", "SINGLE": "single",
    "多选": "multiple", "多项选择": "multiple", "多选择": "multiple", "不定项": "multiple",
    "不定项选择": "multiple", "多项": "multiple", "MULTIPLE": "multiple",
    "判断": "judge", "是非": "judge", "对错": "judge", "JUDGE": "judge",
    "填空": "fill", "FILL": "fill",
}


def question_type(text: str) -> str | None:
    """单选 / 单选题 / 单项选择题 / single → "single"; None when not a type."""
    name = fold(text)
    if name.endswith("题"):
        name = name[:-1]
    return _TYPES.get(name)


def type_of_sheet(sheet_name: str) -> str | None:
    """A sheet named 单选题 (or 一、单选题, 单选题库) holds one type."""
    name = fold(sheet_name)
    for word, kind in _TYPES.items():
        if not word.isascii() and word in name:
            return kind
    return None


# ---- answers ---------------------------------------------------------------------------

_LETTER_SEPARATORS = re.compile(r"[\s,，、;；/|.。]+")


def choice_letters(text: str) -> list[str] | None:
    """ABC, A,C, A、C, A B C, ＡＢ, a c → sorted distinct letters; None when not letters."""
    letters = _LETTER_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not letters or any(ch not in LETTERS for ch in letters):
        return None
    return sorted(set(letters))


_JUDGE = {
    "正确": True, "对": True, "√": True, "✓": True, "✔": True, "T": True, "TRUE": True, "是": True,
    "Y": True, "YES": True, "A": True, "对的": True,
    "错误": False, "错": False, "×": False, "✗": False, "✘": False, "X": False, "F": False,
    "FALSE": False, "否": False, "N": False, "NO": False, "B": False, "错的": False,
}


def judge_answer(text: str) -> bool | None:
    """正确/错误, 对/错, √/×, ✓/✗, T/F, 是/否, A/B (A = 正确) → True/False; None otherwise."""
    return _JUDGE.get(fold(text).rstrip("。."))


_FILL_SEPARATORS = re.compile(r"[|｜;；]")


def fill_answers(text: str) -> list[str]:
    """上海|上海市 (or ; ；) → the accepted answers, in order, without repeats."""
    answers: list[str] = []
    for part in _FILL_SEPARATORS.split(text):
        part = part.strip()
        if part and part not in answers:
            answers.append(part)
    return answers


# ---- option cells ----------------------------------------------------------------------

def strip_option_label(text: str, letter: str) -> str:
    """Remove the option's own label written into its cell: `A.`, `A、`, `(A)`, `（A）`, `A:`."""
    letter = re.escape(letter)
    pattern = rf"^\s*(?:[(（]\s*{letter}\s*[)）]|{letter}\s*[.．、:：)）])\s*"
    return re.sub(pattern, "", text, count=1, flags=re.IGNORECASE)


def is_right_mark(text: str) -> bool | None:
    """The 是否正确 column of the long layout: 是/正确/√/1/Y → True, 否/错误/×/0/N/blank → False."""
    name = fold(text)
    if name in ("", "0"):
        return False
    if name == "1":
        return True
    return judge_answer(text)
