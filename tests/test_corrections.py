"""Correcting a question's key: finished attempts re-scored, the board rebuilt, a second pass for
copies of the old key other processes still held, bad input refused with nothing changed."""

from __future__ import annotations

import json
import socket
import time

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from contest.cli import main as cli
from contest.clock import to_ms
from contest.errors import BadInput, NotFound, Unavailable
from contest.extensions import make_engine
from contest.models import Answer, Attempt, KeyCorrection, Question
from contest.play import audit, corrections, live, papers
from contest.runtime import Runtime
from contest.state import State
from tests.admin_support import csrf_from, make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units

LETTERS = "ABCD"


@pytest.fixture
def played(rt, client):
    """Three single-choice questions keyed B. 赵一 answers B to all, 钱二 C to the first and B to the
    others (both submitted); 孙三 answers C to the first and leaves the attempt open."""
    bank = make_bank(rt.session, singles=3, multiples=0, judges=0, fills=0)
    units = make_units(rt.session, 2)
    contest = make_contest(rt, bank, paper="single=3")
    first = min(q.id for q in bank.questions)
    people = {}
    for name, phone, on_first, submit in (("赵一", "13800000001", "B", True), ("钱二", "13800000002", "C", True),
                                          ("孙三", "13800000003", "C", False)):
        token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": name, "phone": phone, "unit_id": units[0].id}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
        for shown in attempt["questions"]:
            _answer(client, headers, attempt["attempt_id"], shown, on_first if shown["id"] == first else "B")
        if submit:
            assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).status_code == 200
        people[name] = {"headers": headers, "aid": attempt["attempt_id"]}
    return {"contest": contest, "bank": bank, "first": first, "people": people}


def _answer(client, headers, aid: int, shown: dict, bank_letter: str) -> None:
    """Answer with the option the bank calls `bank_letter`, wherever the shuffle put it."""
    text = ["甲", "乙", "丙", "丁"][LETTERS.index(bank_letter)]
    saved = client.put(f"/api/v1/attempts/{aid}/answers/{shown['id']}", headers=headers,
                       json={"answer": [LETTERS[shown["options"].index(text)]]})
    assert saved.get_json() == {"saved": True}


def _score(rt, aid: int) -> tuple[float, int]:
    attempt = rt.session.get(Attempt, aid, populate_existing=True)
    return attempt.score, attempt.correct


def _board(client, cid: int) -> list[tuple[str, float]]:
    board = client.get(f"/api/v1/contests/{cid}/leaderboard").get_json()
    return [(entry["name"], entry["score"]) for entry in board["entries"]]


def test_a_corrected_key_rescores_finished_attempts_and_the_board(rt, client, played):
    cid, first, people = played["contest"].id, played["first"], played["people"]
    assert _board(client, cid) == [("赵*", 3.0), ("钱*", 2.0)]

    fixed = corrections.correct_key(rt, first, "C")
    assert (fixed.old_answer, fixed.new_answer) == (["B"], ["C"])
    assert (fixed.answers_regraded, fixed.attempts_changed) == (2, 2)
    assert _score(rt, people["赵一"]["aid"]) == (2.0, 2)
    assert _score(rt, people["钱二"]["aid"]) == (3.0, 3)
    marks = dict(rt.session.execute(select(Answer.attempt_id, Answer.is_correct).where(Answer.question_id == first)).all())
    assert marks[people["赵一"]["aid"]] is False and marks[people["钱二"]["aid"]] is True
    assert _board(client, cid) == [("钱*", 3.0), ("赵*", 2.0)]
    assert cid in rt.state.live.take()[0]  # the big screens are pushed the new board
    assert audit.verify(rt, cid).ok  # the audit log, recomputed with the new key, agrees with record and board

    # The open attempt is marked with the new key when it is submitted, and its review shows it.
    result = client.post(f"/api/v1/attempts/{people['孙三']['aid']}/submit", headers=people["孙三"]["headers"]).get_json()
    assert (result["score"], result["correct"]) == (3.0, 3)
    item = next(item for item in result["review"] if item["id"] == first)
    assert item["is_correct"] and item["correct_answer"] == [LETTERS[item["options"].index("丙")]]


