"""No phone number or full name on any public page, public API body or /live frame.

Pages are found in the URL map (every GET rule outside /admin and /static), so pages added
later are scanned too.
"""

from __future__ import annotations

import json
import re

from contest.play import live
from tests.play_support import make_bank, make_contest, make_units, right_answer

PHONE_RUN = re.compile(r"(?<!\d)1\d{10}(?!\d)")
WORKERS = [("欧阳娜娜", "13800138001"), ("张三丰", "13912345678"), ("李四", "15000000002"), ("王小明", "18611112222")]


def _play(client, rt, cid, unit_id, name, phone):
    reply = client.post(f"/api/v1/contests/{cid}/entrants", json={"name": name, "phone": phone, "unit_id": unit_id})
    assert reply.status_code == 201
    headers = {"Authorization": f"Bearer {reply.get_json()['token']}"}
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()
    for q in attempt["questions"]:
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                   json={"answer": right_answer(rt.session, q)})
    assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).status_code == 200
    return attempt["attempt_id"]


def _public_paths(app, ids: dict[str, str]) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/admin", "/static")) or "GET" not in rule.methods:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", ids.get(name, "1"), path)
        paths.append(path)
    return paths


def _assert_clean(where: str, body: str) -> None:
    found = PHONE_RUN.findall(body)
    assert not found, f"{where} carries phone numbers {found}"
    for name, _phone in WORKERS:
        assert name not in body, f"{where} carries the full name {name}"


def test_public_pages_api_and_live_frames_carry_no_personal_data(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    sio = app.extensions["jd.socketio"].test_client(app, namespace=live.NAMESPACE)
    assert sio.emit("join", {"contest": contest.id}, namespace=live.NAMESPACE, callback=True) == {"joined": contest.id}

    aid = None
    for i, (name, phone) in enumerate(WORKERS):
        aid = _play(client, rt, contest.id, units[i % len(units)].id, name, phone)
    assert live.push_once(app) == [contest.id]

    paths = _public_paths(app, {"cid": str(contest.id), "aid": str(aid), "pin": "123456"})
    assert f"/api/v1/contests/{contest.id}/leaderboard" in paths and "/" in paths
    seen = 0
    for path in paths:
        response = client.get(path + ("?limit=100" if path.endswith("/leaderboard") else ""))
        _assert_clean(f"GET {path} ({response.status_code})", response.get_data(as_text=True))
        seen += response.status_code == 200
    assert seen >= 5

    board = client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=100").get_json()
    shown = {entry["name"] for entry in board["entries"]}
    assert shown == {"欧阳**", "张**", "李*", "王**"}

    frames = sio.get_received(live.NAMESPACE)
    assert {"leaderboard", "stats"} <= {frame["name"] for frame in frames}
    assert any(frame["name"] == "leaderboard" and len(frame["args"][0]["entries"]) == 4 for frame in frames)
    _assert_clean("/live frames", json.dumps(frames, ensure_ascii=False))
