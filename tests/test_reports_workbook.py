"""The staff workbook: figures equal a pandas recomputation from the same SQL rows; order,
tiers, ties, formats, injection, the chart and the empty contest."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from contest.models import Unit
from contest.play import ranking
from tests.play_support import make_bank, make_contest, make_units
from tests.reports_support import (
    add_attempt,
    add_entrant,
    export_bytes,
    open_book,
    question_ids,
    read_frames,
)

SHEETS = ["汇总", "单位参与情况", "获奖名单", "优秀组织奖", "成绩排名", "答题明细", "题目分析"]


def _random_contest(rt, mode: str = "best"):
    """5 units (one without anyone), 40 entrants, 0-4 attempts each over three days, many equal scores."""
    s = rt.session
    rng = random.Random(7)
    bank = make_bank(s)
    units = make_units(s, 5)
    contest = make_contest(rt, bank, ranking_mode=mode)
    now = rt.clock.now()
    for i in range(40):
        entrant = add_entrant(s, contest, units[i % 4], name=f"职工{i:02d}")
        for _ in range(rng.randint(0, 4)):
            finished = now - timedelta(days=rng.randint(0, 2), minutes=rng.randint(1, 600))
            add_attempt(s, contest, entrant, score=float(rng.choice([6, 8, 9, 10])),
                        duration_s=rng.choice([60, 90, 90.5]), finished_at=finished)
    s.commit()
    return contest


def _sql_rows(rt, cid: int) -> pd.DataFrame:
    """Finished attempts with their entrant and unit, read independently of the reports code."""
    frame = pd.read_sql(text(
        "SELECT a.id, a.entrant_id, a.score, a.max_score, a.duration_ms, a.finished_at, a.day, e.name, e.phone, e.unit_id "
        "FROM attempts a JOIN entrants e ON e.id = a.entrant_id WHERE a.contest_id = :cid AND a.status = 'finished'"),
        rt.session.connection(), params={"cid": cid})
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True, format="mixed")
    return frame


@pytest.mark.parametrize("mode", ["best", "daily_sum"])
def test_ranking_and_units_equal_a_recomputation(rt, mode):
    contest = _random_contest(rt, mode)
    frames = read_frames(export_bytes(rt, contest.id))
    assert list(frames)[:len(SHEETS)] == SHEETS
    rows = _sql_rows(rt, contest.id)

    # The live board's own rule (contest/play/ranking.py) over the same rows gives the same order.
    unit_of = dict(zip(rows["entrant_id"], rows["unit_id"], strict=False))
    tuples = [(r.entrant_id, r.score, r.duration_ms, r.finished_at.to_pydatetime(), r.id, r.day)
              for r in rows.itertuples()]
    board = sorted(ranking.standings_from_attempts(mode, unit_of, tuples), key=lambda st: st.member())
    names = dict(zip(rows["entrant_id"], rows["name"], strict=False))
    ranked = frames["成绩排名"]
    score_label = "最高分" if mode == "best" else "累计得分"
    assert ranked["姓名"].tolist() == [names[st.entrant_id] for st in board]
    assert ranked[score_label].tolist() == [st.score for st in board]
    assert ranked["名次"].tolist() == list(range(1, len(board) + 1))
    assert ranked["用时"].tolist() == [pd.Timedelta(milliseconds=st.duration_ms) for st in board]

    # Per unit, recomputed with pandas: participants, attempts, rate, mean best, full marks.
    best = pd.DataFrame({"entrant_id": [st.entrant_id for st in board], "best": [st.score for st in board]})
    best["unit_id"] = best["entrant_id"].map(unit_of)
    units = pd.read_sql(text("SELECT id, name, headcount FROM units"), rt.session.connection())
    expected = units.assign(
        participants=units["id"].map(best.groupby("unit_id").size()).fillna(0).astype(int),
        attempts=units["id"].map(rows.groupby("unit_id").size()).fillna(0).astype(int),
        avg_best=units["id"].map(best.groupby("unit_id")["best"].mean()).fillna(0.0),
        full=units["id"].map(rows[rows["score"] >= rows["max_score"]].groupby("unit_id")["entrant_id"].nunique())
        .fillna(0).astype(int),
    )
    expected["rate"] = expected["participants"] / expected["headcount"]
    expected = expected.sort_values(["rate", "participants", "id"], ascending=[False, False, True])
    sheet = frames["单位参与情况"]
    body, total = sheet.iloc[:-1], sheet.iloc[-1]
    assert body["单位名称"].tolist() == expected["name"].tolist()  # every unit, the empty one too
    assert body["参与人数"].tolist() == expected["participants"].tolist()
    assert body["答题次数"].tolist() == expected["attempts"].tolist()
    assert body["满分人数"].tolist() == expected["full"].tolist()
    assert body["参与率"].tolist() == pytest.approx(expected["rate"].tolist())
    assert body["平均最高分"].tolist() == pytest.approx(expected["avg_best"].tolist())
    assert total["排名"] == "合计" and total["参与人数"] == len(board) and total["答题次数"] == len(rows)
    assert total["参与率"] == pytest.approx(len(board) / expected["headcount"].sum())

    detail = frames["答题明细"]
    assert sorted(detail["答卷编号"]) == sorted(rows["id"])
    assert detail["完成时间"].is_monotonic_increasing
    summary = dict(zip(frames["汇总"]["项目"], frames["汇总"]["内容"], strict=False))
    assert summary["参与人数"] == len(board) and summary["完成答卷数"] == len(rows)


def _tie_contest(rt, awards: dict):
    s = rt.session
    bank = make_bank(s)
    unit = make_units(s, 1)[0]
    contest = make_contest(rt, bank)
    contest.awards = awards
    now = rt.clock.now()
    people = {}
    # Equal scores: shorter duration first; equal durations: the earlier finish first.
    for name, score, duration, ago in [("甲", 9, 60, 5), ("乙", 9, 50, 5), ("丙", 9, 50, 30), ("丁", 10, 300, 1),
                                       ("戊", 7, 40, 2), ("己", 5, 40, 2), ("庚", 8, 40, 2)]:
        people[name] = add_entrant(s, contest, unit, name=name)
        add_attempt(s, contest, people[name], score, duration, now - timedelta(minutes=ago))
    s.commit()
    return contest, people


def test_tiers_follow_the_ranking_rule_with_ties(rt):
    contest, _ = _tie_contest(rt, {"tiers": [{"name": "一等奖", "top": 1}, {"name": "二等奖", "top": 2},
                                             {"name": "三等奖", "top": 5, "min_score": 9},
                                             {"name": "优胜奖", "min_score": 7}]})
    frames = read_frames(export_bytes(rt, contest.id))
    ranked = frames["成绩排名"]
    assert ranked["姓名"].tolist() == ["丁", "丙", "乙", "甲", "庚", "戊", "己"]
    assert ranked["奖项"].fillna("").tolist() == ["一等奖", "二等奖", "二等奖", "三等奖", "优胜奖", "优胜奖", ""]
    winners = frames["获奖名单"]
    assert winners["姓名"].tolist() == ["丁", "丙", "乙", "甲", "庚", "戊"]
    assert winners["名次"].tolist() == [1, 2, 3, 4, 5, 6]


def test_formats_layout_and_chart(rt):
    contest, people = _tie_contest(rt, {"tiers": [{"name": "一等奖", "top": 3}]})
    data = export_bytes(rt, contest.id)
    book = open_book(data)
    assert book.sheetnames[:len(SHEETS)] == SHEETS
    for name in SHEETS:
        ws = book[name]
        assert ws.freeze_panes == "A2", name
        assert all(cell.font.b for cell in ws[1]), name
        if name != "汇总":
            assert ws.auto_filter.ref.startswith("A1:"), name
    units = book["单位参与情况"]
    assert units.auto_filter.ref == "A1:J2"  # the totals row stays out of the filter
    assert units["F2"].number_format == "0.0%" and units["F3"].number_format == "0.0%"
    assert units.column_dimensions["B"].width >= 20
    winners = book["获奖名单"]
    assert [c.value for c in winners[1]] == ["名次", "姓名", "单位", "手机号", "最高分", "用时", "完成时间", "奖项", "核查"]
    phone = winners["D2"]
    assert phone.data_type == "s" and phone.value == people["丁"].phone
    assert winners["F2"].number_format == "[mm]:ss" and winners["F2"].value == timedelta(minutes=5)
    assert winners["G2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert book["答题明细"]["H2"].number_format == "[mm]:ss"
    # A native bar chart of 参与率, drawn from the unit sheet itself.
    assert len(units._charts) == 1
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<barChart>" in chart and "'单位参与情况'!$F$2" in chart and "<strRef><f>'单位参与情况'!$B$2" in chart


INJECTIONS = [
    ('=HYPERLINK("http://x","点我")', '=HYPERLINK("http://x","点我")'),
    ("+1+1", "+1+1"),
    ("-2+3", "-2+3"),
    ("@SUM(A1)", "@SUM(A1)"),
    ("\t=1+1", "\t=1+1"),
    ("\r=1+1", "\r=1+1"),
    ("王\x01五\x07\x1b\x7f", "王五"),  # PostgreSQL refuses NUL itself
    ("<b>&amp;</b>", "<b>&amp;</b>"),
]


def test_formula_injection_is_written_as_text_and_control_characters_removed(rt):
    s = rt.session
    bank = make_bank(s)
    contest = make_contest(rt, bank)
    unit = Unit(name="=1+2\x01", headcount=10, parent_name="@上级")
    s.add(unit)
    s.flush()
    for number, (name, _) in enumerate(INJECTIONS):
        entrant = add_entrant(s, contest, unit, name=name)
        add_attempt(s, contest, entrant, 10 - number, 60, rt.clock.now() - timedelta(minutes=number))
    s.commit()
    data = export_bytes(rt, contest.id)
    book = open_book(data)
    ranked = book["成绩排名"]
    for row, (_, shown) in enumerate(INJECTIONS, start=2):
        cell = ranked.cell(row=row, column=2)
        assert cell.value == shown and cell.data_type == "s"
        assert cell.quotePrefix == shown.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert ranked.cell(row=row, column=3).value == "=1+2"
    frames = read_frames(data)
    assert frames["答题明细"]["姓名"].tolist() == [shown for _, shown in reversed(INJECTIONS)]
    assert frames["单位参与情况"]["上级单位"].iloc[0] == "@上级"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode(), name


def test_empty_contest_exports_a_valid_workbook_with_zero_rows(rt):
    contest = make_contest(rt, make_bank(rt.session))
    data = export_bytes(rt, contest.id)
    frames = read_frames(data)
    assert list(frames)[:len(SHEETS)] == SHEETS
    for name in ["获奖名单", "优秀组织奖", "成绩排名", "答题明细", "题目分析"]:
        assert frames[name].empty and len(frames[name].columns) > 3, name
    assert frames["单位参与情况"]["排名"].tolist() == ["合计"]
    summary = dict(zip(frames["汇总"]["项目"], frames["汇总"]["内容"], strict=False))
    assert summary["参与人数"] == 0 and summary["完成答卷数"] == 0
    assert open_book(data)["单位参与情况"]._charts == []


def test_units_without_participants_are_listed_and_charted(rt):
    make_units(rt.session, 25)
    contest = make_contest(rt, make_bank(rt.session))
    data = export_bytes(rt, contest.id)
    units = read_frames(data)["单位参与情况"]
    assert len(units) == 26 and (units["参与人数"] == 0).all()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "'单位参与情况'!$F$2:$F$21" in archive.read("xl/charts/chart1.xml").decode()


def test_question_analysis_finds_the_favourite_wrong_answer_and_flags_low_rates(rt):
    s = rt.session
    bank = make_bank(s)
    unit = make_units(s, 1)[0]
    contest = make_contest(rt, bank)
    hard, easy = question_ids(s, bank, "single")[:2]
    judge = question_ids(s, bank, "judge")[0]
    now = rt.clock.now()
    picks = [["C"], ["C"], ["C"], ["A"], ["B"], None]
    for i, pick in enumerate(picks):
        entrant = add_entrant(s, contest, unit, name=f"人{i}")
        answers = [(easy, ["B"], True), (judge, i % 2 == 0, i % 2 == 0)]
        if pick is not None:
            answers.append((hard, pick, pick == ["B"]))
        add_attempt(s, contest, entrant, 5, 60, now - timedelta(minutes=i), answers=answers,
                    qids=[hard, easy, judge])
    s.commit()
    analysis = read_frames(export_bytes(rt, contest.id))["题目分析"].set_index("题目编号")
    assert analysis.loc[hard, "抽中次数"] == 6 and analysis.loc[hard, "答对次数"] == 1
    assert analysis.loc[hard, "正确率"] == pytest.approx(1 / 6)
    assert analysis.loc[hard, "最常选错误答案"] == "C（丙）" and analysis.loc[hard, "选择人次"] == 3
    assert "核对答案" in analysis.loc[hard, "提示"]
    assert analysis.loc[easy, "正确率"] == 1 and pd.isna(analysis.loc[easy, "提示"])
    assert analysis.loc[judge, "最常选错误答案"] == "错误" and analysis.loc[judge, "正确答案"] == "正确"
    assert analysis.index.tolist()[0] == hard  # the weakest question first


def test_a_question_drawn_only_a_few_times_is_not_flagged(rt):
    s = rt.session
    bank = make_bank(s)
    unit = make_units(s, 1)[0]
    contest = make_contest(rt, bank)
    rare = question_ids(s, bank, "single")[0]
    for i in range(4):
        entrant = add_entrant(s, contest, unit, name=f"人{i}")
        add_attempt(s, contest, entrant, 0, 60, rt.clock.now(), answers=[(rare, ["A"], False)])
    s.commit()
    analysis = read_frames(export_bytes(rt, contest.id))["题目分析"]
    assert analysis["正确率"].tolist() == [0] and pd.isna(analysis["提示"].iloc[0])


def test_clean_text_drops_every_control_character_but_tab_and_line_breaks():
    from contest.reports.safe_cells import clean_text

    assert clean_text("a\x00b\x08c\x0bd\x1fe\x7ff") == "abcdef"
    assert clean_text("\t甲\n乙\r") == "\t甲\n乙\r"
