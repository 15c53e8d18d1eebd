"""Roster-only live games: only listed phones take a seat, with the list's name and unit; one seat per phone."""

from __future__ import annotations

import io
import json
import re
import threading

import pandas as pd
import pytest
from sqlalchemy import func, select

from contest.cli import main
from contest.errors import BadInput
from contest.models import GamePlayer, GameRosterEntry
from contest.play import game_roster, games
from contest.play.roster import RosterRow, store_roster
from tests.admin_support import csrf_from, make_admin, sign_in
from tests.game_support import RIGHT, Host, Phone, make_game
from tests.play_support import make_bank, make_contest, make_units

LIST_CSV = "姓名,手机号,单位\n张三丰,13800000001,测试单位1\n李四,13800000002,\n"


def _roster_game(app, rt):
    units = make_units(rt.session)
    people = [RosterRow("张三丰", "13800000001", units[1].id), RosterRow("李四", "13800000002", None)]
    game, host_token = make_game(rt, 2, roster=people)
    host = Host(app, game.pin, host_token)
    assert host.act("watch")["state"] == "lobby"
    return game, host, units


def _join(app, pin, name, phone=None, unit_id=None):
    seat = Phone(app, pin)
    body = {"pin": pin, "name": name, "unit_id": unit_id}
    if phone is not None:
        body["phone"] = phone
    ack = seat.emit("game_join", body)
    if "token" in ack:
        seat.token, seat.player_id = ack["token"], ack["player_id"]
    return seat, ack


def test_only_listed_phones_join_and_take_the_lists_name_and_unit(app, rt):
    game, host, units = _roster_game(app, rt)
    _, ack = _join(app, game.pin, "张三丰", unit_id=units[0].id)
    assert ack["error"] == "phone_required" and "手机号" in ack["message"]
    _, ack = _join(app, game.pin, "张三丰", "1380000")
    assert ack["error"] == "invalid" and "11 位" in ack["message"]
    stranger, ack = _join(app, game.pin, "王五", "13900000009")
    assert ack["error"] == "not_on_roster" and "名单" in ack["message"]
    # The right phone with another name is refused the same way: a phone alone does not take a seat.
    _, wrong_name = _join(app, game.pin, "张三", "13800000001")
    assert wrong_name == ack

    # Listed: the unit typed is ignored for the list's; spaces, dashes and a Chinese input
    # method's full-width digits in the phone are fine.
    zhang, ack = _join(app, game.pin, " 张三丰 ", "１３８-0000-0001", unit_id=units[0].id)
    assert set(ack) == {"player_id", "token"}
    joined = host.last("game_player_joined")
    assert joined == {"player_id": zhang.player_id, "name": "张**", "unit": "测试单位1", "count": 1}
    snap = zhang.rejoin()
    assert snap["state"] == "lobby"
    player = rt.session.get(GamePlayer, zhang.player_id)
    assert (player.name, player.unit_id) == ("张三丰", units[1].id)
    assert game_roster.counts(rt.session, game.id) == (2, 1)
    assert host.act("watch")["listed"] == 2  # the big screen counts the lobby against the list


def test_a_roster_game_never_shows_full_names(app, rt):
    units = make_units(rt.session)
    people = [RosterRow("张三丰", "13800000001", units[1].id)]
    with pytest.raises(BadInput) as refused:
        make_game(rt, 2, roster=people, mask_names=False)
    assert refused.value.field == "nicknames" and "张*" in refused.value.message
    assert rt.session.scalar(select(func.count()).select_from(GameRosterEntry)) == 0


def test_same_phone_on_another_device_takes_back_its_seat(app, rt, clock):
    game, host, _ = _roster_game(app, rt)
    first, ack = _join(app, game.pin, "李四", "13800000002")
    _join(app, game.pin, "张三丰", "13800000001")  # a second player keeps the question open
    assert host.act("start") == {"state": "question"}
    assert first.answer(0, RIGHT["single"]) == {"accepted": True}

    second, ack = _join(app, game.pin, "李四", "13800000002")
    assert ack["player_id"] == first.player_id and ack["token"] != first.token
    snap = second.rejoin()
    assert snap["state"] == "question" and snap["answered"] is True  # the answer sent before counts, once
    assert first.rejoin()["error"] == "bad_token"  # the old device lost the seat
    assert second.answer(0, RIGHT["single"])["error"] == "already_answered"
    rt.session.expire_all()
    assert rt.session.scalar(select(func.count()).select_from(GamePlayer).where(GamePlayer.game_id == game.id)) == 2
    assert int(rt.state.games.info(game.id)["players"]) == 2

    # Removed by the host: the phone cannot come back.
    assert "error" not in host.act("remove", player_id=first.player_id)
    _, ack = _join(app, game.pin, "李四", "13800000002")
    assert ack["error"] == "player_removed"