def test_a_second_pass_rescores_what_a_stale_copy_of_the_key_marked(app, rt, client, clock, played):
    cid, first, people = played["contest"].id, played["first"], played["people"]
    stale = papers.BANKS.questions(rt.session, played["bank"].id)
    corrections.correct_key(rt, first, "C")
    # Another process still holds the old key for a while: it scores 孙三's submit with it.
    papers.BANKS._banks[played["bank"].id] = (time.monotonic(), stale)
    client.post(f"/api/v1/attempts/{people['孙三']['aid']}/submit", headers=people["孙三"]["headers"])
    assert _score(rt, people["孙三"]["aid"]) == (2.0, 2)
    assert not audit.verify(rt, cid).ok
    papers.BANKS.forget(played["bank"].id)

    live.finish_due_once(app)  # not yet due
    assert _score(rt, people["孙三"]["aid"]) == (2.0, 2)
    clock.advance(corrections.SECOND_PASS_S + 1)
    live.finish_due_once(app)
    assert _score(rt, people["孙三"]["aid"]) == (3.0, 3)
    assert sorted(_board(client, cid)) == [("孙*", 3.0), ("赵*", 2.0), ("钱*", 3.0)]
    assert audit.verify(rt, cid).ok
    assert rt.state.regrades.take_due(10**15) == []  # taken once, by one process


def test_regrading_again_changes_nothing(rt, played):
    corrections.correct_key(rt, played["first"], "C")
    again = corrections.regrade(rt, played["first"])
    assert (again.answers, again.attempts_changed, again.contests) == (2, 0, set())
    assert again.answered_in == {played["contest"].id}


@pytest.mark.parametrize("kind, text, message", [
    ("single", "E", "答案中的 E 没有对应的选项"),
    ("single", "AB", "单选题只能有一个答案"),
    ("single", "", "答案为空"),
    ("single", "B", "新答案与原答案相同"),
    ("single", "甲", "无法识别"),
    ("judge", "也许", "判断题的答案「也许」无法识别"),
    ("fill", " | ", "填空题的答案为空"),
    ("fill", "长" * 501, "答案不能超过 500 字"),
])
def test_a_faulty_key_is_refused_and_nothing_changes(rt, kind, text, message):
    bank = make_bank(rt.session, singles=1, multiples=0, judges=1, fills=1)
    question = rt.session.scalar(select(Question).where(Question.bank_id == bank.id, Question.type == kind))
    before = question.answer
    with pytest.raises(BadInput) as refused:
        corrections.correct_key(rt, question.id, text)
    assert message in refused.value.message and refused.value.field == "answer"
    rt.session.rollback()
    assert rt.session.get(Question, question.id, populate_existing=True).answer == before
    assert rt.session.scalar(select(func.count()).select_from(KeyCorrection)) == 0


def test_keys_of_every_type_read_as_in_a_bank_file(rt):
    bank = make_bank(rt.session, singles=0, multiples=1, judges=1, fills=1)
    by_type = {q.type: q.id for q in bank.questions}
    assert corrections.correct_key(rt, by_type["multiple"], "a、b、d").new_answer == ["A", "B", "D"]
    assert corrections.correct_key(rt, by_type["judge"], "×").new_answer is False
    assert corrections.correct_key(rt, by_type["fill"], "上海；上海市；沪").new_answer == ["上海", "上海市", "沪"]
    # The page offers the key back as it would be typed: a fill key of letters keeps its separators.
    assert corrections.key_text("fill", ["A", "B"]) == "A|B" and corrections.key_text("multiple", ["A", "B"]) == "AB"
    assert corrections.correct_key(rt, by_type["fill"], corrections.key_text("fill", ["A", "B"])).new_answer == ["A", "B"]
    with pytest.raises(NotFound):
        corrections.correct_key(rt, 10**9, "A")


