"""The committed sample bank and units pass the structural checks of question_banks/check_sample.py,
and those checks do catch the faults they are meant to catch."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "question_banks" / "check_sample.py"


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_sample", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


@pytest.fixture(scope="module")
def bank() -> list[dict]:
    return checker.load_bank()


def test_committed_bank_has_no_structural_fault(bank):
    assert checker.check_bank(bank) == []


def test_committed_units_have_no_fault():
    assert checker.check_units(checker.load_units()) == []


def test_single_answers_are_spread_over_the_letters(bank):
    # A key that is always "A" would give the answer away wherever options are not shuffled.
    letters = [q["answer"][0] for q in bank if q["type"] == "single"]
    for letter in "ABCD":
        assert letters.count(letter) >= len(letters) // 8, letter


def _first(bank: list[dict], kind: str) -> dict:
    return copy.deepcopy(next(q for q in bank if q["type"] == kind))


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("single", {"answer": ["E"]}, "超出选项范围"),
        ("single", {"answer": ["A", "B"]}, "单选题应恰有1个答案"),
        ("single", {"options": ["A. 上海", "北京", "广州", "武汉"]}, "带有字母编号"),
        ("multiple", {"answer": ["A"]}, "多选题应有2至4个正确答案"),
        ("judge", {"answer": "对"}, "判断题答案应为"),
        ("judge", {"options": ["对", "错"]}, "不应有选项"),
        ("fill", {"answer": []}, "填空题答案应是非空的文字列表"),
        ("fill", {"explanation": " "}, "explanation 不能为空"),
        ("fill", {"score": 1}, "分值应为2"),
        ("single", {"difficulty": "较难"}, "难度"),
    ],
)
def test_a_broken_question_is_named(bank, kind, change, expected):
    question = _first(bank, kind)
    question.update(change)
    faults = checker.check_bank([question], full_bank=False)
    assert faults and faults[0].startswith("第1题") and expected in faults[0], faults


def test_a_missing_field_and_a_repeated_stem_are_named(bank):
    first, second = _first(bank, "single"), _first(bank, "single")
    del second["category"]
    assert "缺少字段 category" in checker.check_bank([first, second], full_bank=False)[0]
    faults = checker.check_bank([first, _first(bank, "single")], full_bank=False)
    assert faults == ["第2题: 题干与第1题重复"]


def test_counts_below_the_brief_are_refused(bank):
    faults = checker.check_bank([q for q in bank if q["type"] != "fill"])
    assert any("少于220题" in f for f in faults)
    assert any(f.startswith("fill 题共0道") for f in faults)


def test_a_unit_row_out_of_range_is_named():
    rows = checker.load_units()
    rows[3] = [rows[3][0], "12", rows[3][2]]
    assert checker.check_units(rows) == ["第4行: 职工人数“12”应为40至2000之间的整数"]
