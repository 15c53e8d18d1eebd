"""Building contests for the play tests: a bank, units and a contest straight into SQL."""

from __future__ import annotations

from datetime import timedelta

from contest.models import Bank, Question, Unit
from contest.play import papers
from contest.play.contests import ContestSettings, create_contest


def make_bank(session, singles=12, multiples=6, judges=6, fills=6, name="测试题库") -> Bank:
    bank = Bank(name=name)
    session.add(bank)
    session.flush()
    rows = []
    for i in range(singles):
        rows.append(Question(bank_id=bank.id, type="single", stem=f"单选题{i}", stem_key=f"s{i}",
                             options=["甲", "乙", "丙", "丁"], answer=["B"], explanation=f"解析{i}",
                             score=1, category="党史"))
    for i in range(multiples):
        rows.append(Question(bank_id=bank.id, type="multiple", stem=f"多选题{i}", stem_key=f"m{i}",
                             options=["甲", "乙", "丙", "丁"], answer=["A", "C"], explanation="多选解析",
                             score=2, category="党史"))
    for i in range(judges):
        rows.append(Question(bank_id=bank.id, type="judge", stem=f"判断题{i}", stem_key=f"j{i}", options=[],
                             answer=True, explanation="判断解析", score=1, category="工会"))
    for i in range(fills):
        rows.append(Question(bank_id=bank.id, type="fill", stem=f"填空题{i}", stem_key=f"f{i}", options=[],
                             answer=["上海", "上海市"], explanation="填空解析", score=2, category="工会"))
    session.add_all(rows)
    session.commit()
    papers.BANKS._banks.pop(bank.id, None)
    return bank


def make_units(session, count=3) -> list[Unit]:
    units = [Unit(name=f"测试单位{i}", headcount=10 * (i + 1), parent_name="市总工会") for i in range(count)]
    session.add_all(units)
    session.commit()
    return units


def make_contest(rt, bank, paper="single=3,multiple=1,judge=1,fill=1", **changes):
    now = rt.clock.now()
    settings = ContestSettings(
        title="党史知识竞赛", bank_id=bank.id, paper=papers.parse_rules(paper), time_limit_s=300,
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=3), attempts_per_day=3,
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return create_contest(rt.session, settings)


def right_answer(session, shown: dict) -> object:
    """The right answer to a question as an attempt shows it (tests only: workers never get keys)."""
    question = session.get(Question, shown["id"])
    if question.type in ("single", "multiple"):
        texts = [question.options["ABCDEFGH".index(letter)] for letter in question.answer]
        return sorted("ABCDEFGH"[shown["options"].index(text)] for text in texts)
    if question.type == "fill":
        return question.answer[0]
    return question.answer


def wrong_answer(shown: dict) -> object:
    if shown["type"] == "judge":
        return False
    if shown["type"] == "fill":
        return "不知道"
    return None  # filled in by the caller with a letter that is not the key


def play_full_attempt(http, session, cid: int, unit_id: int, name: str, phone: str) -> dict:
    """Enter, start, answer every question right and submit through the HTTP API; the submit's body."""
    token = http.post(f"/api/v1/contests/{cid}/entrants",
                      json={"name": name, "phone": phone, "unit_id": unit_id}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = http.post(f"/api/v1/contests/{cid}/attempts", headers=headers).json()
    for q in attempt["questions"]:
        saved = http.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                         json={"answer": right_answer(session, q)})
        assert saved.json() == {"saved": True}
    return http.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).json()


def next_board_with_entries(frames, timeout: float = 10) -> dict:
    """The first leaderboard frame (from a queue of them) that lists anyone: the pusher's round after a submit."""
    board = frames.get(timeout=timeout)
    while not board["entries"]:
        board = frames.get(timeout=timeout)
    return board
