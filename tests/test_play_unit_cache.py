"""The process's copy of the units (contest/play/unit_cache.py): the picker's list, entry's check of
the unit, the unit standings. A change made here is seen at once; one made behind its back (another
process, or SQL) neither loses an entry nor stores one for a unit that is gone."""

from __future__ import annotations

from sqlalchemy import func, insert, select, text

from contest.models import Entrant, Unit
from tests.play_support import make_bank, make_contest, make_units


def _setup(rt):
    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    return contest.id, [unit.id for unit in units]


def test_picker_list_is_revalidated_by_etag(client, rt):
    cid, _ids = _setup(rt)
    first = client.get(f"/api/v1/contests/{cid}/units")
    assert first.status_code == 200 and first.mimetype == "application/json"
    assert sorted(u["name"] for u in first.get_json()) == ["测试单位0", "测试单位1", "测试单位2"]
    assert set(first.get_json()[0]) == {"id", "name"}
    assert first.headers["ETag"] and "max-age=60" in first.headers["Cache-Control"]

    unchanged = client.get(f"/api/v1/contests/{cid}/units", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""

    # An organizer's import in this process shows at once, under a new ETag.
    rt.session.add(Unit(name="新成立单位", headcount=5))
    rt.session.commit()
    changed = client.get(f"/api/v1/contests/{cid}/units", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert "新成立单位" in {u["name"] for u in changed.get_json()}
    stats = client.get(f"/api/v1/contests/{cid}/units/stats").get_json()
    assert "新成立单位" in {row["name"] for row in stats}


def test_unit_added_behind_the_copy_is_accepted_at_once(client, rt):
    cid, _ids = _setup(rt)
    assert client.get(f"/api/v1/contests/{cid}/units").status_code == 200  # the copy is taken
    with rt.session.get_bind().begin() as conn:  # as another process would: no event reaches this one
        new_id = conn.execute(insert(Unit.__table__).values(name="别处新增单位", headcount=3)
                              .returning(Unit.__table__.c.id)).scalar()
    reply = client.post(f"/api/v1/contests/{cid}/entrants",
                        json={"name": "李四", "phone": "13800000002", "unit_id": new_id})
    assert reply.status_code == 201, reply.get_json()
    assert rt.session.scalar(select(Entrant.unit_id).where(Entrant.id == reply.get_json()["entrant_id"])) == new_id


def test_unit_removed_behind_the_copy_is_refused_and_nothing_stored(client, rt):
    cid, ids = _setup(rt)
    assert client.get(f"/api/v1/contests/{cid}/units").status_code == 200  # the copy still lists it
    with rt.session.get_bind().begin() as conn:
        conn.execute(text("DELETE FROM units WHERE id = :id"), {"id": ids[2]})
    body = {"name": "王五", "phone": "13800000003", "unit_id": ids[2]}
    for _ in range(2):  # the first refusal drops the copy; the second is refused by the SQL check
        reply = client.post(f"/api/v1/contests/{cid}/entrants", json=body)
        assert reply.status_code == 400, reply.get_json()
        assert reply.get_json()["field"] == "unit_id" and "单位不存在" in reply.get_json()["message"]
    assert rt.session.scalar(select(func.count()).select_from(Entrant)) == 0
    # The next entry with a unit that is there goes through on the same connection pool.
    ok = client.post(f"/api/v1/contests/{cid}/entrants", json={**body, "unit_id": ids[0]})
    assert ok.status_code == 201, ok.get_json()
