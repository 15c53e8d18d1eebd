"""Live games over Socket.IO test clients: a whole game, no key before close, late and repeated
answers, rejoin, host controls and the PIN rules."""

from __future__ import annotations

import threading

import pytest

from contest.errors import TooMany
from contest.play import games
from tests.game_support import (
    RIGHT,
    WRONG,
    Host,
    Phone,
    close_due,
    make_game,
    make_units,
    secret_fields,
)


def _setup(app, rt, count=3, players=3, **changes):
    game, host_token = make_game(rt, count, **changes)
    units = make_units(rt.session)
    host = Host(app, game.pin, host_token)
    assert host.act("watch")["state"] == "lobby"
    phones = []
    for i, name in enumerate(["张三丰", "李四", "欧阳娜娜"][:players]):
        phone = Phone(app, game.pin)
        ack = phone.join(name, units[i % 2].id)
        assert set(ack) == {"player_id", "token"}
        phones.append(phone)
    return game, host, phones, units


def test_whole_game_to_the_podium(app, rt, clock):
    game, host, phones, units = _setup(app, rt)
    joined = [f["body"] for f in host.received() if f["name"] == "game_player_joined"]
    assert [j["name"] for j in joined] == ["张**", "李*", "欧阳**"] and joined[-1]["count"] == 3

    assert host.act("start") == {"state": "question"}
    question = phones[0].last("game_question")
    assert question["index"] == 0 and question["count"] == 3 and question["type"] == "single"
    assert question["options"] == ["甲", "乙", "丙", "丁"] and question["deadline"] and question["server_time"]

    # Q1: the first right fast, the second right later, the third wrong; all answered closes it.
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}
    clock.advance(10)
    assert phones[1].answer(0, RIGHT["single"]) == {"accepted": True}
    assert phones[0].last("game_result") is None
    assert phones[2].answer(0, WRONG["single"]) == {"accepted": True}
    result = phones[1].last("game_result")
    assert result["index"] == 0 and result["correct_answer"] == ["B"]
    assert result["distribution"] == {"A": 1, "B": 2, "C": 0, "D": 0}
    assert [(r["rank"], r["name"], r["score"]) for r in result["top"]] == [(1, "张**", 1000), (2, "李*", 750), (3, "欧阳**", 0)]
    mine = phones[1].last("game_you")
    assert mine == {"index": 0, "rank": 2, "score": 750, "players": 3, "answered": True, "correct": True, "points": 750}

    # Q2 (judge) closes by the clock: one answer, then the deadline passes.
    assert host.act("next") == {"state": "question"}
    clock.advance(2)
    assert phones[2].answer(1, RIGHT["judge"]) == {"accepted": True}  # 500 + 500 * 18/20
    clock.advance(17)
    assert close_due(app) == 0  # not yet
    clock.advance(1.3)
    assert close_due(app) > 0
    result = phones[0].last("game_result")
    assert result["index"] == 1 and result["distribution"] == {"true": 1, "false": 0} and result["answered"] == 1

    # Q3 (multiple), then the end: podium and units.
    host.act("next")
    for phone in phones:
        phone.answer(2, RIGHT["multiple"])
    assert host.act("next") == {"state": "over"}
    over = phones[0].last("game_over")
    assert [p["rank"] for p in over["podium"]] == [1, 2, 3]
    assert [(p["name"], p["score"]) for p in over["podium"]] == [("张**", 2000), ("欧阳**", 1950), ("李*", 1750)]
    assert {u["name"] for u in over["units"]} == {units[0].name, units[1].name}
    assert over["units"][0]["rank"] == 1 and over["unit_ranking"] == "avg"

    # The record in SQL: every answer with its points, totals settled.
    from contest.models import Game, GameAnswer, GamePlayer
    rt.session.expire_all()
    assert rt.session.get(Game, game.id).state == "over"
    assert rt.session.query(GameAnswer).filter_by(game_id=game.id).count() == 7
    totals = {p.name: p.score for p in rt.session.query(GamePlayer).filter_by(game_id=game.id)}
    board = {r["name"]: r["score"] for r in over["top"]}
    assert totals["张三丰"] == board["张**"] and sum(totals.values()) == sum(board.values())


# Everything a screen may know of an open question: a new field must be added here knowingly.
QUESTION_FIELDS = {"index", "count", "type", "stem", "options", "deadline", "server_time", "seconds", "points",
                   "buzzer", "paused", "left_ms"}


