"""The participant API (shared/API.md) end to end over HTTP, with a real Redis and database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from contest.models import Entrant
from tests.play_support import make_bank, make_contest, make_units, right_answer


@pytest.fixture
def setup(rt):
    bank = make_bank(rt.session)
    units = make_units(rt.session)
    contest = make_contest(rt, bank)
    return {"contest": contest, "units": units, "bank": bank}


def enter(client, cid, unit_id, phone="13800000001", name="张三"):
    response = client.post(f"/api/v1/contests/{cid}/entrants", json={"name": name, "phone": phone, "unit_id": unit_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_contest_list_and_units(client, setup):
    listed = client.get("/api/v1/contests")
    contests = listed.get_json()
    assert [c["id"] for c in contests] == [setup["contest"].id]
    assert "党史知识竞赛".encode() in listed.data  # UTF-8, half the bytes of \uXXXX escapes on a phone's network
    c = contests[0]
    assert set(c) >= {"id", "title", "starts_at", "ends_at", "time_limit_s", "question_count", "attempts_per_day", "status"}
    assert c["status"] == "open" and c["question_count"] == 6 and c["starts_at"].endswith("+08:00")
    units = client.get(f"/api/v1/contests/{c['id']}/units").get_json()
    assert {u["name"] for u in units} == {"测试单位0", "测试单位1", "测试单位2"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "张三", "phone": "1380000000", "unit_id": 0}, "phone"),
        ({"name": "张三", "phone": "23800000000", "unit_id": 0}, "phone"),
        ({"name": "  ", "phone": "13800000000", "unit_id": 0}, "name"),
        ({"name": "张三", "phone": "13800000000", "unit_id": 999999}, "unit_id"),
        ({"name": "张三", "phone": "13800000000", "unit_id": True}, "unit_id"),  # not unit 1
        ({"name": "张三", "phone": "13800000000", "unit_id": 1.5}, "unit_id"),
        ({"name": "张三", "phone": "13800000000", "unit_id": 2**70}, "unit_id"),
        ({"name": "张三", "phone": "13800000000", "unit_id": "1" * 5000}, "unit_id"),
        ({"name": "张三", "phone": "1٣٨٠٠٠٠٠٠٠١", "unit_id": 0}, "phone"),  # Arabic-Indic digits are not a phone
    ],
)
def test_entry_refuses_bad_fields_naming_them(client, setup, body, field):
    if body["unit_id"] == 0:
        body["unit_id"] = setup["units"][0].id
    response = client.post(f"/api/v1/contests/{setup['contest'].id}/entrants", json=body)
    assert response.status_code == 400
    data = response.get_json()
    assert data["field"] == field and data["error"] and data["message"]


def test_same_phone_is_same_entrant_with_new_token(client, setup):
    cid, unit = setup["contest"].id, setup["units"][0].id
    first = enter(client, cid, unit)
    second = enter(client, cid, unit, name="张三丰")
    assert first["entrant_id"] == second["entrant_id"] and first["token"] != second["token"]
    # The old token still works: it is the same entrant on another device.
    assert client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(first["token"])).status_code == 201


def test_a_phone_typed_with_full_width_digits_is_the_same_entrant(client, setup, rt):
    cid, unit = setup["contest"].id, setup["units"][0].id
    first = enter(client, cid, unit, phone="13800000001")
    for typed in ("１３８００００００01", "1３８－0000－0001", "１３８　００００　０００１"):  # a Chinese input method's
        assert enter(client, cid, unit, phone=typed)["entrant_id"] == first["entrant_id"]
    assert rt.session.scalars(select(Entrant.phone).where(Entrant.contest_id == cid)).all() == ["13800000001"]


def test_leaderboard_limit_must_be_a_plain_number(client, setup):
    cid = setup["contest"].id
    assert client.get(f"/api/v1/contests/{cid}/leaderboard?limit=5").status_code == 200
    for limit in ("²", "1" * 5000, "-1", "abc"):
        response = client.get(f"/api/v1/contests/{cid}/leaderboard?limit={limit}")
        assert response.status_code == 400 and response.get_json()["field"] == "limit", limit


def test_full_attempt_without_key_then_result(client, setup, rt):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    response = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token))
    assert response.status_code == 201
    attempt = response.get_json()
    raw = json.dumps(attempt, ensure_ascii=False)
    for secret in ("answer\"", "explanation", "解析", "score"):
        assert secret not in raw.replace('"answers"', "")
    assert len(attempt["questions"]) == 6
    for q in attempt["questions"]:
        assert set(q) == {"id", "type", "stem", "options"}
        r = client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=auth(token),
                       json={"answer": right_answer(rt.session, q)})
        assert r.status_code == 200 and r.get_json() == {"saved": True}
    result = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(token)).get_json()
    assert result["score"] == result["max_score"] == 3 + 2 + 1 + 2
    assert result["correct"] == 6 and result["rank"] == 1 and result["best_score"] == 8
    assert {item["is_correct"] for item in result["review"]} == {True}
    assert all("explanation" in item and "correct_answer" in item for item in result["review"])
    # Idempotent: a second submit answers the same.
    again = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(token)).get_json()
    assert again == result
    board = client.get(f"/api/v1/contests/{cid}/leaderboard").get_json()
    assert board["participants"] == 1
    assert board["entries"] == [{"rank": 1, "name": "张*", "unit": "测试单位0", "score": 8.0, "duration_ms": 0}]


def test_unfinished_attempt_is_answered_again(client, setup, clock):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    first = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token))
    q = first.get_json()["questions"][0]
    answer = ["A"] if q["type"] in ("single", "multiple") else (True if q["type"] == "judge" else "x")
    client.put(f"/api/v1/attempts/{first.get_json()['attempt_id']}/answers/{q['id']}", headers=auth(token),
               json={"answer": answer})
    clock.advance(30)
    second = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token))
    assert second.status_code == 200
    body = second.get_json()
    assert body["attempt_id"] == first.get_json()["attempt_id"]
    assert body["deadline"] == first.get_json()["deadline"]
    assert body["answers"] == {str(q["id"]): answer}


def test_deadline_is_judged_on_the_server(client, setup, clock, rt):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).get_json()
    q = next(q for q in attempt["questions"] if q["type"] == "judge")
    url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}"
    assert client.put(url, headers=auth(token), json={"answer": True}).status_code == 200
    clock.advance(300 + 1.5)  # within the 2 s allowance for transit
    assert client.put(url, headers=auth(token), json={"answer": True}).status_code == 200
    clock.advance(1)  # now 2.5 s past the deadline
    late = client.put(url, headers=auth(token), json={"answer": False})
    assert late.status_code == 409 and late.get_json()["error"] == "deadline_passed"
    # The server finishes it with the answers saved in time; submit answers that result.
    result = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(token)).get_json()
    assert result["duration_ms"] == 300_000
    judged = next(item for item in result["review"] if item["id"] == q["id"])
    assert judged["answer"] is True and judged["is_correct"] is True


def test_daily_limit_then_next_day(client, setup, clock, rt):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    for _ in range(3):
        aid = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).get_json()["attempt_id"]
        assert client.post(f"/api/v1/attempts/{aid}/submit", headers=auth(token)).status_code == 200
    refused = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token))
    assert refused.status_code == 429 and refused.get_json()["message"]
    clock.advance(24 * 3600)
    assert client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).status_code == 201


def test_other_entrants_attempt_is_forbidden(client, rt, setup):
    cid, unit = setup["contest"].id, setup["units"][0].id
    owner = enter(client, cid, unit)["token"]
    other = enter(client, cid, unit, phone="13900000002", name="李四")["token"]
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(owner)).get_json()
    qid = attempt["questions"][0]["id"]
    r = client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{qid}", headers=auth(other), json={"answer": ["A"]})
    assert r.status_code == 403
    refused = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(other))
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_yours"
    # An entrant of another contest, and an attempt that does not exist.
    elsewhere = make_contest(rt, setup["bank"])
    stranger = enter(client, elsewhere.id, unit, phone="13900000003", name="王五")["token"]
    refused = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(stranger))
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_yours"
    missing = client.post(f"/api/v1/attempts/{attempt['attempt_id'] + 1000}/submit", headers=auth(owner))
    assert missing.status_code == 404 and missing.get_json()["error"] == "attempt_not_found"
    # Refused submits closed nothing: the owner's attempt is still open, and theirs to submit.
    assert client.get(f"/api/v1/attempts/{attempt['attempt_id']}", headers=auth(owner)).get_json()["status"] == "open"
    assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(owner)).status_code == 200


@pytest.mark.parametrize("qtype, bad", [("single", ["A", "B"]), ("single", "A"), ("multiple", ["Z"]),
                                        ("judge", "对"), ("fill", ["上海"]), ("single", [])])
def test_malformed_answer_is_400_and_changes_nothing(client, setup, qtype, bad):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).get_json()
    q = next(q for q in attempt["questions"] if q["type"] == qtype)
    r = client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=auth(token), json={"answer": bad})
    assert r.status_code == 400 and r.get_json()["message"]
    again = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).get_json()
    assert again["answers"] == {}


def test_closed_and_upcoming_contests_refuse_attempts(client, setup, clock, rt):
    cid, unit = setup["contest"].id, setup["units"][0].id
    token = enter(client, cid, unit)["token"]
    clock.advance(4 * 24 * 3600)
    r = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token))
    assert r.status_code == 403
    later = make_contest(rt, setup["bank"], starts_at=clock.now() + timedelta(days=1),
                         ends_at=clock.now() + timedelta(days=2))
    token2 = enter(client, later.id, unit)["token"]
    assert client.post(f"/api/v1/contests/{later.id}/attempts", headers=auth(token2)).status_code == 403


def test_missing_or_bad_token_is_401(client, setup):
    cid = setup["contest"].id
    assert client.post(f"/api/v1/contests/{cid}/attempts").status_code == 401
    assert client.post(f"/api/v1/contests/{cid}/attempts", headers=auth("nope")).status_code == 401


def test_unit_stats(client, setup, rt):
    cid, units = setup["contest"].id, setup["units"]
    for i, phone in enumerate(["13800000011", "13800000012", "13800000013"]):
        token = enter(client, cid, units[0].id if i < 2 else units[1].id, phone=phone)["token"]
        aid = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth(token)).get_json()["attempt_id"]
        client.post(f"/api/v1/attempts/{aid}/submit", headers=auth(token))
    stats = {row["unit_id"]: row for row in client.get(f"/api/v1/contests/{cid}/units/stats").get_json()}
    assert stats[units[0].id]["participants"] == 2 and stats[units[0].id]["participation_rate"] == 0.2
    assert stats[units[1].id]["participants"] == 1 and stats[units[1].id]["participation_rate"] == 0.05
    assert stats[units[2].id]["participants"] == 0 and stats[units[2].id]["attempts"] == 0


def test_daily_sum_credits_an_attempt_to_the_day_it_was_started(client, rt, clock):
    # 23:59 in Beijing (15:59 UTC): the attempt is finished after midnight, on the next day.
    clock.set(datetime(2026, 7, 1, 15, 59, tzinfo=UTC))
    bank, units = make_bank(rt.session), make_units(rt.session)
    contest = make_contest(rt, bank, paper="judge=1", ranking_mode="daily_sum", attempts_per_day=1)
    token = enter(client, contest.id, units[0].id)["token"]

    def play() -> float:
        attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=auth(token)).get_json()
        question = attempt["questions"][0]
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}", headers=auth(token),
                   json={"answer": right_answer(rt.session, question)})
        clock.advance(240)
        return client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth(token)).get_json()["score"]

    first = play()  # started on 7-01 (that day's one attempt), finished at 00:03 on 7-02
    clock.set(datetime(2026, 7, 2, 2, 0, tzinfo=UTC))  # 10:00 on 7-02: that day's own attempt
    second = play()
    board = client.get(f"/api/v1/contests/{contest.id}/leaderboard").get_json()
    assert first > 0 and board["entries"][0]["score"] == first + second  # by the finishing day, only one counted
