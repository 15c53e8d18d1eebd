"""`contest setup-demo` (what `make run` does first): a demo a newcomer can play and export at once."""

from __future__ import annotations

from sqlalchemy import func, select

from contest.demo import setup_demo
from contest.models import AdminUser, Bank, Contest, Unit
from tests.play_support import right_answer
from tests.reports_support import export_bytes, read_frames


def _play(client, rt, contest: Contest, unit_ids: list[int], people: int) -> None:
    for i in range(people):
        reply = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": f"职工{i}", "phone": f"1390000{i:04d}", "unit_id": unit_ids[i % 4]})
        headers = {"Authorization": f"Bearer {reply.get_json()['token']}"}
        paper = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
        # Different scores, so the tiers split; at least 6 right answers each (6 points or more,
        # whichever questions the shuffle put first), so every one left for 优胜奖 may be drawn.
        for shown in paper["questions"][: 6 + i % 5]:
            client.put(f"/api/v1/attempts/{paper['attempt_id']}/answers/{shown['id']}", headers=headers,
                       json={"answer": right_answer(rt.session, shown)})
        assert client.post(f"/api/v1/attempts/{paper['attempt_id']}/submit", headers=headers).status_code == 200


def test_demo_is_prepared_once_and_its_workbook_fills_every_sheet(client, rt, instance_dir):
    said = list(setup_demo(rt, str(instance_dir), "http://127.0.0.1:5000"))
    assert any("管理员登录" in line for line in said)
    counts = [rt.session.scalar(select(func.count()).select_from(m)) for m in (AdminUser, Unit, Bank, Contest)]
    assert counts[0] == 1 and counts[1] >= 30 and counts[2] == 1 and counts[3] == 1
    assert not any(line.startswith("已创建") for line in setup_demo(rt, str(instance_dir), "http://x"))  # again: nothing new

    contest = rt.session.scalars(select(Contest)).one()
    unit_ids = rt.session.scalars(select(Unit.id).order_by(Unit.id).limit(4)).all()
    _play(client, rt, contest, unit_ids, people=24)

    frames = read_frames(export_bytes(rt, contest.id))
    prizes = frames["获奖名单"]["奖项"].value_counts().to_dict()
    assert prizes["一等奖"] == 3 and prizes["二等奖"] == 5 and prizes["三等奖"] == 10
    assert prizes.get("优胜奖", 0) == 24 - 18  # all left after the 18 ranked prizes (the draw takes up to 20)
    assert "抽奖记录" in frames and len(frames["抽奖记录"]) > 0
    org = frames["优秀组织奖"]
    assert len(org) == 4 and org.astype(str).apply(lambda row: row.str.contains("优秀组织奖").any(), axis=1).sum() == 4
