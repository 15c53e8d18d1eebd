"""Buzzer rounds (抢答): the order is fixed at arrival under concurrent buzzes, the host judges."""

from __future__ import annotations

import threading

from tests.game_support import Host, Phone, close_due, make_game, make_units, secret_fields

BUZZERS = 12


def _buzzer_game(app, rt, players):
    game, host_token = make_game(rt, 2, buzzer={1}, doubled={1})
    units = make_units(rt.session)
    host = Host(app, game.pin, host_token)
    host.act("watch")
    phones = []
    for i in range(players):
        phone = Phone(app, game.pin)
        assert "token" in phone.join(f"选手{i}", units[i % 3].id)
        phones.append(phone)
    assert host.act("start") == {"state": "question"}
    assert phones[0].last("game_question")["buzzer"] is True
    return game, host, phones


def test_concurrent_buzzes_get_one_place_each_in_arrival_order(app, rt):
    game, host, phones = _buzzer_game(app, rt, BUZZERS)
    barrier = threading.Barrier(BUZZERS)
    acks: dict[int, dict] = {}

    def press(i):
        barrier.wait()
        acks[i] = phones[i].buzz(0)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(BUZZERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    places = sorted(ack["place"] for ack in acks.values())
    assert places == list(range(1, BUZZERS + 1)), acks
    # Everyone sees the same final order, and it is the order the places were given in.
    finals = [max((f["body"] for f in p.received() if f["name"] == "game_buzz"), key=lambda b: len(b["order"]))
              for p in phones]
    order = [row["player_id"] for row in finals[0]["order"]]
    assert all([row["player_id"] for row in final["order"]] == order for final in finals)
    by_place = {ack["place"]: phones[i].player_id for i, ack in acks.items()}
    assert order == [by_place[p] for p in range(1, BUZZERS + 1)]
    assert phones[0].buzz(0)["error"] == "already_buzzed"
    assert phones[0].answer(0, ["B"])["error"] == "wrong_kind"


def test_wrong_passes_to_the_next_and_right_closes_with_points(app, rt, clock):
    game, host, phones = _buzzer_game(app, rt, 3)
    assert host.act("judge", right=True)["error"] == "nobody_waiting"
    for i in (2, 0, 1):
        clock.advance(0.5)
        phones[i].buzz(0)
    assert host.act("judge", right=False) == {"state": "question"}
    order = phones[1].last("game_buzz")["order"]
    assert [(r["player_id"], r["right"]) for r in order] == [(phones[2].player_id, False), (phones[0].player_id, None),
                                                             (phones[1].player_id, None)]
    assert host.act("judge", right=True) == {"state": "result"}
    result = phones[1].last("game_result")
    assert result["top"][0]["name"] == "选**" and result["top"][0]["score"] == 2000  # a doubled question
    assert [r["right"] for r in result["buzz"]] == [False, True, None]
    assert phones[0].last("game_you")["points"] == 2000 and phones[2].last("game_you")["points"] == 0
    frames = [f for f in phones[1].received()]
    before = frames[: next(i for i, f in enumerate(frames) if f["name"] == "game_result")]
    assert all(not secret_fields(f["body"]) for f in before)


def test_buzzer_question_waits_for_the_verdict_after_the_clock(app, rt, clock):
    game, host, phones = _buzzer_game(app, rt, 2)
    phones[1].buzz(0)
    clock.advance(21)
    assert close_due(app) == 0  # the host is still judging
    assert phones[0].buzz(0)["error"] == "deadline_passed"
    assert host.act("judge", right=False) == {"state": "result"}  # nobody left and time is up
    assert phones[0].last("game_result")["index"] == 0


def test_a_removed_buzzer_is_not_judged(app, rt):
    game, host, phones = _buzzer_game(app, rt, 2)
    phones[0].buzz(0)
    phones[1].buzz(0)
    host.act("remove", player_id=phones[0].player_id)
    assert [row["player_id"] for row in host.last("game_buzz")["order"]] in ([phones[0].player_id, phones[1].player_id],
                                                                             [phones[1].player_id])
    assert host.act("judge", right=True) == {"state": "result"}  # the verdict is the seated second buzzer's
    result = phones[1].last("game_result")
    assert [(row["name"], row["score"]) for row in result["top"]] == [("选**", 2000)]
    assert [row["player_id"] for row in result["buzz"]] == [phones[1].player_id]
