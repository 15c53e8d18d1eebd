"""Scoring in live games: speed and plain modes, streak bonus, double points, the top 10 and own
rank, unit standings by average or sum, questions drawn by rules."""

from __future__ import annotations

import pytest

from contest.errors import BadInput
from contest.models import Game
from contest.play import game_record, games, papers
from contest.play.entry import hash_token
from tests.game_support import RIGHT, WRONG, Host, Phone, make_game, make_units
from tests.play_support import make_bank


def _seated(app, rt, names, count=3, unit_of=None, **changes):
    game, host_token = make_game(rt, count, **changes)
    units = make_units(rt.session, 2) if unit_of else []
    host = Host(app, game.pin, host_token)
    host.act("watch")
    phones = []
    for i, name in enumerate(names):
        phone = Phone(app, game.pin)
        unit = units[unit_of[i]].id if unit_of else None
        assert "token" in phone.join(name, unit)
        phones.append(phone)
    assert host.act("start") == {"state": "question"}
    return game, host, phones, units


def _points(phone, index):
    mine = phone.last("game_you")
    assert mine["index"] == index
    return mine["points"]


def test_speed_mode_pays_for_time_left_and_plain_mode_does_not(app, rt, clock):
    game, host, phones, _ = _seated(app, rt, ["快手", "慢手"], count=1)
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}
    clock.advance(15)
    phones[1].answer(0, RIGHT["single"])
    assert (_points(phones[0], 0), _points(phones[1], 0)) == (1000, 625)  # 500 + 500 * 5/20

    game, host, phones, _ = _seated(app, rt, ["快手", "慢手"], count=1, scoring="plain")
    phones[0].answer(0, RIGHT["single"])
    clock.advance(15)
    phones[1].answer(0, RIGHT["single"])
    assert (_points(phones[0], 0), _points(phones[1], 0)) == (1000, 1000)


def test_streak_bonus_grows_with_right_answers_in_a_row_and_resets(app, rt):
    game, host, phones, _ = _seated(app, rt, ["连对", "断档"], count=3, streak_bonus=True)
    runs = {0: [], 1: []}
    for index, kind in enumerate(["single", "judge", "multiple"]):
        if index:
            assert host.act("next") == {"state": "question"}
        phones[0].answer(index, RIGHT[kind])
        phones[1].answer(index, WRONG[kind] if index == 1 else RIGHT[kind])
        for who in (0, 1):
            runs[who].append(_points(phones[who], index))
    assert host.act("next") == {"state": "over"}
    assert runs == {0: [1000, 1100, 1200], 1: [1000, 0, 1000]}
    assert phones[0].last("game_over")["podium"][0]["score"] == 3300


def test_without_streak_bonus_a_run_earns_nothing_extra(app, rt):
    game, host, phones, _ = _seated(app, rt, ["连对"], count=2)
    phones[0].answer(0, RIGHT["single"])
    host.act("next")
    phones[0].answer(1, RIGHT["judge"])
    assert _points(phones[0], 1) == 1000


def test_double_points_round(app, rt, clock):
    game, host, phones, _ = _seated(app, rt, ["甲选手"], count=2, doubled={2})
    phones[0].answer(0, RIGHT["single"])
    host.act("next")
    question = phones[0].last("game_question")
    assert question["index"] == 1 and question["points"] == 2
    clock.advance(10)
    phones[0].answer(1, RIGHT["judge"])
    assert _points(phones[0], 1) == 1500  # 2 * (500 + 500 * 10/20)


def test_top_ten_on_the_screen_and_own_rank_on_every_phone(app, rt, clock):
    names = [f"选手{i:02d}" for i in range(12)]
    game, host, phones, _ = _seated(app, rt, names, count=1)
    for phone in phones:
        phone.answer(0, RIGHT["single"])
        clock.advance(1)
    result = host.last("game_result")
    assert [r["rank"] for r in result["top"]] == list(range(1, 11)) and result["answered"] == 12
    assert [r["score"] for r in result["top"]] == sorted((r["score"] for r in result["top"]), reverse=True)
    assert [phone.last("game_you")["rank"] for phone in phones] == list(range(1, 13))
    assert all(phone.last("game_you")["players"] == 12 for phone in phones)


@pytest.mark.parametrize("ranking, first", [("avg", 1), ("sum", 0)])
def test_unit_standings_by_average_or_sum(app, rt, clock, ranking, first):
    # Unit 0: 1000 and 0 (sum 1000, average 500); unit 1: one player with 900.
    game, host, phones, units = _seated(app, rt, ["一号", "二号", "三号"], count=1, unit_of=[0, 0, 1],
                                        unit_ranking=ranking)
    phones[0].answer(0, RIGHT["single"])
    phones[1].answer(0, WRONG["single"])
    clock.advance(4)
    phones[2].answer(0, RIGHT["single"])
    assert host.act("next") == {"state": "over"}
    over = host.last("game_over")
    assert over["unit_ranking"] == ranking
    rows = {u["name"]: u for u in over["units"]}
    assert rows[units[0].name]["score"] == (500 if ranking == "avg" else 1000)
    assert rows[units[1].name]["score"] == 900
    assert over["units"][0]["name"] == units[first].name and over["units"][0]["rank"] == 1


def test_questions_drawn_by_rules(app, rt):
    bank = make_bank(rt.session, singles=4, multiples=2, judges=2, fills=2)
    rules = papers.parse_rules("single=2,judge:工会=1")
    game, _ = games.create_game(rt, games.GameSettings(bank_id=bank.id, rules=rules))
    types = [papers.BANKS.questions(rt.session, bank.id)[q["qid"]].type for q in game.questions]
    assert sorted(types) == ["judge", "single", "single"]
    with pytest.raises(BadInput, match="填空"):
        games.create_game(rt, games.GameSettings(bank_id=bank.id, rules=papers.parse_rules("fill=1")))
    with pytest.raises(BadInput, match="只有 2 道"):
        games.create_game(rt, games.GameSettings(bank_id=bank.id, rules=papers.parse_rules("judge=3")))


def test_a_reused_game_id_never_scores_with_another_games_cached_facts(app, rt):
    """Ids come back with a new database (or a restored backup): the per-process facts are checked
    against the game's fingerprint in Redis, so the new game's double points count."""
    game, host, phones, _ = _seated(app, rt, ["先答", "后答"], count=1)
    phones[0].answer(0, RIGHT["single"])  # the facts of this game are now cached in the process
    stored = rt.session.get(Game, game.id)
    stored.questions = [{**q, "points": 2} for q in stored.questions]
    stored.host_token_hash = hash_token("another-game")
    rt.session.commit()
    game_record.rebuild(rt, stored)
    phones[1].answer(0, RIGHT["single"])
    Host(app, game.pin, "another-game").act("next")
    assert _points(phones[1], 0) == 2000
