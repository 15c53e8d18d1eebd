"""The audit log of accepted answers (issue 7) and `contest verify-ranking` that recomputes the ranking from it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from contest.cli import main
from contest.models import Answer, AnswerLog, Attempt, Question
from contest.play import privacy
from contest.play.contests import get_contest
from contest.state import keys
from tests.play_support import make_bank, make_contest, make_units, right_answer

WORKERS = [("欧阳娜娜", "13800138001"), ("张三丰", "13912345678"), ("李四", "15000000002"), ("王五", "15000000003")]


def _enter(client, cid, unit_id, name, phone) -> dict:
    reply = client.post(f"/api/v1/contests/{cid}/entrants", json={"name": name, "phone": phone, "unit_id": unit_id})
    return {"Authorization": f"Bearer {reply.get_json()['token']}"}


def _start(client, cid, headers) -> dict:
    return client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()


def _put(client, aid, qid, headers, answer):
    return client.put(f"/api/v1/attempts/{aid}/answers/{qid}", headers=headers, json={"answer": answer})


def _log(rt, aid=None) -> list[tuple]:
    rt.session.expire_all()
    query = select(AnswerLog.attempt_id, AnswerLog.entrant_id, AnswerLog.contest_id, AnswerLog.question_id,
                   AnswerLog.answer, AnswerLog.received_at).order_by(AnswerLog.id)
    if aid is not None:
        query = query.where(AnswerLog.attempt_id == aid)
    return [tuple(row) for row in rt.session.execute(query)]


def test_every_accepted_answer_is_logged_and_refused_ones_are_not(app, client, rt, clock):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    headers = _enter(client, contest.id, unit.id, *WORKERS[0])
    other = _enter(client, contest.id, unit.id, *WORKERS[1])
    attempt = _start(client, contest.id, headers)
    aid = attempt["attempt_id"]
    entrant = rt.session.get(Attempt, aid).entrant_id
    single = next(q for q in attempt["questions"] if q["type"] == "single")
    judge = next(q for q in attempt["questions"] if q["type"] == "judge")
    wrong = next(letter for letter in "ABCD" if [letter] != right_answer(rt.session, single))

    first_at = clock.now()
    assert _put(client, aid, single["id"], headers, [wrong]).status_code == 200
    clock.advance(5)
    second_at = clock.now()
    assert _put(client, aid, single["id"], headers, right_answer(rt.session, single)).status_code == 200
    assert _put(client, aid, judge["id"], headers, False).status_code == 200
    # Refused: a letter the question does not have, a malformed judge answer, someone else's attempt.
    assert _put(client, aid, single["id"], headers, ["H"]).status_code == 400
    assert _put(client, aid, judge["id"], headers, "yes").status_code == 400
    assert _put(client, aid, judge["id"], other, True).status_code == 403
    # Refused: after the deadline (and its transit allowance), by the server clock.
    clock.set(rt.session.get(Attempt, aid).deadline + timedelta(seconds=3))
    assert _put(client, aid, judge["id"], headers, True).status_code == 409

    question = rt.session.get(Question, single["id"])
    key = question.answer  # bank letters, whatever order was shown
    wrong_in_bank = ["ABCD"[question.options.index(single["options"]["ABCD".index(wrong)])]]
    assert _log(rt) == [
        (aid, entrant, contest.id, single["id"], wrong_in_bank, first_at),
        (aid, entrant, contest.id, single["id"], key, second_at),
        (aid, entrant, contest.id, judge["id"], False, second_at),
    ]
    # The last logged answer of each question is the stored one.
    stored = dict(rt.session.execute(select(Answer.question_id, Answer.answer).where(Answer.attempt_id == aid)).all())
    assert stored == {single["id"]: key, judge["id"]: False}


def test_an_answer_and_its_log_row_are_written_together(app, client, rt):
    """A submitted attempt stores nothing more and logs nothing more: the row and its log go together."""
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    headers = _enter(client, contest.id, unit.id, *WORKERS[0])
    attempt = _start(client, contest.id, headers)
    aid, question = attempt["attempt_id"], attempt["questions"][0]
    assert _put(client, aid, question["id"], headers, right_answer(rt.session, question)).status_code == 200
    assert client.post(f"/api/v1/attempts/{aid}/submit", headers=headers).status_code == 200
    assert _put(client, aid, question["id"], headers, right_answer(rt.session, question)).status_code == 409
    assert len(_log(rt, aid)) == 1
    rt.session.expire_all()
    assert rt.session.scalar(select(Answer.received_at).where(Answer.attempt_id == aid)) == _log(rt, aid)[0][5]


def _play_contest(client, rt, clock, ranking_mode="best"):
    """Four workers, some twice and on two days, right and wrong answers, some overwritten."""
    contest = make_contest(rt, make_bank(rt.session), ranking_mode=ranking_mode, partial_credit=True)
    units = make_units(rt.session)
    tokens = [_enter(client, contest.id, units[i % 3].id, *worker) for i, worker in enumerate(WORKERS)]
    for day in range(2):
        for i, headers in enumerate(tokens):
            for rounds in range(1 + (i + day) % 2):
                attempt = _start(client, contest.id, headers)
                aid = attempt["attempt_id"]
                for n, question in enumerate(attempt["questions"]):
                    if question["type"] == "judge":
                        _put(client, aid, question["id"], headers, False)  # changed below, or left wrong
                    right = (n + i + rounds) % 3 != 0
                    answer = right_answer(rt.session, question) if right else ["A"] if question["type"] in (
                        "single", "multiple") else "不知道" if question["type"] == "fill" else False
                    assert _put(client, aid, question["id"], headers, answer).status_code == 200
                clock.advance(7 + 3 * i + rounds)
                assert client.post(f"/api/v1/attempts/{aid}/submit", headers=headers).status_code == 200
        clock.advance(24 * 3600)
    # One attempt left to the server to finish after its deadline.
    attempt = _start(client, contest.id, tokens[0])
    question = attempt["questions"][0]
    _put(client, attempt["attempt_id"], question["id"], tokens[0], right_answer(rt.session, question))
    clock.set(rt.session.get(Attempt, attempt["attempt_id"]).deadline + timedelta(seconds=5))
    assert client.get(f"/api/v1/attempts/{attempt['attempt_id']}", headers=tokens[0]).status_code == 200
    assert client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=100").status_code == 200
    return contest.id


@pytest.mark.parametrize("ranking_mode", ["best", "daily_sum"])
def test_verify_ranking_agrees_on_a_played_contest_and_catches_a_changed_score(app, client, rt, clock, runner,
                                                                                ranking_mode):
    cid = _play_contest(client, rt, clock, ranking_mode)
    done = runner.invoke(main, ["verify-ranking", str(cid)])
    assert done.exit_code == 0, done.output
    assert "排名核对一致" in done.output and "排行榜" in done.output
    report = json.loads(runner.invoke(main, ["verify-ranking", str(cid), "--json"]).output)
    assert report["ok"] and report["attempts"] == 13 and report["participants"] == 4 and report["board_checked"]

    # Someone changes an attempt's score in the record: the log disagrees.
    aid = rt.session.scalar(select(Attempt.id).where(Attempt.contest_id == cid).order_by(Attempt.score).limit(1))
    with app.extensions["jd.db"].engine.begin() as connection:
        connection.execute(update(Attempt).where(Attempt.id == aid).values(score=Attempt.score + 5))
    done = runner.invoke(main, ["verify-ranking", str(cid)])
    assert done.exit_code == 1
    assert f"答卷 {aid}" in done.output and "记录得分" in done.output
    report = json.loads(runner.invoke(main, ["verify-ranking", str(cid), "--json"]).output)
    assert not report["ok"] and any(f"答卷 {aid}" in line for line in report["differences"])


def test_verify_ranking_catches_a_changed_answer_and_a_board_out_of_order(app, client, rt, clock, runner):
    cid = _play_contest(client, rt, clock)
    assert runner.invoke(main, ["verify-ranking", str(cid)]).exit_code == 0
    row = rt.session.scalars(select(Answer).join(Attempt, Answer.attempt_id == Attempt.id)
                             .where(Attempt.contest_id == cid, Answer.is_correct.is_(False))).first()
    logged = row.answer
    row.answer = rt.session.get(Question, row.question_id).answer
    rt.session.commit()
    done = runner.invoke(main, ["verify-ranking", str(cid)])
    assert done.exit_code == 1 and f"答卷 {row.attempt_id}" in done.output and "答案与日志不符" in done.output
    row.answer = logged
    rt.session.commit()
    assert runner.invoke(main, ["verify-ranking", str(cid)]).exit_code == 0

    # The same answer written in another JSON form (no spaces) is still the same answer.
    listed = rt.session.scalars(select(Answer).join(Attempt, Answer.attempt_id == Attempt.id)
                                .where(Attempt.contest_id == cid)).all()
    row = next(a for a in listed if isinstance(a.answer, list) and len(a.answer) > 1)
    compact = json.dumps(row.answer, separators=(",", ":"))
    as_json = "CAST(:text AS json)" if rt.session.get_bind().dialect.name == "postgresql" else ":text"
    with app.extensions["jd.db"].engine.begin() as connection:
        connection.execute(text(f"UPDATE answers SET answer = {as_json} WHERE id = :id"), {"text": compact, "id": row.id})
        assert connection.execute(text("SELECT CAST(answer AS TEXT) FROM answers WHERE id = :id"),
                                  {"id": row.id}).scalar() == compact
    assert runner.invoke(main, ["verify-ranking", str(cid)]).exit_code == 0

    # The published board (Redis, what the leaderboard shows) losing its leader is caught as well.
    redis = app.extensions["jd.state"].redis
    redis.zrem(keys.board(cid), redis.zrange(keys.board(cid), 0, 0)[0])
    done = runner.invoke(main, ["verify-ranking", str(cid)])
    assert done.exit_code == 1 and "排行榜" in done.output


def test_purging_personal_data_keeps_the_log_usable(app, client, rt, clock, runner):
    cid = _play_contest(client, rt, clock)
    before = _log(rt)
    columns = {column.name for column in AnswerLog.__table__.columns}
    assert not columns & {"name", "phone", "client_address", "token_hash"}  # ids only
    clock.set(get_contest(rt.session, cid).ends_at + timedelta(minutes=1))
    privacy.purge_personal_data(rt, cid)
    assert _log(rt) == before
    done = runner.invoke(main, ["verify-ranking", str(cid)])
    assert done.exit_code == 0, done.output
