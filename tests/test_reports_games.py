"""A live game's workbook: places (equal scores share one), units by average, per-question figures."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from contest.cli import main
from contest.models import GameAnswer, GamePlayer
from tests.admin_support import make_admin, sign_in
from tests.game_support import make_game
from tests.play_support import make_units


def _played_game(rt):
    """Four players (one removed) answered three questions; rows written as the game records them."""
    game, _ = make_game(rt, count=3)
    units = make_units(rt.session, 2)
    now = rt.clock.now()
    plan = [("=张三", units[0], [(["B"], True, 1200), (True, True, 3000), (["A"], False, 5000)]),
            ("李四", units[0], [(["A"], False, 2000), (True, True, 2500), (["A", "C"], True, 4000)]),
            ("王五", units[1], [(["C"], False, 1500), (False, False, 1000)]),
            ("走了", units[1], [(["B"], True, 900)])]
    for number, (name, unit, answers) in enumerate(plan):
        points = sum(100 for _, ok, _ in answers if ok)
        player = GamePlayer(game_id=game.id, name=name, unit_id=unit.id, token_hash=f"t{number}", score=points,
                            correct=sum(ok for _, ok, _ in answers), removed=name == "走了")
        rt.session.add(player)
        rt.session.flush()
        for index, (answer, ok, elapsed) in enumerate(answers):
            rt.session.add(GameAnswer(game_id=game.id, player_id=player.id, question_index=index,
                                      question_id=game.questions[index]["qid"], answer=answer, received_at=now,
                                      elapsed_ms=elapsed, is_correct=ok, points=100 if ok else 0))
    rt.session.commit()
    return game


def test_game_workbook_from_the_record(app, rt, runner, tmp_path):
    game = _played_game(rt)
    target = tmp_path / "game.xlsx"
    result = runner.invoke(main, ["export-game", str(game.id), "-o", str(target)])
    assert result.exit_code == 0, result.output
    frames = pd.read_excel(target, sheet_name=None)
    assert list(frames) == ["汇总", "选手排名", "单位排名", "题目统计"]
    players = frames["选手排名"]
    assert players["姓名"].tolist() == ["=张三", "李四", "王五"]  # the removed player is left out
    assert players["名次"].tolist() == [1, 1, 3] and players["得分"].tolist() == [200, 200, 0]
    units = frames["单位排名"]
    assert units["单位名称"].tolist() == ["测试单位0", "测试单位1"] and units["平均分"].tolist() == [200, 0]
    questions = frames["题目统计"]
    assert questions["作答人数"].tolist() == [3, 3, 2]
    assert questions["答对人数"].tolist() == [1, 2, 1]
    assert questions["平均用时（秒）"].tolist()[0] == pytest.approx((1.2 + 2.0 + 1.5) / 3)
    assert questions["最常选错误答案"].tolist()[1] == "错误"
    cell = load_workbook(target)["选手排名"]["B2"]
    assert cell.value == "=张三" and cell.data_type == "s"
    result = runner.invoke(main, ["export-game", "99999", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "没有这场现场竞赛" in result.output


def test_game_download_for_staff_and_login_required(app, client, rt):
    game = _played_game(rt)
    assert client.get(f"/admin/games/{game.id}/export.xlsx").status_code == 302
    make_admin(app, "staff1", role="staff")
    sign_in(client, "staff1")
    assert "导出 Excel" in client.get("/admin/games").get_data(as_text=True)
    response = client.get(f"/admin/games/{game.id}/export.xlsx")
    assert response.status_code == 200
    players = pd.read_excel(io.BytesIO(response.data), sheet_name="选手排名")
    assert players["姓名"].tolist() == ["=张三", "李四", "王五"]  # full names: the workbook is for staff
