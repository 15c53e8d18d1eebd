"""`contest create-game` (API.md): prints the PIN, the host token and the host link."""

from __future__ import annotations

import json

from contest.cli import main
from contest.play import games
from tests.game_support import Host
from tests.play_support import make_bank


def test_create_game_prints_pin_token_and_host_url(app, rt, runner):
    bank = make_bank(rt.session)
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "5", "--seconds", "15",
                                  "--scoring", "plain", "--buzzer", "2", "--json"])
    assert result.exit_code == 0, result.output
    links = json.loads(result.output)
    assert set(links) >= {"pin", "host_token", "host_url"}
    assert links["host_url"].endswith(f"/screen/game/{links['pin']}#{links['host_token']}")
    snap = Host(app, links["pin"], links["host_token"]).act("watch")
    assert snap["state"] == "lobby" and snap["count"] == 5
    game = games.find_game(rt, links["pin"])
    assert game.scoring == "plain" and game.seconds == 15 and game.questions[1]["buzzer"] is True


def test_create_game_refuses_bad_input_in_chinese(app, rt, runner):
    bank = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=3)
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "3", "--seconds", "15"])
    assert result.exit_code == 1 and "只有 2 道" in result.output
    result = runner.invoke(main, ["create-game", "--bank", "99999", "--questions", "1", "--seconds", "15"])
    assert result.exit_code == 1 and "题库不存在" in result.output
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--questions", "1", "--seconds", "2"])
    assert result.exit_code == 1 and "5 到 600 秒" in result.output


def test_create_game_draws_by_rules(app, rt, runner):
    bank = make_bank(rt.session, singles=4, multiples=2, judges=3, fills=1)
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--paper", "judge=3,multiple=1",
                                  "--seconds", "15", "--json"])
    assert result.exit_code == 0, result.output
    game = games.find_game(rt, json.loads(result.output)["pin"])
    bank_questions = games.papers.BANKS.questions(rt.session, bank.id)
    assert sorted(bank_questions[q["qid"]].type for q in game.questions) == ["judge", "judge", "judge", "multiple"]
    result = runner.invoke(main, ["create-game", "--bank", str(bank.id), "--paper", "fill=1", "--seconds", "15"])
    assert result.exit_code == 1 and "填空" in result.output
