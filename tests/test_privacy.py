"""Deleting a contest's personal data: only after it ended, no phone or name left, every figure kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from contest.cli import main
from contest.models import Attempt, Entrant, EntrantToken, RosterEntry
from contest.play import privacy
from tests.admin_support import make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units, right_answer

PHONE_RUN = re.compile(r"(?<!\d)1\d{10}(?!\d)")
WORKERS = [("欧阳娜娜", "13800138001"), ("张三丰", "13912345678"), ("李四", "15000000002")]


def _play(client, rt, cid, unit_id, name, phone, right=True):
    reply = client.post(f"/api/v1/contests/{cid}/entrants", json={"name": name, "phone": phone, "unit_id": unit_id})
    headers = {"Authorization": f"Bearer {reply.get_json()['token']}"}
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()
    if right:
        for q in attempt["questions"]:
            client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                       json={"answer": right_answer(rt.session, q)})
    assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).status_code == 200


def _played_contest(client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    for i, (name, phone) in enumerate(WORKERS):
        _play(client, rt, contest.id, units[i % 2].id, name, phone, right=i != 1)
    _play(client, rt, contest.id, units[0].id, *WORKERS[0], right=False)  # a second attempt
    rt.session.add(RosterEntry(contest_id=contest.id, name="王五", phone="18600000000", unit_id=units[2].id))
    rt.session.commit()
    return contest.id


def _figures(client, rt, cid):
    rt.session.expire_all()
    board = client.get(f"/api/v1/contests/{cid}/leaderboard?limit=100").get_json()
    attempts = sorted(rt.session.execute(
        select(Attempt.entrant_id, Attempt.score, Attempt.correct, Attempt.duration_ms, Attempt.status)
        .where(Attempt.contest_id == cid)).all())
    units = sorted(rt.session.execute(
        select(Entrant.unit_id, func.count()).where(Entrant.contest_id == cid).group_by(Entrant.unit_id)).all())
    return {
        "scores": [(e["rank"], e["unit"], e["score"], e["duration_ms"]) for e in board["entries"]],
        "participants": board["participants"],
        "unit_stats": client.get(f"/api/v1/contests/{cid}/units/stats").get_json(),
        "attempts": attempts,
        "entrants_by_unit": units,
    }


def _end(rt, clock, cid):
    from contest.play.contests import get_contest

    clock.set(get_contest(rt.session, cid).ends_at + timedelta(minutes=1))


def test_purge_keeps_every_figure_and_leaves_no_phone_or_name(app, client, rt, clock):
    cid = _played_contest(client, rt)
    before = _figures(client, rt, cid)
    _end(rt, clock, cid)
    assert _figures(client, rt, cid) == before

    done = privacy.purge_personal_data(rt, cid)
    assert (done.entrants, done.tokens, done.roster_entries) == (3, 4, 1)

    assert _figures(client, rt, cid) == before
    rows = rt.session.execute(select(Entrant.name, Entrant.phone, Entrant.client_address)
                              .where(Entrant.contest_id == cid)).all()
    assert len(rows) == 3
    assert {name for name, _, _ in rows} == {privacy.PLACEHOLDER_NAME}
    assert all(address is None and not PHONE_RUN.search(phone) for _, phone, address in rows)
    assert rt.session.scalar(select(func.count()).select_from(EntrantToken)) == 0
    assert rt.session.scalar(select(func.count()).select_from(RosterEntry)) == 0
    # A second run changes nothing and has nothing left to do.
    again = privacy.purge_personal_data(rt, cid)
    assert (again.entrants, again.tokens, again.roster_entries) == (0, 0, 0)
    assert _figures(client, rt, cid) == before


def test_purge_is_refused_before_the_contest_ends(app, client, rt):
    cid = _played_contest(client, rt)
    try:
        privacy.purge_personal_data(rt, cid)
    except Exception as error:  # noqa: BLE001  (the test names the error it expects below)
        assert getattr(error, "code", None) == "contest_not_ended"
    else:
        raise AssertionError("purged a running contest")
    rt.session.expire_all()
    phones = set(rt.session.scalars(select(Entrant.phone).where(Entrant.contest_id == cid)))
    assert phones == {phone for _, phone in WORKERS}


def test_cli_asks_then_purges(app, client, rt, runner):
    cid = _played_contest(client, rt)
    refused = runner.invoke(main, ["purge-personal", str(cid), "--yes"])
    assert refused.exit_code == 1 and "结束后" in refused.output
    # The command runs on the real clock: end the contest a minute ago by that clock.
    from contest.play.contests import get_contest

    get_contest(rt.session, cid).ends_at = datetime.now(UTC) - timedelta(minutes=1)
    rt.session.commit()
    declined = runner.invoke(main, ["purge-personal", str(cid)], input="n\n")
    assert declined.exit_code != 0 and "3 名报名者" in declined.output
    rt.session.expire_all()
    assert rt.session.scalar(select(func.count()).select_from(EntrantToken)) == 4

    result = runner.invoke(main, ["purge-personal", str(cid), "--yes"])
    assert result.exit_code == 0, result.output
    assert "已删除个人信息" in result.output
    rt.session.expire_all()
    assert not any(PHONE_RUN.search(p) for p in rt.session.scalars(select(Entrant.phone)))


def test_staff_purges_from_the_contest_page(app, client, rt, clock):
    cid = _played_contest(client, rt)
    before = _figures(client, rt, cid)
    make_admin(app, "staff1", role="staff")
    admin = app.test_client()
    assert sign_in(admin, "staff1").status_code == 302
    with admin.session_transaction() as session:
        token = session["csrf"]
    page = admin.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "删除个人信息" not in page  # the button waits for the end of the contest
    assert admin.post(f"/admin/contests/{cid}/purge-personal", data={"csrf_token": token}).status_code == 403
    assert admin.post(f"/admin/contests/{cid}/purge-personal").status_code == 400  # no CSRF token

    _end(rt, clock, cid)
    assert admin.get(f"/admin/contests/{cid}").status_code == 302  # the sign-in has lapsed since (12 hours)
    sign_in(admin, "staff1")
    with admin.session_transaction() as session:
        token = session["csrf"]
    assert "删除个人信息" in admin.get(f"/admin/contests/{cid}").get_data(as_text=True)
    reply = admin.post(f"/admin/contests/{cid}/purge-personal", data={"csrf_token": token})
    assert reply.status_code == 302 and reply.headers["Location"].endswith(f"/admin/contests/{cid}")
    assert "成绩与单位统计保留" in admin.get(reply.headers["Location"]).get_data(as_text=True)
    assert _figures(client, rt, cid) == before
    assert not any(PHONE_RUN.search(p) for p in rt.session.scalars(select(Entrant.phone)))