def test_no_frame_carries_the_key_before_the_question_closes(app, rt):
    game, host, phones, _ = _setup(app, rt, count=2)
    host.act("start")
    phones[0].answer(0, RIGHT["single"])
    phones[1].answer(0, WRONG["single"])
    for who in [*phones, host]:
        frames = who.received()
        before = frames[: next((i for i, f in enumerate(frames) if f["name"] == "game_result"), len(frames))]
        assert before and all(not secret_fields(f["body"]) for f in before), before
        assert {f["name"] for f in before} <= {"game_player_joined", "game_question", "game_progress"}
        for frame in before:
            if frame["name"] == "game_question":
                assert set(frame["body"]) <= QUESTION_FIELDS
    snap = phones[0].rejoin()
    assert snap["question"] and not secret_fields(snap) and set(snap["question"]) <= QUESTION_FIELDS
    assert snap["score"] == 0 and snap["rank"] == 1  # points move only when the question closes
    watch = host.act("watch")
    assert not secret_fields(watch) and set(watch["question"]) <= QUESTION_FIELDS


def test_late_and_repeated_answers_are_refused_and_change_nothing(app, rt, clock):
    game, host, phones, _ = _setup(app, rt, count=2)
    host.act("start")
    assert phones[0].answer(0, WRONG["single"]) == {"accepted": True}
    again = phones[0].answer(0, RIGHT["single"])
    assert again["error"] == "already_answered" and again["message"]
    clock.advance(20.3)
    late = phones[1].answer(0, RIGHT["single"])
    assert late["error"] == "deadline_passed"
    assert phones[1].answer(1, RIGHT["judge"])["error"] == "deadline_passed"  # not open yet
    assert phones[2].answer(0, ["Z"])["error"] == "invalid"
    close_due(app)
    result = phones[0].last("game_result")
    assert result["distribution"]["A"] == 1 and result["distribution"]["B"] == 0 and result["answered"] == 1
    assert all(r["score"] == 0 for r in result["top"])


def test_rejoin_gives_the_same_seat_and_an_answer_counts_once(app, rt, clock):
    game, host, phones, _ = _setup(app, rt, count=2)
    host.act("start")
    clock.advance(5)
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}
    # The phone drops and comes back on a new connection with its token.
    again = Phone(app, game.pin)
    again.token = phones[0].token
    snap = again.rejoin()
    assert snap["state"] == "question" and snap["answered"] is True and snap["score"] == 0
    assert snap["question"]["index"] == 0 and snap["deadline"] == snap["question"]["deadline"]
    assert snap["server_time"] and snap["player_id"] == phones[0].player_id and 14000 <= snap["left_ms"] <= 15000
    assert again.answer(0, RIGHT["single"])["error"] == "already_answered"
    host.act("next")
    assert again.last("game_result")["answered"] == 1
    assert again.last("game_you")["score"] == phones[0].last("game_you")["score"] == 875
    assert Phone(app, game.pin).emit("game_rejoin", {"pin": game.pin, "token": "nope"})["error"] == "bad_token"


def test_state_survives_a_redis_flush(app, rt, clock):
    game, host, phones, _ = _setup(app, rt, count=2)
    host.act("start")
    phones[0].answer(0, RIGHT["single"])
    app.extensions["jd.state"].redis.flushdb()  # Redis lost everything mid-question
    snap = phones[0].rejoin()
    assert snap["state"] == "question" and snap["answered"] is True
    assert phones[0].answer(0, RIGHT["single"])["error"] == "already_answered"
    assert phones[1].answer(0, RIGHT["single"]) == {"accepted": True}
    host.act("next")
    result = phones[1].last("game_result")
    assert [r["score"] > 0 for r in result["top"]] == [True, True, False]
    app.extensions["jd.state"].redis.flushdb()  # lost again while the result is on the screens
    shown = {name: value for name, value in result.items() if name != "closed_at"}  # the frame's own
    assert phones[2].rejoin()["result"] == shown  # the same distribution and board, not zeros


