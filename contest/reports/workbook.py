"""The staff workbook, one function per sheet, streamed with openpyxl's write-only mode.

Times are China Standard Time written as Excel date serials (Excel has no time zones);
durations are Excel time fractions shown as mm:ss; rates are fractions shown as percent.
All text passes through safe_cells, so no cell can become a formula.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from typing import IO

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from contest.play.contests import ranking_rule
from contest.reports import awards, fairness
from contest.reports.figures import CST_OFFSET, SUSPECT_MIN_DRAWN, Figures, unit_totals
from contest.reports.safe_cells import clean_text, text_cell
from contest.reports.stream import Column, PendingRows, defer_rows, save_with_rows

PERCENT, DURATION, MOMENT, DECIMAL = "0.0%", "[mm]:ss", "yyyy-mm-dd hh:mm:ss", "0.00"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FONT = Font(bold=True)
CENTER, LEFT = Alignment(horizontal="center"), Alignment(horizontal="left")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
DAY_MS = 86_400_000
TYPE_NAMES = {"single": "单选", "multiple": "多选", "judge": "判断", "fill": "填空"}
CHART_UNITS = 20
SUSPECT_NOTE = "正确率低于20%，请核对答案是否有误"


def excel_moments(moments: pd.Series) -> list[float | None]:
    """UTC moments → Excel serials of the same moment in China Standard Time."""
    if moments.empty:
        return []
    local = moments.dt.tz_convert(None) + CST_OFFSET
    serials = (local - EXCEL_EPOCH) / pd.Timedelta(days=1)
    return [None if pd.isna(v) else float(v) for v in serials]


def excel_moment(when: datetime) -> float:
    return float(excel_moments(pd.Series([pd.Timestamp(when)]).dt.tz_convert("UTC"))[0])


def _cell(ws: WriteOnlyWorksheet, value: object, number_format: str | None = None,
          font: Font | None = None, align: Alignment | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value)
    if number_format:
        cell.number_format = number_format
    if font:
        cell.font = font
    if align:
        cell.alignment = align
    return cell


def _sheet(wb: Workbook, title: str, columns: list[tuple[str, float]]) -> WriteOnlyWorksheet:
    """A sheet with Chinese headers, column widths and a frozen header row."""
    ws = wb.create_sheet(title)
    for index, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    # Printed (or saved as PDF) landscape, one page wide, the header repeated on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True  # on paper, numbers and the text beside them stay apart
    header = []
    for name, _ in columns:
        cell = _cell(ws, name, font=HEADER_FONT)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    ws.append(header)
    return ws


def _filter(ws: WriteOnlyWorksheet, columns: int, rows: int) -> None:
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def sheet_summary(wb: Workbook, fig: Figures, rules: awards.AwardRules, exported_at: datetime) -> None:
    c, ranked = fig.contest, fig.standings
    ws = _sheet(wb, "汇总", [("项目", 16), ("内容", 90)])
    total = unit_totals(fig.unit_rows)
    rows = [
        ("竞赛名称", c.title, None), ("竞赛编号", c.id, None),
        ("开始时间", excel_moment(c.starts_at), MOMENT), ("结束时间", excel_moment(c.ends_at), MOMENT),
        ("排名方式", ranking_rule(c), None),
        ("单位数", len(fig.units), None), ("职工总数", total["headcount"], None),
        ("报名人数", len(fig.entrants), None), ("参与人数", len(ranked), None),
        ("总参与率", total["rate"], PERCENT), ("完成答卷数", len(fig.attempts), None),
        ("提交答案数", fig.answers, None),
        ("平均最高分" if c.ranking_mode == "best" else "平均累计得分",
         float(ranked["score"].mean()) if len(ranked) else 0.0, DECIMAL),
        ("导出时间", excel_moment(exported_at), MOMENT),
        ("说明", "时间均为北京时间；数据取自数据库记录（非实时缓存）。", None),
        ("题目分析", f"抽中不少于 {SUSPECT_MIN_DRAWN} 次且正确率低于 20% 的题目标注为可能答案有误。", None),
    ]
    rows += [("公平性核查", fairness_summary(fig.fairness), None), ("核查规则", fairness_rule(fig.fairness), None)]
    rows += [("奖项规则", tier.describe(), None) for tier in rules.tiers] or [("奖项规则", "未设置", None)]
    rows.append(("优秀组织奖规则", rules.org.describe() if rules.org else "未设置", None))
    if any(t.draw is not None for t in rules.tiers):
        rows.append(("抽签方法", "每位符合条件者的抽签值 = SHA-256(\"种子:编号\") 的十六进制，取最小的 N 个中签；"
                              "名单与抽签值见「抽奖记录」。", None))
    for label, value, number_format in rows:
        cell = text_cell(ws, value) if isinstance(value, str) else _cell(ws, value, number_format, align=LEFT)
        ws.append([label, cell])


def fairness_summary(flags: fairness.Fairness) -> str:
    n = flags.counts()
    return (f"答题过快 {n['fast_attempts']} 份答卷（{n['fast_entrants']} 人）；"
            f"同一设备多人 {n['devices']} 台设备（{n['device_entrants']} 人）；"
            f"同一地址多人 {n['addresses']} 个地址（{n['address_entrants']} 人）。"
            "仅供核查，均保留在排名中，名单见「公平性核查」。")


def fairness_rule(flags: fairness.Fairness) -> str:
    return (f"答对的题距上一题（第一题距开始答题）的时间短于读题所需（{fairness.READ_BASE_S:g} 秒 + 题干与选项字数 ÷ "
            f"{fairness.READ_CHARS_PER_S:g} 字/秒）为过快，一份答卷有 {fairness.FAST_MIN_ANSWERS} 道及以上、"
            "且从开始答题到最后一题的时间短于各答对题读题所需之和即列出（断网后一并补发的答案不因间隔短而列出）；"
            f"同一设备报名或答题的有 {fairness.DEVICE_MIN_ENTRANTS} 人及以上；同一网络地址超过 {flags.address_limit} 人"
            f"（取 {fairness.ADDRESS_MIN_ENTRANTS} 与本竞赛各地址人数的中位数 {flags.address_typical:g} 的 "
            f"{fairness.ADDRESS_FACTOR} 倍中较大者）。")


UNIT_COLUMNS = [("排名", 7), ("单位名称", 30), ("上级单位", 20), ("职工人数", 10), ("参与人数", 10), ("参与率", 10),
                ("答题次数", 10), ("人均答题次数", 13), ("平均最高分", 12), ("满分人数", 10)]


def sheet_units(wb: Workbook, fig: Figures) -> None:
    ws = _sheet(wb, "单位参与情况", UNIT_COLUMNS)
    u = fig.unit_rows
    for row in zip(u["rank"].tolist(), u["name"].tolist(), u["parent_name"].tolist(), u["headcount"].tolist(),
                   u["participants"].tolist(), u["rate"].tolist(), u["attempts"].tolist(),
                   u["attempts_per_person"].tolist(), u["avg_best"].tolist(), u["full_marks"].tolist(), strict=True):
        ws.append([_cell(ws, row[0], align=CENTER), text_cell(ws, row[1]), text_cell(ws, row[2]), row[3], row[4],
                   _cell(ws, row[5], PERCENT), row[6], _cell(ws, row[7], DECIMAL), _cell(ws, row[8], DECIMAL),
                   row[9]])
    total = unit_totals(u)
    # Below the filtered range, so sorting the units never moves the totals.
    ws.append([_cell(ws, "合计", font=TOTAL_FONT, align=CENTER), None, None, total["headcount"], total["participants"],
               _cell(ws, total["rate"], PERCENT), total["attempts"], _cell(ws, total["attempts_per_person"], DECIMAL),
               _cell(ws, total["avg_best"], DECIMAL), total["full_marks"]])
    _filter(ws, len(UNIT_COLUMNS), len(u))
    if len(u):
        ws.add_chart(_rate_chart(ws, min(CHART_UNITS, len(u))), "L2")


def _rate_chart(ws: WriteOnlyWorksheet, count: int) -> BarChart:
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: long unit names stay readable
    chart.title = f"参与率前 {count} 名单位"
    chart.add_data(Reference(ws, min_col=6, min_row=1, max_row=count + 1), titles_from_data=True)
    names = Reference(ws, min_col=2, min_row=2, max_row=count + 1)
    chart.series[0].cat = AxDataSource(strRef=StrRef(f=str(names)))  # unit names are text, not numbers
    chart.legend = None
    chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.height, chart.width = max(7.5, 0.6 * count + 2), 18
    return chart


def _score_label(fig: Figures) -> str:
    return "累计得分" if fig.contest.ranking_mode == "daily_sum" else "最高分"


def _people_columns(ranked: pd.DataFrame, award: pd.Series, with_attempts: bool) -> list[Column]:
    columns = [Column(ranked["rank"].tolist(), centered=True), Column(ranked["name"].tolist(), text=True),
               Column(ranked["unit"].tolist(), text=True), Column(ranked["phone"].tolist(), text=True),
               Column(ranked["score"].tolist()),
               Column((ranked["duration_ms"].astype("float64") / DAY_MS).tolist(), DURATION),
               Column(excel_moments(ranked["finished_at"]), MOMENT)]
    if with_attempts:
        columns.append(Column(ranked["attempts"].tolist()))
    columns.append(Column(award.tolist(), text=True, centered=True))
    return columns


def sheet_winners(wb: Workbook, fig: Figures, rules: awards.AwardRules, award: pd.Series) -> PendingRows:
    columns = [("名次", 7), ("姓名", 12), ("单位", 30), ("手机号", 14), (_score_label(fig), 10), ("用时", 9),
               ("完成时间", 21), ("奖项", 12), ("核查", 22)]
    ws = _sheet(wb, "获奖名单", columns)
    order = {tier.name: number for number, tier in enumerate(rules.tiers)}
    won = award[award != ""]
    ranked = fig.standings.loc[won.index].assign(tier=won.map(order))
    ranked = ranked.sort_values(["tier", "rank"], kind="mergesort")
    _filter(ws, len(columns), len(ranked))
    # A winner with a fairness flag keeps the prize; the mark asks staff to check before awarding.
    marks = ranked["entrant_id"].map(fig.fairness.marks()).tolist()
    return defer_rows(ws, _people_columns(ranked, award.loc[ranked.index], with_attempts=False)
                      + [Column([m if isinstance(m, str) else None for m in marks], text=True)])


def sheet_ranking(wb: Workbook, fig: Figures, award: pd.Series) -> PendingRows:
    columns = [("名次", 7), ("姓名", 12), ("单位", 30), ("手机号", 14), (_score_label(fig), 10), ("用时", 9),
               ("完成时间", 21), ("答题次数", 10), ("奖项", 12)]
    ws = _sheet(wb, "成绩排名", columns)
    _filter(ws, len(columns), len(fig.standings))
    return defer_rows(ws, _people_columns(fig.standings, award, with_attempts=True))


def sheet_org(wb: Workbook, ranked_units: pd.DataFrame, rule: awards.OrgRule | None) -> None:
    columns = [("排名", 7), ("单位名称", 30), ("上级单位", 20), ("职工人数", 10), ("参与人数", 10), ("参与率", 10),
               ("平均最高分", 12), ("人均答题次数", 13)]
    weighted = bool(rule and rule.weights)
    if weighted:
        columns += [("参与率得分", 11), ("成绩得分", 10), ("活跃得分", 10), ("综合得分", 10)]
    columns.append(("评定结果", 12))
    ws = _sheet(wb, awards.ORG_AWARD_NAME, columns)
    for row in ranked_units.itertuples(index=False):
        cells = [_cell(ws, row.org_rank, align=CENTER), text_cell(ws, row.name), text_cell(ws, row.parent_name), row.headcount,
                 row.participants, _cell(ws, row.rate, PERCENT), _cell(ws, row.avg_best, DECIMAL),
                 _cell(ws, row.attempts_per_person, DECIMAL)]
        if weighted:
            cells += [_cell(ws, row.coverage, "0.000"), _cell(ws, row.scores, "0.000"),
                      _cell(ws, row.activity, "0.000"), _cell(ws, row.composite, "0.000")]
        cells.append(_cell(ws, awards.ORG_AWARD_NAME, align=CENTER) if row.awarded else None)
        ws.append(cells)
    _filter(ws, len(columns), len(ranked_units))


ATTEMPT_COLUMNS = [("答卷编号", 10), ("姓名", 12), ("手机号", 14), ("单位", 30), ("得分", 8), ("满分", 8),
                   ("答对题数", 10), ("用时", 9), ("开始时间", 21), ("完成时间", 21)]


def sheet_attempts(wb: Workbook, fig: Figures) -> PendingRows:
    ws = _sheet(wb, "答题明细", ATTEMPT_COLUMNS)
    people = fig.entrants.merge(fig.units[["unit_id", "name"]].rename(columns={"name": "unit"}), on="unit_id",
                                how="left")
    a = fig.attempts.sort_values(["finished_at", "attempt_id"], kind="mergesort")
    a = a.merge(people, on="entrant_id", how="left", sort=False)
    _filter(ws, len(ATTEMPT_COLUMNS), len(a))
    return defer_rows(ws, [
        Column(a["attempt_id"].tolist()), Column(a["name"].tolist(), text=True),
        Column(a["phone"].tolist(), text=True), Column(a["unit"].tolist(), text=True),
        Column(a["score"].tolist()), Column(a["max_score"].tolist()), Column(a["correct"].tolist()),
        Column((a["duration_ms"].astype("float64") / DAY_MS).tolist(), DURATION),
        Column(excel_moments(a["started_at"]), MOMENT), Column(excel_moments(a["finished_at"]), MOMENT),
    ])


def answer_label(qtype: str, value: object, options: list[str]) -> str:
    """An answer as staff read it: B（乙）, 正确 / 错误, or the text typed."""
    if value is None:
        return "（未作答）"
    if qtype == "judge":
        return "正确" if value is True else "错误" if value is False else str(value)
    if qtype in ("single", "multiple") and isinstance(value, list):
        texts = []
        for letter in value:
            index = ord(str(letter)[:1] or "?") - ord("A")
            texts.append(f"{letter}（{options[index]}）" if 0 <= index < len(options) else str(letter))
        return "、".join(texts)
    if isinstance(value, list):
        return " / ".join(map(str, value))
    return str(value)


QUESTION_COLUMNS = [("题目编号", 10), ("题型", 7), ("分类", 12), ("题干", 50), ("正确答案", 20), ("抽中次数", 10),
                    ("答对次数", 10), ("正确率", 9), ("最常选错误答案", 22), ("选择人次", 10), ("提示", 26)]


def sheet_questions(wb: Workbook, fig: Figures) -> None:
    ws = _sheet(wb, "题目分析", QUESTION_COLUMNS)
    q = fig.questions
    for row in q.itertuples(index=False):
        wrong = answer_label(row.type, json.loads(row.wrong_answer), row.options) \
            if isinstance(row.wrong_answer, str) else None
        ws.append([row.question_id, TYPE_NAMES.get(row.type, row.type), text_cell(ws, row.category),
                   text_cell(ws, row.stem), text_cell(ws, answer_label(row.type, row.answer, row.options)),
                   row.drawn, row.correct, _cell(ws, row.rate, PERCENT), text_cell(ws, wrong),
                   int(row.wrong_count) if wrong else None, SUSPECT_NOTE if row.suspect else None])
    _filter(ws, len(QUESTION_COLUMNS), len(q))


FAIRNESS_COLUMNS = [("核查类型", 13), ("姓名", 12), ("手机号", 14), ("单位", 30), ("答卷编号", 10), ("得分", 8),
                    ("答卷用时", 10), ("过快题数", 10), ("最短间隔（秒）", 14), ("设备标识或地址", 26),
                    ("同设备或地址人数", 16), ("说明", 60)]


def sheet_fairness(wb: Workbook, fig: Figures) -> PendingRows:
    """Flagged attempts and entrants, with the reason; nobody is removed from the ranking."""
    ws = _sheet(wb, "公平性核查", FAIRNESS_COLUMNS)
    flags = fig.fairness
    people = fig.entrants.merge(fig.units[["unit_id", "name"]].rename(columns={"name": "unit"}), on="unit_id",
                                how="left")
    fast = flags.fast.merge(fig.attempts[["attempt_id", "score", "duration_ms"]], on="attempt_id", how="left")
    fast = fast.assign(
        kind=fairness.FAST, key=None, entrants=None,
        note=[f"{n} 道答对的题用时短于读题所需，最短 {ms / 1000:.1f} 秒，整份答卷也快于读题所需"
              for n, ms in zip(fast["fast_answers"], fast["fastest_ms"], strict=True)])
    shared = flags.shared.assign(
        note=[f"同一设备共 {n} 人报名或答题（{u} 个单位）" if kind == fairness.DEVICE
              else f"同一网络地址共 {n} 人（{u} 个单位），超过本竞赛上限 {flags.address_limit} 人"
              for kind, n, u in zip(flags.shared["kind"], flags.shared["entrants"], flags.shared["units"],
                                    strict=True)])
    rows = pd.concat([fast, shared], ignore_index=True) if len(fast) or len(shared) else \
        pd.DataFrame(columns=list(dict.fromkeys([*fast.columns, *shared.columns])))
    rows = rows.merge(people, on="entrant_id", how="left", sort=False)
    _filter(ws, len(FAIRNESS_COLUMNS), len(rows))

    def numbers(column: str, scale: float = 1.0) -> list:
        return (pd.to_numeric(rows[column], errors="coerce").astype("float64") / scale).tolist()  # NaN: blank

    return defer_rows(ws, [
        Column(rows["kind"].tolist(), text=True), Column(rows["name"].tolist(), text=True),
        Column(rows["phone"].tolist(), text=True), Column(rows["unit"].tolist(), text=True),
        Column(numbers("attempt_id")), Column(numbers("score")), Column(numbers("duration_ms", DAY_MS), DURATION),
        Column(numbers("fast_answers")), Column(numbers("fastest_ms", 1000.0), "0.0"),
        Column(rows["key"].tolist(), text=True), Column(numbers("entrants")), Column(rows["note"].tolist(), text=True),
    ])


DRAW_COLUMNS = [("奖项", 10), ("种子", 20), ("名次", 7), ("编号", 9), ("姓名", 12), ("单位", 30), ("得分", 8),
                ("抽签值", 68), ("是否中签", 10)]


def sheet_draws(wb: Workbook, draws: list[awards.Draw]) -> PendingRows:
    ws = _sheet(wb, "抽奖记录", DRAW_COLUMNS)
    e = pd.concat([d.eligible.assign(tier=d.tier.name, seed=d.tier.seed) for d in draws], ignore_index=True)
    _filter(ws, len(DRAW_COLUMNS), len(e))
    return defer_rows(ws, [
        Column(e["tier"].tolist(), text=True), Column(e["seed"].tolist(), text=True),
        Column(e["rank"].tolist(), centered=True),
        Column(e["entrant_id"].tolist()), Column(e["name"].tolist(), text=True),
        Column(e["unit"].tolist(), text=True), Column(e["score"].tolist()), Column(e["ticket"].tolist(), text=True),
        Column(["中签" if won else None for won in e["won"].tolist()], text=True, centered=True),
    ])


def write_workbook(fig: Figures, target: str | IO[bytes], exported_at: datetime) -> None:
    """Every sheet, in the order staff read them."""
    rules = awards.rules_of(fig.contest)
    award, draws = awards.assign_tiers(fig.standings, rules)
    wb = Workbook(write_only=True)
    wb.properties.title = clean_text(fig.contest.title)
    wb.properties.creator = "竞答"
    sheet_summary(wb, fig, rules, exported_at)
    sheet_units(wb, fig)
    pending = [sheet_winners(wb, fig, rules, award)]
    sheet_org(wb, awards.org_ranking(fig.unit_rows, rules.org), rules.org)
    pending += [sheet_ranking(wb, fig, award), sheet_attempts(wb, fig)]
    sheet_questions(wb, fig)
    pending.append(sheet_fairness(wb, fig))
    if draws:
        pending.append(sheet_draws(wb, draws))
    with tempfile.SpooledTemporaryFile(max_size=64 * 2**20) as frame:
        wb.save(frame)
        frame.seek(0)
        save_with_rows(frame, target, pending)
