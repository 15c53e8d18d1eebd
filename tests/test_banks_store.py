"""Storing banks is all or nothing; the CLI per API.md; units and rosters."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from contest.banks import (
    BankRefused,
    bank_summaries,
    check_against_bank,
    read_bank,
    read_units,
    store_bank,
)
from contest.cli import main
from contest.config import PROJECT_ROOT
from contest.models import Bank, Contest, Question, RosterEntry, Unit
from tests.bank_files import csv_bytes, one_sheet
from tests.play_support import make_bank, make_contest

SAMPLE_BANK_XLSX = PROJECT_ROOT / "question_banks" / "党史知识题库.xlsx"
SAMPLE_UNITS = PROJECT_ROOT / "question_banks" / "示例单位.csv"
TEMPLATE_XLSX = PROJECT_ROOT / "question_banks" / "题库导入模板.xlsx"
GOOD = [["单选", "一大在哪一年召开？", "1919", "1921", "", "", "B", "", "", ""],
        ["判断", "遵义会议在1935年召开", "", "", "", "", "对", "", "", ""]]


def _count(session, model) -> int:
    session.rollback()  # a fresh snapshot: the CLI wrote through its own connection
    return session.scalar(select(func.count()).select_from(model))


def test_store_a_bank_and_add_to_it_without_repeating_a_stem(rt):
    bank = store_bank(rt.session, read_bank(one_sheet(GOOD), "a.xlsx"), "党史", source_file="a.xlsx")
    stored = rt.session.scalars(select(Question).order_by(Question.id)).all()
    assert [(q.type, q.answer, q.source_row) for q in stored] == [("single", ["B"], 2), ("judge", True, 3)]
    more = [GOOD[1], ["填空", "一大在____召开", "", "", "", "", "上海|上海市", "", "", ""]]
    checked = check_against_bank(rt.session, read_bank(one_sheet(more), "b.xlsx"), bank.id)
    assert [str(f) for f in checked.faults] == ["第2行：题目在这个题库中已经存在"]
    with pytest.raises(BankRefused):
        store_bank(rt.session, read_bank(one_sheet(more), "b.xlsx"), "党史", bank_id=bank.id)
    assert _count(rt.session, Question) == 2
    store_bank(rt.session, read_bank(one_sheet(more[1:]), "c.xlsx"), "党史", bank_id=bank.id)
    assert bank_summaries(rt.session)[0]["by_type"] == {"single": 1, "multiple": 0, "judge": 1, "fill": 1}


def test_a_refused_file_leaves_the_database_unchanged(rt):
    make_bank(rt.session)
    before = (_count(rt.session, Bank), _count(rt.session, Question))
    faulty = GOOD + [["单选", "没有答案的题", "甲", "乙", "", "", "", "", "", ""]]
    with pytest.raises(BankRefused):
        store_bank(rt.session, read_bank(one_sheet(faulty), "a.xlsx"), "新题库")
    assert (_count(rt.session, Bank), _count(rt.session, Question)) == before


def test_a_bank_name_taken_meanwhile_stores_nothing(rt):
    store_bank(rt.session, read_bank(one_sheet(GOOD[:1]), "a.xlsx"), "同名")
    with pytest.raises(BankRefused):
        store_bank(rt.session, read_bank(one_sheet(GOOD[1:]), "b.xlsx"), "同名")
    assert _count(rt.session, Question) == 1 and _count(rt.session, Bank) == 1


def test_the_committed_sample_files_load_cleanly():
    result = read_bank(SAMPLE_BANK_XLSX.read_bytes(), SAMPLE_BANK_XLSX.name)
    assert not result.faults and len(result.questions) >= 200
    assert set(result.counts().values()) != {0}
    units, faults = read_units(SAMPLE_UNITS.read_bytes(), SAMPLE_UNITS.name)
    assert units and not faults
    assert TEMPLATE_XLSX.exists()


# ---- CLI ------------------------------------------------------------------------------

def test_cli_import_bank_dry_run_json_and_list(runner, rt, tmp_path):
    path = tmp_path / "题库.csv"
    path.write_bytes(csv_bytes(GOOD, "gb18030"))
    dry = runner.invoke(main, ["import-bank", str(path), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert body["bank_id"] is None and [q["type"] for q in body["questions"]] == ["single", "judge"]
    assert _count(rt.session, Question) == 0
    stored = runner.invoke(main, ["import-bank", str(path), "--name", "党史题库", "--json"])
    assert stored.exit_code == 0, stored.output
    bank_id = json.loads(stored.stdout)["bank_id"]
    listed = runner.invoke(main, ["list-banks", "--json"])
    assert json.loads(listed.stdout) == [{"id": bank_id, "name": "党史题库", "questions": 2}]


def test_cli_refuses_a_faulty_file_with_one_line_per_fault(runner, rt, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(one_sheet([GOOD[0], ["单选", "题", "甲", "乙", "", "", "E", "", "", ""],
                                ["问答", "题二", "", "", "", "", "略", "", "", ""]]))
    result = runner.invoke(main, ["import-bank", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == ["第3行：答案中的 E 没有对应的选项",
                                               "第4行：题型「问答」无法识别，应为 单选、多选、判断 或 填空"]
    assert _count(rt.session, Bank) == 0


def test_cli_refuses_a_file_that_is_not_a_spreadsheet(runner, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"just text")
    result = runner.invoke(main, ["import-bank", str(path)])
    assert result.exit_code == 1 and "不是有效的 Excel" in result.stderr


def test_cli_import_units_updates_by_name(runner, rt, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("单位名称,职工人数,上级单位\n市电力公司,120,市总工会\n市公交集团,80,\n", encoding="utf-8-sig")
    assert runner.invoke(main, ["import-units", str(path)]).exit_code == 0
    path.write_text("单位名称,职工人数\n市电力公司,150\n", encoding="utf-8")
    result = runner.invoke(main, ["import-units", str(path), "--json"])
    assert json.loads(result.stdout) == {"units": 1, "added": 0, "updated": 1}
    power = rt.session.scalar(select(Unit).where(Unit.name == "市电力公司"))
    assert (power.headcount, power.parent_name) == (150, "市总工会")
    path.write_text("单位名称,职工人数\n市水务集团,很多\n市燃气集团,²\n市热力公司," + "1" * 5000 + "\n", encoding="utf-8")
    refused = runner.invoke(main, ["import-units", str(path)])
    assert refused.exit_code == 1 and "第2行：职工人数「很多」应为 0 或正整数" in refused.stderr
    assert "第3行：职工人数「²」应为 0 或正整数" in refused.stderr and "第4行：职工人数" in refused.stderr  # not a crash


def test_cli_create_contest_with_a_roster(runner, rt, tmp_path):
    bank = make_bank(rt.session)
    rt.session.add(Unit(name="市电力公司", headcount=10))
    rt.session.commit()
    roster = tmp_path / "名单.csv"
    roster.write_text("姓名,手机号,单位\n张三,13800000001,市电力公司\n李四,13800000002,\n", encoding="utf-8")
    args = ["create-contest", "--title", "名单赛", "--bank", str(bank.id), "--paper", "single=2",
            "--time-limit", "300", "--roster", str(roster), "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _count(rt.session, RosterEntry) == 2
    roster.write_text("姓名,手机号,单位\n王五,12345,\n赵六,13800000003,不存在的单位\n", encoding="utf-8")
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1
    assert "第2行：手机号「12345」应为以 1 开头的 11 位数字" in refused.stderr
    assert "第3行：单位「不存在的单位」不在单位列表中，请先导入单位" in refused.stderr
    assert _count(rt.session, RosterEntry) == 2
    assert _count(rt.session, Contest) == 1  # the refused roster made no contest


def test_a_roster_contest_admits_only_listed_phones(client, rt, runner, tmp_path):
    from contest.play.roster import import_roster

    bank = make_bank(rt.session)
    unit = Unit(name="市电力公司", headcount=10)
    rt.session.add(unit)
    rt.session.commit()
    contest = make_contest(rt, bank, paper="single=2", roster_only=True)
    import_roster(rt.session, contest.id, "姓名,手机号\n张三,13800000001\n".encode(), "r.csv")
    url = f"/api/v1/contests/{contest.id}/entrants"
    assert client.post(url, json={"name": "张三", "phone": "13800000001", "unit_id": unit.id}).status_code == 201
    assert client.post(url, json={"name": "李四", "phone": "13800000002", "unit_id": unit.id}).status_code == 403
