"""The loader reads the shapes organizers keep and names every fault by the row Excel shows."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from contest.banks import MAX_ROWS, BankFileError, build_template, read_bank, write_bank
from tests.bank_files import HEADER, csv_bytes, one_sheet, xlsx

SINGLE = ["单选", "中国共产党第一次全国代表大会在哪一年召开？", "1919", "1921", "1927", "1949", "B", "1921年7月", 2, "党史"]


def only(result):
    assert not result.faults, [str(f) for f in result.faults]
    assert len(result.questions) == 1
    return result.questions[0].canonical()


def faults_of(data: bytes, filename: str = "bank.xlsx") -> list[str]:
    return [str(fault) for fault in read_bank(data, filename).faults]


# ---- shapes ---------------------------------------------------------------------------

def test_canonical_question_from_the_plain_layout():
    question = only(read_bank(one_sheet([SINGLE]), "bank.xlsx"))
    assert question == {
        "type": "single", "stem": "中国共产党第一次全国代表大会在哪一年召开？",
        "options": ["1919", "1921", "1927", "1949"], "answer": ["B"], "explanation": "1921年7月",
        "score": 2, "category": "党史", "difficulty": "",
    }


def test_numbers_stay_the_text_excel_shows():
    row = ["单选", "建党于哪一年？", 1919, 1921.0, 1927, 1949, "B", None, None, None]
    question = only(read_bank(one_sheet([row]), "bank.xlsx"))
    assert question["options"] == ["1919", "1921", "1927", "1949"] and question["score"] == 1


def test_title_rows_merged_cells_and_header_instructions():
    header = ["题目类型", "试题内容（必填）", "A", "B", "C", "D", "正确答案（多选用英文逗号分隔，如：A,B）",
              "答案解析", "分数", "知识点", "题目难度"]
    rows = [["2026 年职工党史知识竞赛题库", None], [None], header,
            ["多选题", "下列属于“三大法宝”的是", "统一战线", "武装斗争", "党的建设", "土地革命", "A,B,C", "", 3, "党史", "中"]]
    result = read_bank(xlsx(("Sheet1", rows), merge_title=True), "bank.xlsx")
    question = only(result)
    assert question["type"] == "multiple" and question["answer"] == ["A", "B", "C"]
    assert question["score"] == 3 and question["category"] == "党史" and question["difficulty"] == "中"
    assert result.questions[0].row == 4


def test_one_sheet_per_type_without_a_type_column():
    header = ["题干", "选项A", "选项B", "选项C", "正确选项"]
    data = xlsx(
        ("填写说明", [["请按下面的格式填写"], ["第二行说明"]]),
        ("单选题", [header, ["一大的召开地点在", "北京", "上海", "广州", "B"]]),
        ("多选题", [header, ["下列正确的有", "甲", "乙", "丙", "AC"]]),
        ("判断题", [["题干", "答案"], ["遵义会议在1935年召开", "对"]]),
        ("填空题", [["题干", "参考答案"], ["中共一大在____召开", "上海|上海市"]]),
    )
    result = read_bank(data, "bank.xlsx")
    assert not result.faults
    assert [(q.type, q.answer) for q in result.questions] == [
        ("single", ["B"]), ("multiple", ["A", "C"]), ("judge", True), ("fill", ["上海", "上海市"])]


def test_option_labels_removed_blank_rows_and_instruction_row_skipped():
    rows = [
        ["必填：单选/多选/判断/填空", "必填：题目内容", "选填", None, None, None, "必填", None, None, None],
        [None] * 10,
        ["单选", "  题目一\n第二行  ", "A.甲", "B、乙", "(C)丙", "（D）丁", "a", None, None, None],
        ["单选", "题目二", "A. A股", "B: 乙", "C）丙", "D.丁", "Ｄ", None, None, None],
    ]
    result = read_bank(one_sheet(rows), "bank.xlsx")
    assert not result.faults
    first, second = result.questions
    assert first.stem == "题目一\n第二行" and first.options == ["甲", "乙", "丙", "丁"] and first.row == 4
    assert second.options == ["A股", "乙", "丙", "丁"] and second.answer == ["D"] and second.row == 5


@pytest.mark.parametrize("written", ["ABC", "A,C,B", "A、B、C", "A B C", "ＡＢＣ", "a,b,c", "A，B；C", "CBA"])
def test_multiple_choice_answer_notations(written):
    row = ["多选", "题", "甲", "乙", "丙", "丁", written, None, None, None]
    assert only(read_bank(one_sheet([row]), "bank.xlsx"))["answer"] == ["A", "B", "C"]


@pytest.mark.parametrize("written, verdict", [
    ("正确", True), ("错误", False), ("对", True), ("错", False), ("√", True), ("×", False),
    ("✓", True), ("✗", False), ("T", True), ("F", False), ("是", True), ("否", False),
    ("A", True), ("B", False), ("true", True),
])
def test_judge_answer_notations(written, verdict):
    row = ["判断题", "题", None, None, None, None, written, None, None, None]
    assert only(read_bank(one_sheet([row]), "bank.xlsx"))["answer"] is verdict


@pytest.mark.parametrize("written", ["上海|上海市", "上海;上海市", "上海；上海市", " 上海 | 上海市 |"])
def test_fill_answer_notations(written):
    row = ["填空题", "一大在____召开", None, None, None, None, written, None, None, None]
    assert only(read_bank(one_sheet([row]), "bank.xlsx"))["answer"] == ["上海", "上海市"]


@pytest.mark.parametrize("written, kind", [("单选题", "single"), ("单项选择题", "single"), ("多选题", "multiple"),
                                           ("不定项选择", "multiple"), ("判断题", "judge"), ("填空题", "fill")])
def test_type_names(written, kind):
    options = ["甲", "乙", None, None] if kind in ("single", "multiple") else [None] * 4
    answer = {"single": "A", "multiple": "AB", "judge": "对", "fill": "甲"}[kind]
    row = [written, "题", *options, answer, None, None, None]
    assert only(read_bank(one_sheet([row]), "bank.xlsx"))["type"] == kind


def test_long_layout_one_row_per_option():
    header = ["序号", "题型", "题目", "候选答案", "是否正确", "解析"]
    rows = [header,
            [1, "单选", "一大在哪一年召开？", "1919", "否", "1921年"],
            [1, None, None, "1921", "是", None],
            [1, None, None, "1927", "否", None],
            [2, "多选", "下列正确的有", "甲", "√", None],
            [2, None, None, "乙", None, None],
            [2, None, None, "丙", "√", None],
            [3, "判断", "遵义会议在1935年召开", "正确", "是", None],
            [3, None, None, "错误", "否", None]]
    result = read_bank(xlsx(("导出", rows)), "export.xlsx")
    assert not result.faults, [str(f) for f in result.faults]
    assert [(q.type, q.options, q.answer, q.row) for q in result.questions] == [
        ("single", ["1919", "1921", "1927"], ["B"], 2),
        ("multiple", ["甲", "乙", "丙"], ["A", "C"], 5),
        ("judge", [], True, 8)]


def test_gb18030_csv_and_utf8_bom_csv():
    rows = [SINGLE, ["判断", "“两个确立”，说法正确", "", "", "", "", "对", "", "", "党史"]]
    for encoding in ("gb18030", "utf-8-sig", "utf-8"):
        result = read_bank(csv_bytes(rows, encoding), "题库.csv")
        assert not result.faults, encoding
        assert [q.stem for q in result.questions][1] == "“两个确立”，说法正确"
        assert result.questions[1].row == 3


def test_csv_row_numbers_count_records_with_line_breaks():
    rows = [["单选", "第一行\n第二行", "甲", "乙", "", "", "A", "", "", ""],
            ["单选", "没有答案", "甲", "乙", "", "", "", "", "", ""]]
    assert faults_of(csv_bytes(rows), "a.csv") == ["第3行：答案为空"]


def test_json_of_canonical_questions_round_trips_through_xlsx():
    canonical = [
        {"type": "single", "stem": "题一", "options": ["甲", "乙"], "answer": ["B"], "explanation": "因为",
         "score": 2, "category": "党史", "difficulty": "易"},
        {"type": "judge", "stem": "题二", "options": [], "answer": False, "explanation": "", "score": 1,
         "category": "", "difficulty": ""},
        {"type": "fill", "stem": "题三", "options": [], "answer": ["上海", "上海市"], "explanation": "",
         "score": 1.5, "category": "", "difficulty": ""},
    ]
    from_json = read_bank(json.dumps(canonical, ensure_ascii=False).encode(), "bank.json")
    assert [q.canonical() for q in from_json.questions] == canonical
    again = read_bank(write_bank(from_json.questions, title="标题"), "bank.xlsx")
    assert [q.canonical() for q in again.questions] == canonical


def test_text_that_looks_like_a_formula_stays_text_in_a_written_bank():
    canonical = [{"type": "fill", "stem": "=1+1 等于几", "options": [], "answer": ["2"]}]
    written = write_bank(read_bank(json.dumps(canonical).encode(), "b.json").questions)
    assert read_bank(written, "b.xlsx").questions[0].stem == "=1+1 等于几"


def test_eight_options_and_risky_text_survive_a_written_bank():
    canonical = [{"type": "single", "stem": "=1+1 等于几", "options": list("甲乙丙丁戊己庚辛"), "answer": ["H"],
                  "explanation": "", "score": 1, "category": "", "difficulty": ""}]
    written = write_bank(read_bank(json.dumps(canonical).encode(), "b.json").questions, title='=HYPERLINK("http://x","y")')
    assert [q.canonical() for q in read_bank(written, "b.xlsx").questions] == canonical
    sheet = load_workbook(io.BytesIO(written)).active
    title, stem = sheet["A1"], sheet["B3"]
    assert (title.data_type, title.quotePrefix, stem.data_type, stem.quotePrefix) == ("s", True, "s", True)


def test_characters_no_cell_can_hold_are_dropped_on_import():
    body = [{"type": "fill", "stem": "题\u0001目\ud800", "options": [], "answer": ["上\u0007海"]}]
    question = only(read_bank(json.dumps(body).encode(), "b.json"))
    assert (question["stem"], question["answer"]) == ("题目", ["上海"])
    rows = [["填空", "一\x0b大", "", "", "", "", "上海", "", "", ""]]
    assert only(read_bank(csv_bytes(rows), "a.csv"))["stem"] == "一大"
    written = write_bank(read_bank(json.dumps(body).encode(), "b.json").questions)  # no IllegalCharacterError
    assert read_bank(written, "b.xlsx").questions[0].stem == "题目"


def test_more_than_eight_options_is_a_fault_in_every_layout():
    header = ["序号", "题型", "题目", "候选答案", "是否正确"]
    rows = [header, [1, "单选", "题一", "选项0", "是"]] + [[1, None, None, f"选项{i}", "否"] for i in range(1, 9)]
    assert faults_of(xlsx(("导出", rows)), "long.xlsx") == ["第2行：选择题最多 8 个选项，这里有 9 个"]
    body = [{"type": "single", "stem": "题", "options": [str(i) for i in range(9)], "answer": ["A"]}]
    assert faults_of(json.dumps(body).encode(), "b.json") == ["第1题：选择题最多 8 个选项，这里有 9 个"]


# ---- faults ---------------------------------------------------------------------------

@pytest.mark.parametrize("row, fault", [
    (["问答", "题", "甲", "乙", None, None, "A"], "第2行：题型「问答」无法识别，应为 单选、多选、判断 或 填空"),
    ([None, "题", "甲", "乙", None, None, "A"], "第2行：题型为空，应为 单选、多选、判断 或 填空"),
    (["单选", None, "甲", "乙", None, None, "A"], "第2行：题目为空"),
    (["单选", "题", "甲", "乙", None, None, None], "第2行：答案为空"),
    (["单选", "题", "甲", "乙", None, None, "D"], "第2行：答案中的 D 没有对应的选项"),
    (["单选", "题", "甲", "乙", "丙", None, "AB"], "第2行：单选题只能有一个答案，这里填了 AB（如是多选题，请把题型改为多选）"),
    (["多选", "题", "甲", "乙", None, None, "甲乙"], "第2行：答案「甲乙」无法识别，应为选项字母，如 A 或 A,C"),
    (["判断", "题", None, None, None, None, "不一定"],
     "第2行：判断题的答案「不一定」无法识别，应为 正确/错误（或 对/错、√/×、T/F、是/否、A/B）"),
    (["单选", "题", "甲", None, None, None, "A"], "第2行：选择题至少要有两个选项，这里只有 1 个"),
    (["单选", "题", "甲", None, "丙", None, "A"], "第2行：选项 B 为空，但后面还有选项"),
    (["单选", "题", "甲", "乙", None, None, "A", None, "很多"], "第2行：分值「很多」应为大于 0 的数"),
])
def test_each_fault_is_named_with_its_row(row, fault):
    assert fault in faults_of(one_sheet([row + [None] * (len(HEADER) - len(row))]))


def test_repeated_stem_in_the_file_and_every_fault_listed():
    rows = [SINGLE, ["判断", "题二", None, None, None, None, "对"], [*SINGLE[:1], " " + SINGLE[1] + " ", *SINGLE[2:]],
            ["单选", "题四", "甲", "乙", None, None, "C"]]
    result = read_bank(one_sheet([r + [None] * (len(HEADER) - len(r)) for r in rows]), "bank.xlsx")
    assert [str(f) for f in result.faults] == ["第4行：题目与第2行重复", "第5行：答案中的 C 没有对应的选项"]
    assert len(result.questions) == 2  # the good ones, shown in the preview; the file is still refused


def test_faults_on_several_sheets_name_the_sheet():
    header = ["题干", "选项A", "选项B", "答案"]
    data = xlsx(("单选题", [header, ["甲题", "甲", "乙", "A"]]), ("多选题", [header, ["乙题", "甲", "乙", "X"]]))
    assert faults_of(data) == ["「多选题」表第2行：答案「X」无法识别，应为选项字母，如 A 或 A,C"]


def test_json_faults_count_questions():
    body = [{"type": "single", "stem": "题", "options": ["甲"], "answer": ["A"]}, "不是题目"]
    assert faults_of(json.dumps(body).encode(), "b.json") == [
        "第1题：选择题至少要有两个选项，这里只有 1 个", "第2题：应为一个题目对象"]


# ---- whole-file refusals --------------------------------------------------------------

def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(BankFileError) as caught:
        read_bank(data, filename)
    return caught.value.message


def test_empty_and_non_spreadsheet_files_are_refused():
    assert refusal(b"", "a.xlsx") == "文件是空的。"
    assert "不是有效的 Excel" in refusal(b"PK\x03\x04 not really a zip", "a.xlsx")
    assert "旧版 Excel" in refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls")
    assert "不支持的文件类型" in refusal(b"%PDF-1.4", "a.pdf")
    assert "不是文本格式" in refusal(b"\x00\x01\x02binary", "a.csv")
    assert "只有表头" in refusal(build_template(), "题库导入模板.xlsx")
    assert "找不到表头" in refusal(xlsx(("Sheet1", [["姓名", "电话"], ["张三", "1"]])), "a.xlsx")
    assert "不是有效的 JSON" in refusal(b"{not json", "a.json")
    assert "不是有效的 JSON" in refusal(b"[" * 50000 + b"]" * 50000, "deep.json")  # past Python's stack


def test_oversized_files_are_refused():
    assert "超过 10 MB" in refusal(b"a" * (10 * 1024 * 1024 + 1), "a.csv")
    rows = [["判断", f"题{i}", "", "", "", "", "对", "", "", ""] for i in range(MAX_ROWS + 1)]
    assert f"超过 {MAX_ROWS} 行" in refusal(csv_bytes(rows), "a.csv")


def test_rows_past_the_scan_limit_are_refused_even_blank():
    from openpyxl import Workbook

    from contest.banks.tables import MAX_COLUMNS, SCANNED_PER_ROW

    scanned = SCANNED_PER_ROW * MAX_ROWS

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(SINGLE)
    sheet.cell(row=scanned + 1, column=MAX_COLUMNS + 1, value="远处的一格")  # no row with it counts
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert f"超过 {scanned} 行（含空行）" in refusal(buffer.getvalue(), "a.xlsx")


def test_a_csv_cell_past_the_field_limit_is_named_in_chinese():
    message = refusal(csv_bytes([["填空", "长" * 200_000, "", "", "", "", "上海", "", "", ""]]), "a.csv")
    assert message == "CSV 格式有误（第2行）：有单元格超过 128 KB，请用 Excel 打开后另存为 CSV 再上传。"


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_parsing():
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * (250 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert "压缩炸弹" in refusal(bomb, "bomb.xlsx")
    # Large but not air (rows of numbers compress as real sheets do): refused by its size, which
    # bounds the parse.
    cells = b'<c t="s"><v>3</v></c>' * 16
    rows = b"".join(b'<row r="%d">%s<c><v>%d</v></c></row>' % (i, cells, i * 7919 % 1000003) for i in range(190_000))
    big = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": rows})
    assert len(rows) > 64 * 1024 * 1024 and len(big) < 10 * 1024 * 1024
    assert "超过 64 MB 的上限" in refusal(big, "big.xlsx")


def test_xml_entity_tricks_are_refused():
    original = zipfile.ZipFile(io.BytesIO(one_sheet([SINGLE])))
    parts = {name: original.read(name) for name in original.namelist()}
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        + parts.get("xl/sharedStrings.xml", b"<sst/>").split(b"?>", 1)[-1]
    )
    assert "XML 实体" in refusal(_zip(parts), "evil.xlsx")