def test_host_controls_pause_resume_skip_remove_end(app, rt, clock):
    game, host, phones, _ = _setup(app, rt, count=3)
    wrong = Host(app, game.pin, "not-the-token")
    assert wrong.act("start")["error"] == "bad_host_token"
    assert host.act("dance")["error"] == "invalid"
    host.act("start")
    clock.advance(5)
    assert host.act("pause") == {"state": "question"}
    assert phones[0].last("game_clock") == {"index": 0, "paused": True, "left_ms": 15000, "deadline": None}
    clock.advance(60)  # a long pause: the question stays open
    assert close_due(app) == 0
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}
    host.act("resume")
    resumed = phones[1].last("game_clock")
    assert resumed["paused"] is False and resumed["left_ms"] == 15000
    clock.advance(14)
    assert phones[1].answer(0, RIGHT["single"]) == {"accepted": True}

    # Remove a player: their seat is gone, the host screens hear of it.
    assert host.act("remove", player_id=phones[2].player_id) == {"state": "result"}  # the rest had answered
    assert phones[2].last("game_removed") == {"player_id": phones[2].player_id}
    assert phones[2].rejoin()["error"] == "bad_token"
    assert host.last("game_player_removed")["count"] == 2
    # Everyone left has answered: closed. Skip the second question: no points for it.
    assert phones[0].last("game_result")["index"] == 0
    host.act("next")
    phones[0].answer(1, RIGHT["judge"])
    host.act("skip")
    assert phones[0].last("game_result")["skipped"] is True
    assert phones[0].last("game_question")["index"] == 2
    assert host.act("end") == {"state": "over"}
    assert phones[0].last("game_over")["podium"]
    assert phones[0].join("新人")["error"] == "game_over"


def test_a_second_host_screen_stays_in_step(app, rt):
    game, host, phones, _ = _setup(app, rt, count=2)
    laptop = Host(app, game.pin, host.host_token)
    snap = laptop.act("watch")
    assert snap["state"] == "lobby" and snap["pin"] == game.pin and len(snap["lobby"]) == 3
    host.act("start")
    assert laptop.last("game_question")["index"] == 0
    assert laptop.act("next") == {"state": "result"}
    assert host.last("game_result")["index"] == 0
    assert host.act("watch")["state"] == "result"


def test_join_checks_pin_name_unit_and_rate_limits_wrong_pins(app, rt):
    game, _ = make_game(rt, 1)
    pin = game.pin  # handlers share this thread's session and close it: keep plain values
    phone = Phone(app, pin)
    assert phone.join("")["error"] == "invalid"
    assert phone.join("名" * 21)["error"] == "invalid"
    assert phone.join("王五", unit_id=99999)["error"] == "invalid"
    assert phone.emit("game_join", {"pin": "12ab", "name": "王五"})["error"] == "bad_pin"
    assert "token" in phone.join("<b>王五</b>")
    other = "000000" if pin != "000000" else "000001"
    refusals = [phone.emit("game_join", {"pin": other, "name": "王五"})["error"] for _ in range(games.JOIN_ALLOWANCES["bad_pin"][0] + 1)]
    assert refusals[0] == "game_not_found" and refusals[-1] == "rate_limited"
    # The address is now blocked even with the right PIN: walking PINs gains nothing.
    assert phone.join("王五")["error"] == "rate_limited"


def test_pins_are_unique_among_live_games(app, rt):
    pins = {make_game(rt, 1)[0].pin for _ in range(20)}
    assert len(pins) == 20 and all(len(p) == 6 and p.isdigit() for p in pins)


def test_only_game_join_tells_which_pins_exist(app, rt):
    """Rejoin, answer, buzz and host calls answer an unknown PIN exactly as a wrong token, so they
    cannot walk the PIN space around the rate-limited join."""
    game, host_token = make_game(rt, 1)
    pin = game.pin
    unknown = "000000" if pin != "000000" else "000001"
    phone = Phone(app, pin)
    for event, extra in (("game_rejoin", {}), ("game_answer", {"index": 0, "answer": ["B"]}),
                         ("game_buzz", {"index": 0})):
        known = phone.emit(event, {"pin": pin, "token": "forged", **extra})
        assert phone.emit(event, {"pin": unknown, "token": "forged", **extra}) == known
        assert known["error"] == "bad_token"
    assert Host(app, unknown, "forged").act("watch") == Host(app, pin, "forged").act("watch")


