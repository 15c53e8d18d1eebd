"""The workbook on the admin pages: login required, every export logged, staff may export
(and only export), organizers set the prize tiers; and the CLI commands."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
from sqlalchemy import select

from contest.cli import main
from contest.models import Contest, ExportLog
from contest.play import attempts, entry, ranking
from tests.admin_support import csrf_from, make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units, right_answer
from tests.reports_support import add_attempt, add_entrant, export_bytes, read_frames

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _contest_with_one_attempt(rt):
    contest = make_contest(rt, make_bank(rt.session))
    entrant = add_entrant(rt.session, contest, make_units(rt.session, 1)[0], name="张三")
    add_attempt(rt.session, contest, entrant, 8, 60, rt.clock.now())
    rt.session.commit()
    return contest


def test_download_requires_login_and_nothing_is_logged(app, client, rt):
    contest = _contest_with_one_attempt(rt)
    response = client.get(f"/admin/contests/{contest.id}/export.xlsx")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    xhr = client.get(f"/admin/contests/{contest.id}/export.xlsx", headers={"X-Requested-With": "XMLHttpRequest"})
    assert xhr.status_code == 401
    assert rt.session.scalar(select(ExportLog)) is None


def test_organizer_downloads_and_the_export_is_logged(app, client, rt, clock):
    user = make_admin(app)
    contest = _contest_with_one_attempt(rt)
    sign_in(client)
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert f"/admin/contests/{contest.id}/export.xlsx" in page and "奖项设置" in page
    response = client.get(f"/admin/contests/{contest.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"] and ".xlsx" in response.headers["Content-Disposition"]
    frames = pd.read_excel(io.BytesIO(response.data), sheet_name=None)
    assert frames["成绩排名"]["姓名"].tolist() == ["张三"]
    log = rt.session.scalar(select(ExportLog))
    assert (log.admin_id, log.contest_id, log.via) == (user.id, contest.id, "admin")
    assert abs((log.created_at - clock.now()).total_seconds()) < 1
    awards_page = client.get(f"/admin/contests/{contest.id}/awards").get_data(as_text=True)
    assert "最近导出记录" in awards_page and '<td data-label="导出人">admin</td>' in awards_page


def test_staff_may_export_but_not_change_awards(app, client, rt):
    staff = make_admin(app, "staff1", role="staff")
    contest = _contest_with_one_attempt(rt)
    sign_in(client, "staff1")
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert "导出 Excel" in page and "奖项设置" not in page
    assert client.get(f"/admin/contests/{contest.id}/export.xlsx").status_code == 200
    assert rt.session.scalar(select(ExportLog.admin_id)) == staff.id
    assert client.get(f"/admin/contests/{contest.id}/awards").status_code == 403
    token = csrf_from(client, "/admin/contests")
    refused = client.post(f"/admin/contests/{contest.id}/awards", data={"csrf_token": token, "tier_name_0": "奖"})
    assert refused.status_code == 403
    rt.session.expire_all()
    assert not rt.session.get(Contest, contest.id).awards


def test_organizer_sets_tiers_and_org_award_on_the_form(app, client, rt):
    make_admin(app)
    contest = _contest_with_one_attempt(rt)
    sign_in(client)
    token = csrf_from(client, f"/admin/contests/{contest.id}/awards")
    form = {"csrf_token": token, "tier_rows": "6",
            "tier_name_0": "一等奖", "tier_top_0": "10", "tier_name_1": "优胜奖", "tier_min_score_1": "80",
            "tier_draw_1": "50", "org_enabled": "on", "org_min": "5", "org_top_share": "0.1", "weight_coverage": "0.6",
            "weight_scores": "0.4"}
    response = client.post(f"/admin/contests/{contest.id}/awards", data=form)
    assert response.status_code == 302
    rt.session.expire_all()
    saved = rt.session.get(Contest, contest.id).awards
    assert saved["tiers"][0] == {"name": "一等奖", "top": 10}
    assert saved["tiers"][1]["draw"] == 50 and saved["tiers"][1]["min_score"] == 80 and saved["tiers"][1]["seed"]
    assert saved["org_award"] == {"min_participants": 5, "top": None, "top_share": 0.1,
                                  "weights": {"coverage": 0.6, "scores": 0.4}}
    again = client.get(f"/admin/contests/{contest.id}/awards").get_data(as_text=True)
    assert 'value="一等奖"' in again and saved["tiers"][1]["seed"] in again


def test_a_faulty_form_is_refused_in_chinese_and_keeps_what_was_typed(app, client, rt):
    make_admin(app)
    contest = _contest_with_one_attempt(rt)
    sign_in(client)
    token = csrf_from(client, f"/admin/contests/{contest.id}/awards")
    response = client.post(f"/admin/contests/{contest.id}/awards",
                           data={"csrf_token": token, "tier_rows": "6", "tier_name_0": "特等奖", "tier_top_0": "3",
                                 "tier_draw_0": "2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "不能同时按名次和抽签评定" in page and 'value="特等奖"' in page
    rt.session.expire_all()
    assert not rt.session.get(Contest, contest.id).awards


def test_a_forged_row_count_is_not_a_500(app, client, rt):
    make_admin(app)
    contest = _contest_with_one_attempt(rt)
    sign_in(client)
    token = csrf_from(client, f"/admin/contests/{contest.id}/awards")
    for rows in ("abc", "²", "1000000000"):
        response = client.post(f"/admin/contests/{contest.id}/awards",
                               data={"csrf_token": token, "tier_rows": rows, "tier_name_0": "一等奖", "tier_top_0": "3"})
        assert response.status_code == 302, rows
        rt.session.expire_all()
        assert rt.session.get(Contest, contest.id).awards["tiers"] == [{"name": "一等奖", "top": 3}]


def test_cli_set_awards_and_export(app, rt, runner, tmp_path):
    contest = _contest_with_one_attempt(rt)
    result = runner.invoke(main, ["set-awards", str(contest.id), "--tier", "一等奖:top=1",
                                  "--tier", "优胜奖:min=5,draw=2", "--seed", "abc", "--org-min", "1", "--org-top", "3",
                                  "--org-weights", "coverage=1,activity=1"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["tiers"] == [{"name": "一等奖", "top": 1}, {"name": "优胜奖", "min_score": 5.0, "draw": 2, "seed": "abc"}]
    assert shown["org_award"]["weights"] == {"coverage": 1.0, "activity": 1.0}
    # Flags not given leave the rest as it was.
    result = runner.invoke(main, ["set-awards", str(contest.id), "--org-top-share", "0.5", "--org-plain"])
    assert result.exit_code == 0, result.output
    rt.session.expire_all()
    saved = rt.session.get(Contest, contest.id).awards
    assert saved["org_award"] == {"min_participants": 1, "top": None, "top_share": 0.5, "weights": None}
    assert len(saved["tiers"]) == 2

    target = tmp_path / "统计.xlsx"
    result = runner.invoke(main, ["export", str(contest.id), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert read_frames(target.read_bytes())["获奖名单"]["奖项"].tolist() == ["一等奖"]
    log = rt.session.scalar(select(ExportLog))
    assert log.via == "cli" and log.admin_id is None and log.contest_id == contest.id


def test_cli_refuses_bad_flags_and_unknown_contests(app, rt, runner, tmp_path):
    contest = _contest_with_one_attempt(rt)
    result = runner.invoke(main, ["set-awards", str(contest.id), "--tier", "一等奖:first=3"])
    assert result.exit_code == 1 and "看不懂" in result.output
    result = runner.invoke(main, ["set-awards", str(contest.id), "--org-min", "3"])
    assert result.exit_code == 1 and "名额或比例" in result.output
    result = runner.invoke(main, ["export", "99999", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "竞赛不存在" in result.output


def test_played_through_the_real_services_the_workbook_matches_the_board(app, rt, clock):
    """Entrants enter and play with the real services; the workbook agrees with the live board."""
    contest = make_contest(rt, make_bank(rt.session), paper="single=3,judge=1")
    units = make_units(rt.session, 2)
    played = []
    for number, right in enumerate([4, 2, 3]):
        entrant_id, token = entry.enter(rt, contest.id, f"选手{number}", f"1370000000{number}", units[number % 2].id)
        caller = entry.caller_for(rt, f"Bearer {token}")
        attempt, _ = attempts.start(rt, caller, contest.id)
        view = attempts.attempt_view(rt, attempt)
        for shown in view["questions"][:right]:
            attempts.save_answer(rt, caller, attempt.id, shown["id"], right_answer(rt.session, shown))
        clock.advance(30 + number)
        attempts.submit(rt, caller, attempt.id)
        played.append(entrant_id)
    clock.advance(1)
    board = ranking.leaderboard(rt, contest)
    frames = read_frames(export_bytes(rt, contest.id))
    ranked = frames["成绩排名"]
    assert ranked["最高分"].tolist() == [e["score"] for e in board["entries"]]
    assert [name[0] for name in ranked["姓名"]] == [e["name"][0] for e in board["entries"]]
    assert ranked["姓名"].tolist() == ["选手0", "选手2", "选手1"]
    assert ranked["用时"].tolist() == [timedelta(seconds=30), timedelta(seconds=32), timedelta(seconds=31)]
    assert ranked["手机号"].tolist() == ["13700000000", "13700000002", "13700000001"]
    assert len(frames["答题明细"]) == 3 and frames["答题明细"]["答对题数"].sum() == 9
    assert frames["题目分析"]["抽中次数"].sum() == 12
