"""Admin contest pages: create, edit with faults named, the monitor's figures; staff may only look."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from contest.clock import CONTEST_TZ
from contest.models import Contest
from tests.admin_support import csrf_from, make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units, right_answer


def _form(bank_id, clock, **changes):
    start = clock.now().astimezone(CONTEST_TZ) - timedelta(minutes=5)
    form = {
        "title": "职工党史知识竞赛", "description": "学党史", "bank_id": str(bank_id),
        "count_single": "3", "count_multiple": "1", "count_judge": "1", "count_fill": "0",
        "time_limit_min": "5", "time_limit_sec": "30", "attempts_per_day": "2",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "shuffle_questions": "on", "shuffle_options": "on", "review_after_submit": "on", "ranking_mode": "best",
    }
    form.update(changes)
    return form


def test_organizer_creates_and_edits_a_contest(app, client, rt, clock):
    make_admin(app)
    bank = make_bank(rt.session)
    sign_in(client)
    token = csrf_from(client, "/admin/contests/new")
    response = client.post("/admin/contests/new", data={**_form(bank.id, clock), "csrf_token": token})
    assert response.status_code == 302
    contest = rt.session.scalar(select(Contest))
    assert contest.title == "职工党史知识竞赛" and contest.time_limit_s == 330 and contest.attempts_per_day == 2
    assert [r["count"] for r in contest.paper] == [3, 1, 1] and contest.review_after_submit
    assert not contest.partial_credit
    listing = client.get("/admin/contests").get_data(as_text=True)
    assert "职工党史知识竞赛" in listing and "进行中" in listing

    edit = client.post(f"/admin/contests/{contest.id}/edit",
                       data={**_form(bank.id, clock, title="改名后的竞赛", partial_credit="on"), "csrf_token": token})
    assert edit.status_code == 302
    rt.session.expire_all()
    assert rt.session.get(Contest, contest.id).title == "改名后的竞赛"
    assert rt.session.get(Contest, contest.id).partial_credit


def test_faults_are_named_and_the_form_keeps_what_was_typed(app, client, rt, clock):
    make_admin(app)
    bank = make_bank(rt.session)
    sign_in(client)
    token = csrf_from(client, "/admin/contests/new")
    response = client.post("/admin/contests/new",
                           data={**_form(bank.id, clock, count_single="99"), "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "单选题" in page and "只有 12 道" in page and "职工党史知识竞赛" in page
    bad_time = client.post("/admin/contests/new", data={**_form(bank.id, clock, ends_at="2020-01-01T00:00"),
                                                        "csrf_token": token})
    assert bad_time.status_code == 400 and "结束时间必须晚于开始时间" in bad_time.get_data(as_text=True)
    assert rt.session.scalar(select(func.count()).select_from(Contest)) == 0


def test_monitor_shows_live_figures(app, client, rt):
    make_admin(app)
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "孙八", "phone": "13100000000", "unit_id": unit.id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    judge = next(q for q in attempt["questions"] if q["type"] == "judge")
    client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{judge['id']}", headers=headers, json={"answer": True})
    sign_in(client)
    assert "孙八" not in client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    data = client.get(f"/admin/contests/{contest.id}/monitor.json").get_json()
    assert data["entrants"] == 1 and data["open_attempts"] == 1 and data["answers"] == 1
    assert data["per_minute"][-1]["answers"] == 1 and len(data["per_minute"]) == 60
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    data = client.get(f"/admin/contests/{contest.id}/monitor.json").get_json()
    assert data["participants"] == 1 and data["attempts"] == 1 and data["open_attempts"] == 0
    assert data["units"][0]["unit_id"] == unit.id and data["units"][0]["participants"] == 1


def test_staff_may_look_but_not_create(app, client, rt, clock):
    make_admin(app, username="staff", role="staff")
    bank = make_bank(rt.session)
    sign_in(client, username="staff")
    assert client.get("/admin/contests").status_code == 200
    assert client.get("/admin/contests/new").status_code == 403
    token = csrf_from(client, "/admin/contests")
    assert client.post("/admin/contests/new", data={**_form(bank.id, clock), "csrf_token": token}).status_code == 403


def test_a_contest_is_copied_into_the_new_contest_form(app, client, rt, clock):
    """复制为新竞赛: the same paper, rules and options, a window of the same length from an hour on."""
    import re

    make_admin(app)
    bank = make_bank(rt.session)
    sign_in(client)
    token = csrf_from(client, "/admin/contests/new")
    client.post("/admin/contests/new", data={**_form(bank.id, clock, ranking_mode="daily_sum", partial_credit="on",
                                                     category_single="党史"), "csrf_token": token})
    source = rt.session.scalar(select(Contest))
    assert f"/admin/contests/new?copy={source.id}" in client.get(f"/admin/contests/{source.id}").get_data(as_text=True)

    page = client.get(f"/admin/contests/new?copy={source.id}").get_data(as_text=True)
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    start = (clock.now().replace(second=0, microsecond=0) + timedelta(hours=1)).astimezone(CONTEST_TZ)
    assert fields["title"] == "职工党史知识竞赛（复制）" and fields["category_single"] == "党史"
    assert (fields["count_single"], fields["time_limit_min"], fields["time_limit_sec"], fields["attempts_per_day"]) == (
        "3", "5", "30", "2")
    assert fields["starts_at"] == start.strftime("%Y-%m-%dT%H:%M")
    assert fields["ends_at"] == (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert 'value="daily_sum" selected' in page and re.search(r'name="partial_credit"\s+checked', page)
    assert client.get("/admin/contests/new?copy=99999").status_code == 404


def _finish_right(client, rt, cid, token) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=auth).get_json()
    for question in attempt["questions"]:
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}", headers=auth,
                   json={"answer": right_answer(rt.session, question)})
    assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth).status_code == 200


def _enter(client, cid, unit_id, phone) -> str:
    body = {"name": "张三", "phone": phone, "unit_id": unit_id}
    return client.post(f"/api/v1/contests/{cid}/entrants", json=body).get_json()["token"]


def test_a_new_ranking_rule_ranks_everyone_again(app, client, rt, clock):
    make_admin(app)
    bank, units = make_bank(rt.session), make_units(rt.session)
    contest = make_contest(rt, bank, paper="judge=1", attempts_per_day=1)
    token = _enter(client, contest.id, units[0].id, "13800000001")
    _finish_right(client, rt, contest.id, token)
    clock.advance(24 * 3600)
    _finish_right(client, rt, contest.id, token)  # best 1; each day's best added up: 2

    def board() -> list[float]:
        return [e["score"] for e in client.get(f"/api/v1/contests/{contest.id}/leaderboard").get_json()["entries"]]

    assert board() == [1.0]

    sign_in(client)
    token = csrf_from(client, f"/admin/contests/{contest.id}/edit")
    form = {**_form(bank.id, clock, ranking_mode="daily_sum", count_single="0", count_multiple="0", count_fill="0"),
            "csrf_token": token}
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 302
    assert board() == [2.0]  # at once, not at the entrant's next submit


def test_half_credit_cannot_change_once_an_attempt_is_scored(app, client, rt, clock):
    make_admin(app)
    bank, units = make_bank(rt.session), make_units(rt.session)
    contest = make_contest(rt, bank, paper="judge=1")
    sign_in(client)
    token = csrf_from(client, f"/admin/contests/{contest.id}/edit")
    form = {**_form(bank.id, clock, count_single="0", count_multiple="0", count_fill="0"), "csrf_token": token}
    assert client.post(f"/admin/contests/{contest.id}/edit", data={**form, "partial_credit": "on"}).status_code == 302
    _finish_right(client, rt, contest.id, _enter(client, contest.id, units[0].id, "13800000001"))
    refused = client.post(f"/admin/contests/{contest.id}/edit", data=form)  # half credit off again
    assert refused.status_code == 400 and "不能再更改「多选题少选得一半分」" in refused.get_data(as_text=True)
    rt.session.expire_all()
    assert rt.session.get(Contest, contest.id).partial_credit
