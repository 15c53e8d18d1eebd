"""Group commit of answers (the gevent server's writer): one batch, every waiter told its own outcome."""

from __future__ import annotations

import gevent
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contest.models import Answer, AnswerLog, Attempt
from contest.play import answer_store
from contest.play.answer_store import writer as answer_writer
from tests.play_support import make_bank, make_contest, make_units


def _open_attempts(client, rt, count: int) -> list[tuple[Attempt, list[int]]]:
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    found = []
    for i in range(count):
        reply = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": f"职工{i}", "phone": f"1380013{i:04d}", "unit_id": unit.id})
        headers = {"Authorization": f"Bearer {reply.get_json()['token']}"}
        paper = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
        attempt = rt.session.get(Attempt, paper["attempt_id"])
        found.append((attempt, [q["id"] for q in paper["questions"] if q["type"] == "judge"]))
    return found


def _row(attempt: Attempt, qid: int, answer: object, now) -> dict:
    return {"aid": attempt.id, "qid": qid, "answer": answer, "now": now, "entrant": attempt.entrant_id,
            "contest": attempt.contest_id}


def _count(rt, model, *where) -> int:
    rt.session.expire_all()
    return rt.session.scalar(select(func.count()).select_from(model).where(*where))


def test_fifty_copies_of_one_answer_store_one_row_and_log_each(app, client, rt, clock):
    (attempt, (qid, *_)), = _open_attempts(client, rt, 1)
    writer = answer_writer(rt.session.get_bind())
    copies = [gevent.spawn(writer.store, _row(attempt, qid, True, clock.now())) for _ in range(50)]
    gevent.joinall(copies, raise_error=True)
    assert [c.value for c in copies] == [True] * 50
    assert _count(rt, Answer, Answer.attempt_id == attempt.id) == 1
    assert _count(rt, AnswerLog, AnswerLog.attempt_id == attempt.id) == 50


def test_one_bad_row_fails_alone_and_a_closed_attempt_stores_nothing(app, client, rt, clock):
    (first, (qid, *_)), (second, (other_qid, *_)), (closed, (closed_qid, *_)) = _open_attempts(client, rt, 3)
    rt.session.get(Attempt, closed.id).status = "finished"
    rt.session.commit()
    writer = answer_writer(rt.session.get_bind())
    good = [gevent.spawn(writer.store, _row(first, qid, True, clock.now())),
            gevent.spawn(writer.store, _row(second, other_qid, False, clock.now()))]
    # A question that does not exist breaks the foreign key: the batch fails, then each row is tried alone.
    bad = gevent.spawn(writer.store, _row(first, 10**6, True, clock.now()))
    refused = gevent.spawn(writer.store, _row(closed, closed_qid, True, clock.now()))
    gevent.joinall([*good, bad, refused])
    assert [g.value for g in good] == [True, True]
    assert isinstance(bad.exception, IntegrityError)
    assert refused.value is False and refused.exception is None
    assert _count(rt, Answer) == 2 and _count(rt, AnswerLog) == 2
    assert _count(rt, Answer, Answer.attempt_id == closed.id) == 0


@pytest.mark.parametrize("batches", [True, False], ids=["sqlite-json-each", "sqlite-row-by-row"])
def test_in_one_batch_the_last_answer_to_a_question_counts_and_each_is_logged(app, client, rt, clock, monkeypatch,
                                                                              batches):
    """One statement for the batch on PostgreSQL, one to accept and one to log on SQLite (row by row
    on an SQLite without json_each): the same outcome."""
    monkeypatch.setattr(answer_store, "SQLITE_BATCHES", batches)
    (first, (qid, *_)), (second, (second_qid, *_)) = _open_attempts(client, rt, 2)
    other_qid = next(item["qid"] for item in first.paper if item["qid"] != qid)
    writer = answer_writer(rt.session.get_bind())
    rows = [_row(first, qid, True, clock.now()), _row(second, second_qid, True, clock.now()),
            _row(first, qid, False, clock.now()), _row(first, other_qid, True, clock.now())]
    waiters = [gevent.spawn(writer.store, row) for row in rows]
    gevent.joinall(waiters, raise_error=True)
    assert [w.value for w in waiters] == [True] * 4
    rt.session.expire_all()
    stored = dict(rt.session.execute(select(Answer.question_id, Answer.answer).where(Answer.attempt_id == first.id)).all())
    assert stored == {qid: False, other_qid: True}
    assert _count(rt, AnswerLog, AnswerLog.attempt_id == first.id) == 3
    # Logged in arrival order: for one question, the highest log id is the answer stored.
    logged = rt.session.scalars(select(AnswerLog.answer).where(AnswerLog.attempt_id == first.id,
                                                                AnswerLog.question_id == qid).order_by(AnswerLog.id)).all()
    assert logged == [True, False]
    saved_at = rt.session.scalar(select(Answer.received_at).where(Answer.attempt_id == second.id))
    assert saved_at == clock.now()  # an aware UTC time, as written row by row


def test_answers_to_a_closed_or_someone_elses_attempt_are_refused_in_a_batch(app, client, rt, clock):
    (mine, (qid, *_)), (theirs, (their_qid, *_)), (closed, (closed_qid, *_)) = _open_attempts(client, rt, 3)
    rt.session.get(Attempt, closed.id).status = "finished"
    rt.session.commit()
    writer = answer_writer(rt.session.get_bind())
    waiters = [gevent.spawn(writer.store, row) for row in (_row(mine, qid, True, clock.now()),
                                                           _row(closed, closed_qid, True, clock.now()))]
    gevent.joinall(waiters, raise_error=True)
    assert [w.value for w in waiters] == [True, False]
    assert _count(rt, Answer, Answer.attempt_id == closed.id) == 0 and _count(rt, AnswerLog) == 1

    impostor = {**_row(theirs, their_qid, True, clock.now()), "entrant": mine.entrant_id}
    waiters = [gevent.spawn(writer.store, row) for row in (impostor, _row(theirs, their_qid, False, clock.now()))]
    gevent.joinall(waiters, raise_error=True)
    assert [w.value for w in waiters] == [False, True]
    rt.session.expire_all()
    assert rt.session.scalar(select(Answer.answer).where(Answer.attempt_id == theirs.id)) is False
    assert _count(rt, AnswerLog, AnswerLog.attempt_id == theirs.id) == 1


def test_a_waiter_is_released_only_after_its_batch_committed(app, client, rt, clock):
    (attempt, (qid, *_)), = _open_attempts(client, rt, 1)
    engine = rt.session.get_bind()
    writer = answer_writer(engine)
    seen = []

    def answer_then_look() -> None:
        assert writer.store(_row(attempt, qid, True, clock.now()))
        with engine.connect() as other:  # another connection sees it: committed, not just written
            seen.append(other.scalar(select(func.count()).select_from(Answer).where(Answer.attempt_id == attempt.id)))

    gevent.joinall([gevent.spawn(answer_then_look) for _ in range(5)], raise_error=True)
    assert seen == [1] * 5
    assert writer.flusher is None and writer.pending == []


@pytest.fixture(autouse=True)
def _no_leftover_greenlets():
    yield
    gevent.sleep(0)