def test_concurrent_joins_of_one_phone_make_one_seat_with_one_valid_token(app, rt):
    game, _, _ = _roster_game(app, rt)
    count = 8
    barrier = threading.Barrier(count)
    seats: list = [None] * count

    def join(i):
        barrier.wait()
        seats[i] = _join(app, game.pin, "张三丰", "13800000001")

    threads = [threading.Thread(target=join, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    acks = [ack for _, ack in seats]
    assert all("token" in ack for ack in acks), acks
    assert len({ack["player_id"] for ack in acks}) == 1
    valid = [seat for seat, _ in seats if "error" not in seat.rejoin()]
    assert len(valid) == 1
    rt.session.expire_all()
    assert rt.session.scalar(select(func.count()).select_from(GamePlayer).where(GamePlayer.game_id == game.id)) == 1
    assert rt.session.scalar(select(GameRosterEntry.player_id).where(GameRosterEntry.phone == "13800000001")) \
        == acks[0]["player_id"]


def test_open_games_still_take_anyone(app, rt):
    game, host_token = make_game(rt, 2)
    assert not game_roster.is_roster_only(rt.session, game.id)
    assert "listed" not in Host(app, game.pin, host_token).act("watch")
    _, ack = _join(app, game.pin, "王五")
    assert set(ack) == {"player_id", "token"}


def test_cli_makes_a_roster_game_from_a_file_or_a_contest(app, rt, runner, tmp_path):
    bank = make_bank(rt.session)
    make_units(rt.session)
    listed = tmp_path / "决赛名单.csv"
    listed.write_text(LIST_CSV, encoding="utf-8")
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "3", "--seconds", "15",
                                  "--roster", str(listed), "--json"])
    assert result.exit_code == 0, result.output
    game = games.find_game(rt, json.loads(result.output)["pin"])
    assert game_roster.counts(rt.session, game.id) == (2, 0)

    faulty = tmp_path / "坏名单.csv"
    faulty.write_text("姓名,手机号\n张三,12345\n", encoding="utf-8")
    before = rt.session.scalar(select(func.count()).select_from(GameRosterEntry))
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "3", "--seconds", "15",
                                  "--roster", str(faulty)])
    assert result.exit_code == 1 and "第2行" in result.output
    assert rt.session.scalar(select(func.count()).select_from(GameRosterEntry)) == before

    contest = make_contest(rt, bank, roster_only=True)
    store_roster(rt.session, contest.id, [RosterRow("赵六", "13800000006", None)])
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "3", "--seconds", "15",
                                  "--roster-contest", str(contest.id), "--json"])
    assert result.exit_code == 0, result.output
    game = games.find_game(rt, json.loads(result.output)["pin"])
    assert rt.session.scalars(select(GameRosterEntry.name).where(GameRosterEntry.game_id == game.id)).all() == ["赵六"]
    bare = make_contest(rt, bank)
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "3", "--seconds", "15",
                                  "--roster-contest", str(bare.id)])
    assert result.exit_code == 1 and "没有参赛名单" in result.output


def test_admin_uploads_a_roster_and_the_workbook_lists_who_came(app, client, rt):
    bank = make_bank(rt.session)
    make_units(rt.session)
    make_admin(app)
    sign_in(client)
    token = csrf_from(client, "/admin/games")
    form = {"csrf_token": token, "bank_id": bank.id, "count": "3", "seconds": "20", "title": "名单决赛"}
    bad = client.post("/admin/games", content_type="multipart/form-data",
                      data={**form, "roster_file": (io.BytesIO("姓名,手机号\n张三,1380\n".encode()), "名单.csv")})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "第2行" in page and "名单有误" in page
    made = client.post("/admin/games", content_type="multipart/form-data",
                       data={**form, "roster_file": (io.BytesIO(LIST_CSV.encode()), "名单.csv")})
    assert made.status_code == 302
    detail = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "名单 2 人，已入座 0 人" in detail
    pin = re.search(r"/screen/game/(\d{6})#", detail).group(1)
    seat, ack = _join(app, pin, "张三丰", "13800000001")
    assert "token" in ack
    gid = games.find_game(rt, pin).id
    book = client.get(f"/admin/games/{gid}/export.xlsx")
    assert book.status_code == 200
    frames = pd.read_excel(io.BytesIO(book.data), sheet_name=None, dtype=str)
    assert list(frames) == ["汇总", "选手排名", "单位排名", "题目统计", "参赛名单"]
    assert frames["选手排名"][["姓名", "手机号"]].values.tolist() == [["张三丰", "13800000001"]]
    assert frames["参赛名单"][["姓名", "是否参加"]].values.tolist() == [["张三丰", "已参加"], ["李四", "未参加"]]

    # Or a contest's roster, chosen in the same form; not both at once.
    contest = make_contest(rt, bank, roster_only=True)
    store_roster(rt.session, contest.id, [RosterRow("赵六", "13800000006", None)])
    assert f'value="{contest.id}"' in client.get("/admin/games").get_data(as_text=True)
    both = client.post("/admin/games", content_type="multipart/form-data",
                       data={**form, "roster_contest": str(contest.id),
                             "roster_file": (io.BytesIO(LIST_CSV.encode()), "名单.csv")})
    assert both.status_code == 400 and "二选一" in both.get_data(as_text=True)
    made = client.post("/admin/games", data={**form, "roster_contest": str(contest.id)})
    assert made.status_code == 302
    assert "名单 1 人，已入座 0 人" in client.get(made.headers["Location"]).get_data(as_text=True)


