"""Worker pages through the Flask test client: they render, say the rules, and keep phones private."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.play_support import make_bank, make_contest, make_units, right_answer

PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def _readable(html: str) -> str:
    """The page with its embedded JSON decoded (tojson escapes non-ASCII as \\uXXXX)."""
    found = re.search(r'<script type="application/json" id="initial">(.*?)</script>', html, re.S)
    embedded = json.dumps(json.loads(found.group(1)), ensure_ascii=False) if found else ""
    return html + embedded


def _play(client, rt, cid, unit_id, name, phone):
    token = client.post(f"/api/v1/contests/{cid}/entrants",
                        json={"name": name, "phone": phone, "unit_id": unit_id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()
    for q in attempt["questions"]:
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                   json={"answer": right_answer(rt.session, q)})
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    return attempt["attempt_id"]


def test_index_lists_open_and_upcoming_contests_only(client, rt):
    bank = make_bank(rt.session)
    now = rt.clock.now()
    make_contest(rt, bank, title="正在进行的竞赛")
    make_contest(rt, bank, title="下周的竞赛", starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=9))
    make_contest(rt, bank, title="去年的竞赛", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=7))
    html = client.get("/").get_data(as_text=True)
    assert "正在进行的竞赛" in html and "进行中" in html
    assert "下周的竞赛" in html and "未开始" in html
    assert "去年的竞赛" not in html


def test_index_without_contests_says_so(client):
    assert "目前没有进行中或即将开始的竞赛" in client.get("/").get_data(as_text=True)


def test_contest_home_shows_the_rules(client, rt):
    contest = make_contest(rt, make_bank(rt.session), paper="single=3,multiple=1,judge=1,fill=1",
                           description="学党史，知党恩。", attempts_per_day=2, time_limit_s=600,
                           partial_credit=True)
    response = client.get(f"/c/{contest.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("党史知识竞赛", "学党史，知党恩。", "每人每天 2 次", "10 分钟", "共 6 题",
                 "单选题 3 道", "多选题 1 道", "判断题 1 道", "填空题 1 道", "少选得一半分",
                 "得分高者在前", "用时短者在前", "先完成者在前", "交卷后可查看正确答案和解析",
                 f'data-units-url="/api/v1/contests/{contest.id}/units"'):
        assert text in html, text


def test_daily_sum_contest_says_points_accumulate(client, rt):
    contest = make_contest(rt, make_bank(rt.session), ranking_mode="daily_sum", review_after_submit=False)
    html = client.get(f"/c/{contest.id}").get_data(as_text=True)
    assert "每日最好成绩累计" in html and "交卷后不公布答案" in html


def test_closed_contest_home_has_no_entry_form(client, rt):
    now = rt.clock.now()
    contest = make_contest(rt, make_bank(rt.session), starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    html = client.get(f"/c/{contest.id}").get_data(as_text=True)
    assert "本次竞赛已结束" in html and 'data-status="closed"' in html


@pytest.mark.parametrize("path", ["/c/{cid}", "/c/{cid}/play", "/c/{cid}/result/1", "/c/{cid}/board",
                                  "/c/{cid}/screen"])
def test_pages_render_and_unknown_contest_is_404(client, rt, path):
    contest = make_contest(rt, make_bank(rt.session))
    response = client.get(path.format(cid=contest.id))
    assert response.status_code == 200
    assert "text/html" in response.content_type
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.get_data(as_text=True)):
        assert client.get(src).status_code == 200, src
    missing = client.get(path.format(cid=contest.id + 1000))
    assert missing.status_code == 404
    assert "竞赛不存在" in missing.get_data(as_text=True) and "text/html" in missing.content_type


def test_public_pages_mask_names_and_show_no_phone(client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    _play(client, rt, contest.id, units[0].id, "欧阳娜娜", "13912345678")
    _play(client, rt, contest.id, units[1].id, "张三丰", "13700001111")
    for path in ("/", f"/c/{contest.id}", f"/c/{contest.id}/board", f"/c/{contest.id}/screen",
                 f"/c/{contest.id}/play", f"/c/{contest.id}/result/1"):
        html = _readable(client.get(path).get_data(as_text=True))
        assert not PHONE.search(html), path
        assert "欧阳娜娜" not in html and "张三丰" not in html, path
    board = _readable(client.get(f"/c/{contest.id}/board").get_data(as_text=True))
    assert "欧阳**" in board and "张**" in board and "测试单位0" in board
    screen = _readable(client.get(f"/c/{contest.id}/screen").get_data(as_text=True))
    assert "欧阳**" in screen and '"participants": 2' in screen


def test_vendored_socketio_client_names_its_version(client):
    script = client.get("/static/vendor/socket.io/socket.io.min.js")
    assert script.status_code == 200
    version = re.search(r"Socket\.IO v(4\.\d+\.\d+)", script.get_data(as_text=True)).group(1)
    readme = client.get("/static/vendor/socket.io/README.md").get_data(as_text=True)
    assert f"socket.io-client {version}" in readme
    assert "MIT" in client.get("/static/vendor/socket.io/LICENSE").get_data(as_text=True)
