"""Structural check of the sample bank (党史知识题库.json) and the sample units (示例单位.csv).

Run: python question_banks/check_sample.py
It prints the counts by type and category and exits 1 if any rule is broken. The facts
themselves were checked by hand; this script guards the shape an import relies on.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
BANK_PATH = HERE / "党史知识题库.json"
UNITS_PATH = HERE / "示例单位.csv"

FIELDS = ("type", "stem", "options", "answer", "explanation", "score", "category", "difficulty")
SCORES = {"single": 1, "multiple": 2, "judge": 1, "fill": 2}
# The brief asked for about 110/40/45/25; the ranges leave room for later edits.
EXPECTED_COUNTS = {"single": (100, 130), "multiple": (35, 50), "judge": (40, 55), "fill": (20, 30)}
MIN_TOTAL = 220
CATEGORIES = {"建党时期", "新民主主义革命", "社会主义革命和建设", "改革开放", "新时代", "党的建设", "工会与工人运动"}
LABOUR = "工会与工人运动"
MIN_LABOUR_SHARE = 0.15
DIFFICULTIES = {"易", "中", "难"}
# An option must be plain text: "A. 上海" or "B、北京" would show the label twice.
LABELLED = re.compile(r"^\s*[A-Ha-h]\s*[.．、:：)）]")
UNIT_HEADER = ["单位名称", "职工人数", "上级单位"]


def _check_choice(where: str, q: dict, faults: list[str]) -> None:
    options, answer, kind = q["options"], q["answer"], q["type"]
    if kind == "single" and len(options) != 4:
        faults.append(f"{where}: 单选题应有4个选项，实有{len(options)}个")
    if kind == "multiple" and not 4 <= len(options) <= 5:
        faults.append(f"{where}: 多选题应有4至5个选项，实有{len(options)}个")
    for opt in options:
        if not isinstance(opt, str) or not opt.strip():
            faults.append(f"{where}: 选项不能为空")
        elif LABELLED.match(opt):
            faults.append(f"{where}: 选项“{opt}”带有字母编号")
    if len(set(options)) != len(options):
        faults.append(f"{where}: 选项有重复")
    if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
        faults.append(f"{where}: 答案应是字母列表")
        return
    letters = [chr(ord("A") + i) for i in range(len(options))]
    if any(a not in letters for a in answer):
        faults.append(f"{where}: 答案{answer}超出选项范围{letters[0]}-{letters[-1]}")
    if len(set(answer)) != len(answer) or answer != sorted(answer):
        faults.append(f"{where}: 答案字母应不重复且按顺序排列")
    if kind == "single" and len(answer) != 1:
        faults.append(f"{where}: 单选题应恰有1个答案，实有{len(answer)}个")
    if kind == "multiple" and not 2 <= len(answer) <= 4:
        faults.append(f"{where}: 多选题应有2至4个正确答案，实有{len(answer)}个")


def _check_question(where: str, q: object, faults: list[str]) -> None:
    if not isinstance(q, dict):
        faults.append(f"{where}: 应是一个对象")
        return
    missing = [f for f in FIELDS if f not in q]
    if missing:
        faults.append(f"{where}: 缺少字段 {', '.join(missing)}")
        return
    kind = q["type"]
    if kind not in SCORES:
        faults.append(f"{where}: 题型“{kind}”无效")
        return
    for field in ("stem", "explanation"):
        if not isinstance(q[field], str) or not q[field].strip():
            faults.append(f"{where}: {field} 不能为空")
    if q["score"] != SCORES[kind]:
        faults.append(f"{where}: {kind} 题分值应为{SCORES[kind]}，实为{q['score']}")
    if q["category"] not in CATEGORIES:
        faults.append(f"{where}: 分类“{q['category']}”不在约定分类中")
    if q["difficulty"] not in DIFFICULTIES:
        faults.append(f"{where}: 难度“{q['difficulty']}”应为易、中或难")
    if not isinstance(q["options"], list):
        faults.append(f"{where}: options 应是列表")
        return
    if kind in ("single", "multiple"):
        _check_choice(where, q, faults)
    elif q["options"]:
        faults.append(f"{where}: {kind} 题不应有选项")
    elif kind == "judge" and not isinstance(q["answer"], bool):
        faults.append(f"{where}: 判断题答案应为 true 或 false")
    elif kind == "fill":
        answer = q["answer"]
        if (
            not isinstance(answer, list)
            or not answer
            or not all(isinstance(a, str) and a.strip() for a in answer)
        ):
            faults.append(f"{where}: 填空题答案应是非空的文字列表")
        elif len(set(answer)) != len(answer):
            faults.append(f"{where}: 填空题的可接受答案有重复")


def check_bank(questions: object, *, full_bank: bool = True) -> list[str]:
    """Every structural fault in a list of canonical questions, as Chinese sentences naming 第N题.

    full_bank=False checks each question and the unique stems only, not the counts a
    complete sample bank must reach (handy for checking a few questions)."""
    if not isinstance(questions, list):
        return ["题库应是一个 JSON 数组"]
    faults: list[str] = []
    seen: dict[str, int] = {}
    for n, q in enumerate(questions, start=1):
        where = f"第{n}题"
        _check_question(where, q, faults)
        stem = q.get("stem") if isinstance(q, dict) else None
        if isinstance(stem, str) and stem.strip():
            key = re.sub(r"\s+", "", stem)
            if key in seen:
                faults.append(f"{where}: 题干与第{seen[key]}题重复")
            else:
                seen[key] = n
    if not full_bank:
        return faults
    by_type = Counter(q.get("type") for q in questions if isinstance(q, dict))
    if len(questions) < MIN_TOTAL:
        faults.append(f"题库共{len(questions)}题，少于{MIN_TOTAL}题")
    for kind, (low, high) in EXPECTED_COUNTS.items():
        if not low <= by_type[kind] <= high:
            faults.append(f"{kind} 题共{by_type[kind]}道，应在{low}至{high}道之间")
    by_category = Counter(q.get("category") for q in questions if isinstance(q, dict))
    missing = sorted(CATEGORIES - set(by_category))
    if missing:
        faults.append(f"缺少分类：{'、'.join(missing)}")
    if questions and by_category[LABOUR] / len(questions) < MIN_LABOUR_SHARE:
        faults.append(f"“{LABOUR}”题目占比不足{MIN_LABOUR_SHARE:.0%}")
    return faults


def check_units(rows: list[list[str]]) -> list[str]:
    """Faults in the sample units CSV, read as rows (the header first), naming 第N行."""
    if not rows or rows[0] != UNIT_HEADER:
        return [f"第1行: 表头应为 {','.join(UNIT_HEADER)}"]
    faults: list[str] = []
    names: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != 3 or not all(cell.strip() for cell in row):
            faults.append(f"第{n}行: 应有单位名称、职工人数、上级单位三列且都不为空")
            continue
        name, headcount, _parent = row
        if name in names:
            faults.append(f"第{n}行: 单位“{name}”重复")
        names.add(name)
        if not headcount.isdigit() or not 40 <= int(headcount) <= 2000:
            faults.append(f"第{n}行: 职工人数“{headcount}”应为40至2000之间的整数")
    if len(rows) - 1 != 36:
        faults.append(f"示例单位应有36个，实有{len(rows) - 1}个")
    return faults


def load_bank(path: Path = BANK_PATH) -> list:
    return json.loads(path.read_text(encoding="utf-8"))


def load_units(path: Path = UNITS_PATH) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def main() -> int:
    questions = load_bank()
    faults = check_bank(questions) + check_units(load_units())
    print(f"题目总数：{len(questions)}")
    print("按题型：", dict(Counter(q["type"] for q in questions)))
    print("按分类：", dict(Counter(q["category"] for q in questions)))
    print("按难度：", dict(Counter(q["difficulty"] for q in questions)))
    for fault in faults:
        print(fault, file=sys.stderr)
    print("结构检查通过" if not faults else f"发现{len(faults)}处问题")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