def test_purge_after_the_game_keeps_places_and_drops_names_and_phones(app, rt, runner):
    game, host, _ = _roster_game(app, rt)
    zhang, _ = _join(app, game.pin, "张三丰", "13800000001")
    li, _ = _join(app, game.pin, "李四", "13800000002")
    assert host.act("start") == {"state": "question"}
    assert zhang.answer(0, RIGHT["single"]) == {"accepted": True}
    result = runner.invoke(main, ["purge-game", str(game.id), "--yes"])
    assert result.exit_code == 1 and "结束后" in result.output  # not while the game runs
    assert host.act("end") == {"state": "over"}
    result = runner.invoke(main, ["purge-game", str(game.id), "--yes"])
    assert result.exit_code == 0 and "2 名选手" in result.output and "2 条名单记录" in result.output, result.output
    rt.session.expire_all()
    players = rt.session.execute(select(GamePlayer.name, GamePlayer.score, GamePlayer.client_address)
                                 .where(GamePlayer.game_id == game.id).order_by(GamePlayer.id)).all()
    assert [(name, address) for name, _, address in players] == [("已删除", None), ("已删除", None)]
    assert [score for _, score, _ in players] == [1000, 0]  # places stay
    assert rt.session.scalar(select(func.count()).select_from(GameRosterEntry)
                             .where(GameRosterEntry.game_id == game.id)) == 0
    podium = host.act("watch")["over"]
    assert "张" not in json.dumps(podium, ensure_ascii=False) and "已**" in json.dumps(podium, ensure_ascii=False)


def test_organizer_and_staff_purge_a_finished_game_from_the_admin_pages(app, rt):
    game, host, _ = _roster_game(app, rt)
    _join(app, game.pin, "张三丰", "13800000001")
    make_admin(app, "organizer1")
    make_admin(app, "staff1", role="staff")
    organizer, staff = app.test_client(), app.test_client()
    sign_in(organizer, "organizer1")
    sign_in(staff, "staff1")
    token = csrf_from(organizer, f"/admin/games/{game.id}")
    purge = f"/admin/games/{game.id}/purge-personal"

    # While the game runs: no button, and the request is refused with the data kept.
    assert "删除个人信息" not in organizer.get(f"/admin/games/{game.id}").get_data(as_text=True)
    assert "删除个人信息" not in staff.get("/admin/games").get_data(as_text=True)
    refused = organizer.post(purge, data={"csrf_token": token})
    assert refused.status_code == 403 and "结束后" in refused.get_data(as_text=True)
    assert organizer.post(purge).status_code == 400  # no CSRF token
    assert rt.session.scalar(select(func.count()).select_from(GameRosterEntry)
                             .where(GameRosterEntry.game_id == game.id)) == 2

    assert host.act("end") == {"state": "over"}
    page = organizer.get(f"/admin/games/{game.id}").get_data(as_text=True)
    assert "删除个人信息" in page and "张三丰" in page
    assert re.search(r"<title>([^<]*)</title>", page).group(1) == f"{game.title} · 现场竞赛"
    assert "删除个人信息" in staff.get("/admin/games").get_data(as_text=True)  # staff cannot open the game's page
    done = staff.post(purge, data={"csrf_token": csrf_from(staff, "/admin/games")})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/games")
    listing = staff.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 名选手的姓名和地址、2 条名单记录" in listing
    assert "删除个人信息" not in listing and "个人信息已删除" in listing  # nothing left to delete
    page = organizer.get(f"/admin/games/{game.id}").get_data(as_text=True)
    assert "张三丰" not in page and "个人信息已删除" in page and "删除个人信息" not in page
    again = organizer.post(purge, data={"csrf_token": token})  # nothing left to delete: harmless
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/admin/games/{game.id}")


def test_a_finished_game_without_players_offers_nothing_to_delete(app, rt):
    game, host_token = make_game(rt, 2)
    host = Host(app, game.pin, host_token)
    assert host.act("end") == {"state": "over"}
    make_admin(app, "organizer1")
    organizer = app.test_client()
    sign_in(organizer, "organizer1")
    page = organizer.get(f"/admin/games/{game.id}").get_data(as_text=True)
    assert "没有个人信息" in page and "删除个人信息" not in page and "个人信息已删除" not in page
    assert "个人信息已删除" not in organizer.get("/admin/games").get_data(as_text=True)