def test_the_cli_corrects_and_regrades(app, rt, runner, played):
    done = runner.invoke(cli, ["correct-key", str(played["first"]), "--answer", "C", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"question_id": played["first"], "old_answer": ["B"], "new_answer": ["C"],
                                       "answers_regraded": 2, "attempts_changed": 2}
    row = rt.session.scalar(select(KeyCorrection))
    assert (row.via, row.admin_id) == ("cli", None)

    back = runner.invoke(cli, ["correct-key", str(played["first"]), "--answer", "B"])
    assert back.exit_code == 0 and "答案已更正：C → B；重新评分 2 个作答，2 份答卷分数改变" in back.output
    again = runner.invoke(cli, ["regrade", str(played["first"])])
    assert again.exit_code == 0 and "2 个作答，0 份答卷分数改变" in again.output
    refused = runner.invoke(cli, ["correct-key", str(played["first"]), "--answer", "Z"])
    assert refused.exit_code == 1 and "无法识别" in refused.output


def test_an_organizer_corrects_on_the_admin_page(app, rt, client, played):
    make_admin(app)
    sign_in(client)
    bank_page = client.get(f"/admin/banks/{played['bank'].id}").get_data(as_text=True)
    path = f"/admin/questions/{played['first']}/correct"
    assert path in bank_page

    page = client.get(path).get_data(as_text=True)
    assert '<b class="impact-answered">2</b>' in page and "党史知识竞赛" in page and "没有更正过" in page
    token = csrf_from(client, path)
    refused = client.post(path, data={"csrf_token": token, "answer": "E"})
    assert refused.status_code == 400 and "答案中的 E 没有对应的选项" in refused.get_data(as_text=True)
    assert rt.session.get(Question, played["first"], populate_existing=True).answer == ["B"]

    done = client.post(path, data={"csrf_token": token, "answer": "c"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "答案已由 B 更正为 C：重新评分 2 个作答，2 份答卷分数改变" in page
    assert "<td data-label=\"操作人\">admin</td>" in page
    again = client.post(path, data={"csrf_token": token, "action": "regrade"}, follow_redirects=True)
    assert "已按当前答案重新评分：2 个作答，0 份答卷分数改变" in again.get_data(as_text=True)


def test_staff_may_not_correct(app, rt, client, played):
    make_admin(app, "viewer", role="staff")
    sign_in(client, "viewer")
    path = f"/admin/questions/{played['first']}/correct"
    assert path not in client.get(f"/admin/banks/{played['bank'].id}").get_data(as_text=True)
    assert client.get(path).status_code == 403
    token = csrf_from(client, "/admin/password")  # a valid token: the refusal is for the role
    assert client.post(path, data={"csrf_token": token, "answer": "C"}).status_code == 403
    assert rt.session.get(Question, played["first"], populate_existing=True).answer == ["B"]


def test_the_question_analysis_page_marks_a_likely_wrong_key_and_leads_to_its_correction(app, rt, client):
    bank = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0)
    unit = make_units(rt.session, 1)[0]
    contest = make_contest(rt, bank, paper="single=2")
    suspect = min(q.id for q in bank.questions)
    for i in range(5):  # everyone picks 丙 (C) for the question keyed B, and B for the other one
        token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": f"职工{i}", "phone": f"1370000000{i}", "unit_id": unit.id}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
        for shown in attempt["questions"]:
            _answer(client, headers, attempt["attempt_id"], shown, "C" if shown["id"] == suspect else "B")
        client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    path = f"/admin/contests/{contest.id}/questions"
    correct_link = f"/admin/questions/{suspect}/correct"

    make_admin(app, "viewer", role="staff")
    sign_in(client, "viewer")
    page = client.get(path).get_data(as_text=True)
    assert '<b class="suspect-count">1</b>' in page and '<tr class="suspect">' in page
    assert "C（丙）（5 人次）" in page and correct_link not in page  # staff look, organizers correct
    client.post("/admin/logout", data={"csrf_token": csrf_from(client, path)})

    make_admin(app)
    sign_in(client)
    assert f'href="{path}"' in client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert correct_link in client.get(path).get_data(as_text=True)
    corrections.correct_key(rt, suspect, "C")
    page = client.get(path).get_data(as_text=True)
    assert '<b class="suspect-count">0</b>' in page and "100%" in page


def test_with_redis_away_the_correction_stands_and_says_the_boards_lag(rt, client, played):
    with socket.socket() as probe:  # a port nobody listens on: Redis refuses at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    away = Runtime(session=rt.session, state=State(redis.Redis(host="127.0.0.1", port=port)), clock=rt.clock)
    with pytest.raises(Unavailable) as refused:
        corrections.correct_key(away, played["first"], "C")
    assert refused.value.code == "boards_not_updated" and "按当前答案再次核对评分" in refused.value.message
    assert _score(rt, played["people"]["钱二"]["aid"]) == (3.0, 3)  # the record is right already
    assert _board(client, played["contest"].id)[0] == ("赵*", 3.0)  # the board lags

    corrections.regrade(rt, played["first"], rebuild_all=True)  # what the message asks for, once Redis is back
    assert _board(client, played["contest"].id) == [("钱*", 3.0), ("赵*", 2.0)]


def test_a_second_pass_that_fails_is_put_back_for_later(rt, played, tmp_path):
    corrections.correct_key(rt, played["first"], "C")
    rt.clock.advance(corrections.SECOND_PASS_S + 1)
    # A database that cannot be opened (its folder does not exist): a real failure, not a stand-in.
    unreachable = Session(make_engine(f"sqlite:///{tmp_path}/no-such-folder/record.sqlite3"))
    with pytest.raises(OperationalError):
        corrections.regrade_due(Runtime(session=unreachable, state=rt.state, clock=rt.clock))
    now = to_ms(rt.clock.now())
    assert rt.state.regrades.take_due(now) == []
    assert rt.state.regrades.take_due(now + corrections.RETRY_MS) == [played["first"]]
