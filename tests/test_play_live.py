"""The /live channel: join, pushes after submits, throttling, and nothing secret in frames."""

from __future__ import annotations

import json
import re
import time

from contest.play import live
from tests.play_support import make_bank, make_contest, make_units, right_answer


def _received(sio, event, predicate=lambda body: True, timeout=5.0):
    """Frames arrive through the Redis message queue on its listener thread: wait for one."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        for frame in sio.get_received(live.NAMESPACE):
            seen.append(frame)
            if frame["name"] == event and predicate(frame["args"][0]):
                return frame["args"][0], seen
        time.sleep(0.01)
    raise AssertionError(f"no {event} frame; got {[f['name'] for f in seen]}")


def _play_one(client, rt, cid, unit_id, phone, name="赵六", right=True, saves=1):
    token = client.post(f"/api/v1/contests/{cid}/entrants",
                        json={"name": name, "phone": phone, "unit_id": unit_id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()
    if right:
        for q in attempt["questions"]:
            for _ in range(saves):  # saved again (a worker going back to a question): each is counted
                client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                           json={"answer": right_answer(rt.session, q)})
    return client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).get_json()


def test_the_public_board_is_kept_a_moment_and_a_submit_here_shows_at_once(app, client, rt, clock):
    from contest.models import Entrant

    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    url = f"/api/v1/contests/{contest.id}/leaderboard"
    _play_one(client, rt, contest.id, unit.id, "13600000101", name="赵六")
    first = client.get(url).get_json()
    assert [e["name"] for e in first["entries"]] == ["赵*"]

    # A change the board's keepers are not told of (as one made by another process): the kept
    # body until it is BOARD_CACHE_SECONDS old, then a new one.
    rt.session.execute(Entrant.__table__.update().values(name="钱七"))
    rt.session.commit()
    clock.advance(app.config["BOARD_CACHE_SECONDS"] / 2)
    assert client.get(url).get_json() == first
    clock.advance(app.config["BOARD_CACHE_SECONDS"])
    assert [e["name"] for e in client.get(url).get_json()["entries"]] == ["钱*"]

    # A submit in this process forgets the kept body at once; other sizes are kept apart.
    _play_one(client, rt, contest.id, unit.id, "13600000102", name="孙八")
    assert len(client.get(url).get_json()["entries"]) == 2
    assert len(client.get(url + "?limit=1").get_json()["entries"]) == 1


def _initial_stats(client, cid: int) -> dict:
    page = client.get(f"/c/{cid}/board").get_data(as_text=True)
    return json.loads(re.search(r'<script type="application/json" id="initial">(.*?)</script>', page).group(1))["stats"]


def test_the_board_page_and_joins_share_the_stats_of_a_moment(app, client, rt, clock):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    _play_one(client, rt, contest.id, unit.id, "13600000201")
    first = _initial_stats(client, contest.id)
    assert first["entrants"] == 1 and first["units"][0]["participants"] == 1

    # An entry the keepers are not told of (as one in another process): the kept stats, on the
    # page and on a join, until they are BOARD_CACHE_SECONDS old; then new ones.
    rt.state.boards.count_entrant(contest.id)
    clock.advance(app.config["BOARD_CACHE_SECONDS"] / 2)
    assert _initial_stats(client, contest.id) == first
    sio = app.extensions["jd.socketio"].test_client(app, namespace=live.NAMESPACE)
    sio.emit("join", {"contest": contest.id}, namespace=live.NAMESPACE, callback=True)
    joined = {f["name"]: f["args"][0] for f in sio.get_received(live.NAMESPACE)}
    assert joined["stats"] == first
    clock.advance(app.config["BOARD_CACHE_SECONDS"])
    assert _initial_stats(client, contest.id)["entrants"] == 2

    # A submit in this process forgets them at once.
    _play_one(client, rt, contest.id, unit.id, "13600000202")
    assert _initial_stats(client, contest.id)["units"][0]["participants"] == 2


def test_join_sends_board_and_stats_then_pushes_changes(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    sio = app.extensions["jd.socketio"].test_client(app, namespace=live.NAMESPACE)
    ack = sio.emit("join", {"contest": contest.id}, namespace=live.NAMESPACE, callback=True)
    assert ack == {"joined": contest.id}
    frames = sio.get_received(live.NAMESPACE)
    assert [f["name"] for f in frames] == ["leaderboard", "stats"]
    assert frames[0]["args"][0]["entries"] == []

    _play_one(client, rt, contest.id, unit.id, "13600000001", name="欧阳娜娜")
    assert live.push_once(app) == [contest.id]
    board, seen = _received(sio, "leaderboard", lambda b: b["entries"])
    assert board["entries"][0]["name"] == "欧阳**" and board["participants"] == 1
    raw = json.dumps(seen, ensure_ascii=False)
    assert "13600000001" not in raw and "欧阳娜娜" not in raw


def test_many_submits_make_one_push(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    for i in range(5):
        _play_one(client, rt, contest.id, unit.id, f"1360000001{i}", right=False)
    assert live.push_once(app) == [contest.id]
    assert live.push_once(app) == []  # nothing changed since: nothing pushed


def test_a_contest_is_pushed_once_per_interval_by_all_processes_together(app):
    from contest.state.live import LiveQueue

    mine = app.extensions["jd.state"].live
    other = LiveQueue(app.extensions["jd.state"].redis)  # another process's pusher: the same keys
    mine.mark(7)
    assert mine.take(60, 60) == ([7], [7])
    mine.mark(7)  # changed again at once
    assert other.take(60, 60) == ([], []) and mine.take(60, 60) == ([], [])  # pushed a moment ago
    assert other.take(0, 60) == ([7], [])  # still marked: its board pushed when its turn comes
    assert other.take(0, 0) == ([], [7])  # and the stats of that change when theirs comes
    assert other.take(0, 0) == ([], [])


def test_stats_are_pushed_at_their_own_slower_pace_and_the_last_change_always(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    sio = app.extensions["jd.socketio"].test_client(app, namespace=live.NAMESPACE)
    sio.emit("join", {"contest": contest.id}, namespace=live.NAMESPACE, callback=True)
    sio.get_received(live.NAMESPACE)
    app.config.update(LIVE_PUSH_INTERVAL=0, LIVE_STATS_INTERVAL=60)

    _play_one(client, rt, contest.id, unit.id, "13600000201")
    assert live.push_once(app) == [contest.id]
    assert [f["name"] for f in sio.get_received(live.NAMESPACE)] == ["leaderboard", "stats"]

    _play_one(client, rt, contest.id, unit.id, "13600000202")
    assert live.push_once(app) == [contest.id]
    frames = sio.get_received(live.NAMESPACE)
    assert [f["name"] for f in frames] == ["leaderboard"]  # the stats' minute has not passed
    assert frames[0]["args"][0]["participants"] == 2

    app.config["LIVE_STATS_INTERVAL"] = 0  # their turn: the pusher's next round sends them
    assert live.push_once(app) == [contest.id]
    frames = sio.get_received(live.NAMESPACE)
    assert [f["name"] for f in frames] == ["stats"] and frames[0]["args"][0]["participants"] == 2
    assert live.push_once(app) == []


def test_join_unknown_contest_is_refused(app):
    sio = app.extensions["jd.socketio"].test_client(app, namespace=live.NAMESPACE)
    ack = sio.emit("join", {"contest": 999999}, namespace=live.NAMESPACE, callback=True)
    assert ack["error"] == "contest_not_found" and ack["message"]
    ack = sio.emit("join", {"contest": 2**70}, namespace=live.NAMESPACE, callback=True)
    assert ack["error"] == "contest_not_found"  # past the database's integer: none such, not an overflow
    for data in ({"contest": "x"}, {"contest": True}, {"contest": 1.5}, "abc", [1], None):
        ack = sio.emit("join", data, namespace=live.NAMESPACE, callback=True)
        assert ack["error"] == "invalid" and ack["message"], data


def test_rebuilt_board_equals_live_board(app, client, rt, clock):
    from contest.play import ranking

    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    for i in range(6):
        _play_one(client, rt, contest.id, units[i % 3].id, f"1350000000{i}", right=i % 2 == 0, saves=1 + i % 4 // 2)
        clock.advance(61)  # answers over several minutes, for the monitor's answers per minute
    before = client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=50").get_json()
    stats_before = client.get(f"/api/v1/contests/{contest.id}/units/stats").get_json()
    counters = rt.state.boards.stats(contest.id), rt.state.boards.per_minute(contest.id)
    assert len(counters[1]) == 3  # the three plays with answers, a minute apart
    app.extensions["jd.state"].redis.flushdb()  # Redis lost everything
    clock.advance(app.config["BOARD_CACHE_SECONDS"])  # past the kept body: the board is made again
    after = client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=50").get_json()
    assert after["entries"] == before["entries"] and after["participants"] == before["participants"] == 6
    assert client.get(f"/api/v1/contests/{contest.id}/units/stats").get_json() == stats_before
    assert (rt.state.boards.stats(contest.id), rt.state.boards.per_minute(contest.id)) == counters
    ranking.rebuild(rt, contest)
    assert client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=50").get_json()["entries"] == before["entries"]