def test_joins_are_limited_per_address_and_per_pin(app, rt, monkeypatch):
    game, _ = make_game(rt, 1)
    other, _ = make_game(rt, 1)
    pin, other_pin = game.pin, other.pin
    monkeypatch.setitem(games.JOIN_ALLOWANCES, "join_addr", (2, 600))
    monkeypatch.setitem(games.JOIN_ALLOWANCES, "join_pin", (4, 600))
    assert "token" in games.join(rt, pin, "甲", None, "10.0.0.1").ack
    assert "token" in games.join(rt, pin, "乙", None, "10.0.0.1").ack
    with pytest.raises(TooMany):  # a third join from one address
        games.join(rt, pin, "丙", None, "10.0.0.1")
    assert "token" in games.join(rt, pin, "丙", None, "10.0.0.2").ack
    assert "token" in games.join(rt, pin, "丁", None, "10.0.0.3").ack
    with pytest.raises(TooMany):  # a fifth join to one PIN, from a fresh address
        games.join(rt, pin, "戊", None, "10.0.0.4")
    assert "token" in games.join(rt, other_pin, "戊", None, "10.0.0.4").ack  # other games are untouched


def test_a_removed_player_stays_off_the_board(app, rt):
    game, host, phones, _units = _setup(app, rt, players=2)
    host.act("start")
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}
    host.act("remove", player_id=phones[0].player_id)  # answered, then removed before the close
    host.act("next")
    result = phones[1].last("game_result")
    assert [(row["name"], row["score"]) for row in result["top"]] == [("李*", 0)]  # not "?" with 1,000
    assert rt.state.games.answers(game.id, 0) == {}  # the distribution counts the seated only
    assert [pid for pid, _score in rt.state.games.board(game.id)] == [phones[1].player_id]


def test_malformed_numbers_are_refused_not_raised(app, rt):
    game, host, phones, _units = _setup(app, rt, players=1)
    host.act("start")
    for index in (float("inf"), 0.9, True, "x"):
        assert phones[0].answer(index, RIGHT["single"])["error"] == "invalid", index
        assert phones[0].buzz(index)["error"] == "invalid", index
    for player_id in (float("inf"), 10**30, True, "1"):
        assert host.act("remove", player_id=player_id)["error"] == "invalid", player_id
    assert phones[0].answer(0, RIGHT["single"]) == {"accepted": True}


def test_an_over_games_state_leaves_redis_with_its_pin(app, rt):
    from contest.state import keys

    game, host, phones, _units = _setup(app, rt, count=1, players=1)
    host.act("start")
    phones[0].answer(0, RIGHT["single"])
    assert host.act("end") == {"state": "over"}
    held = [key for key in (keys.game_pin(game.pin), *keys.game_keys(game.id, 1)) if rt.state.redis.exists(key)]
    assert keys.game_players(game.id) in held and keys.game_answers(game.id, 0) in held
    assert all(0 < rt.state.redis.ttl(key) <= 3600 for key in held)


def test_requests_that_find_the_game_lost_rebuild_it_once(app, rt, monkeypatch):
    from contest import runtime
    from contest.play import game_record

    game, _host, _phones, _units = _setup(app, rt, players=2)
    app.extensions["jd.state"].redis.flushdb()
    rebuilt, real, another = [], game_record.rebuild, threading.Event()

    def rebuild(rt_, game_) -> None:  # the real rebuild, counted; the first holds a moment for any other
        rebuilt.append(game_.id)
        if len(rebuilt) == 1:
            another.wait(1)  # the others noticed the loss meanwhile: they must wait, not rebuild too
        else:
            another.set()
        real(rt_, game_)

    monkeypatch.setattr(game_record, "rebuild", rebuild)
    barrier = threading.Barrier(6)

    def notice() -> None:
        with app.app_context():
            barrier.wait()
            games.ensure_built(runtime.current(), game)

    threads = [threading.Thread(target=notice) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert rebuilt == [game.id]  # a second rebuild, from an older read, would wipe answers taken since
    assert rt.state.games.info(game.id)["state"] == "lobby"


def test_a_burst_of_joins_fills_the_game_to_its_cap_and_no_further(app, rt):
    game, host_token = make_game(rt, 2, max_players=3)
    units = make_units(rt.session)
    host = Host(app, game.pin, host_token)
    host.act("watch")
    phones = [Phone(app, game.pin) for _ in range(8)]
    barrier, acks = threading.Barrier(len(phones)), {}

    def join(i: int) -> None:
        barrier.wait()
        acks[i] = phones[i].join(f"选手{i}", units[0].id)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    seated = [ack for ack in acks.values() if "token" in ack]
    assert len(seated) == 3 and sorted(ack.get("error") for ack in acks.values() if "token" not in ack) == ["game_full"] * 5
    assert int(rt.state.games.info(game.id)["players"]) == 3 == len(rt.state.games.players(game.id))
    assert Phone(app, game.pin).join("迟到的人", units[0].id)["error"] == "game_full"
