"""The live state on a Redis Cluster of three masters (tests/cluster_support.py).

Every script and transaction must keep to one hash slot (a contest's keys share `{c<cid>}`, a
game's `{g<gid>}`); the few global keys (the finisher's and the closer's queues, the push marks,
tokens) are touched only by single-key commands, which a cluster pipeline routes node by node.
Here a set of the suite's own tests, covering every script and transaction, is collected again
with `app` on a fresh cluster. The whole suite runs on a cluster too (README, "Redis Cluster").
"""

from __future__ import annotations

import pytest
import redis
from redis.crc import key_slot

from contest import create_app
from contest.play import ranking
from contest.state import keys
from tests.cluster_support import LocalCluster
from tests.play_support import make_bank, make_contest, make_units, right_answer

# The suite's tests, collected again in this module, so with the `app` below (on the cluster).
from tests.test_games_buzzer import test_wrong_passes_to_the_next_and_right_closes_with_points  # noqa: F401
from tests.test_games_live import (  # noqa: F401
    test_host_controls_pause_resume_skip_remove_end,
    test_state_survives_a_redis_flush,
    test_whole_game_to_the_podium,
)
from tests.test_play_api import (  # noqa: F401
    setup,
    test_deadline_is_judged_on_the_server,
    test_full_attempt_without_key_then_result,
)
from tests.test_play_live import test_join_sends_board_and_stats_then_pushes_changes  # noqa: F401
from tests.test_play_races import test_concurrent_copies_of_one_answer_store_one  # noqa: F401
from tests.test_play_throttle import test_answers_are_limited_per_entrant, tight  # noqa: F401
from tests.test_privacy import test_purge_keeps_every_figure_and_leaves_no_phone_or_name  # noqa: F401


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    local = LocalCluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield local.start()
    finally:  # also when the cluster failed to form: no node outlives the tests
        local.stop()


@pytest.fixture(scope="module")
def app(stores, tmp_path_factory, clock, cluster):
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("cluster_instance")),
        "DATABASE_URL": stores["database_url"],
        "REDIS_URL": cluster.url,
        "REDIS_CLUSTER": True,
        "SECRET_KEY": "test-secret",
        "CLOCK": clock,
        "SOCKETIO_MESSAGE_QUEUE": False,
    })
    yield app
    app.extensions["jd.db"].engine.dispose()


def test_the_environment_turns_the_cluster_client_on(cluster, stores, tmp_path, monkeypatch):
    """REDIS_CLUSTER=1 as an operator sets it (README, Settings); the embedded Redis never is one."""
    monkeypatch.setenv("REDIS_CLUSTER", "1")
    monkeypatch.setenv("REDIS_URL", cluster.url)
    on = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": stores["database_url"], "SECRET_KEY": "x",
                     "SOCKETIO_MESSAGE_QUEUE": False})
    assert isinstance(on.extensions["jd.state"].redis, redis.RedisCluster)
    monkeypatch.setenv("REDIS_CLUSTER", "0")
    off = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": stores["database_url"], "SECRET_KEY": "x",
                      "SOCKETIO_MESSAGE_QUEUE": False, "REDIS_URL": stores["redis_url"]})
    assert not isinstance(off.extensions["jd.state"].redis, redis.RedisCluster)
    for made in (on, off):
        made.extensions["jd.db"].engine.dispose()


def test_the_cluster_refuses_a_script_across_slots(app):
    """The guard this module relies on: a script over two slots fails here (it would not on one Redis)."""
    client = app.extensions["jd.state"].redis
    assert isinstance(client, redis.RedisCluster)
    with pytest.raises(redis.exceptions.RedisClusterException, match="same key slot"):
        client.eval("return redis.call('MGET', KEYS[1], KEYS[2])", 2, keys.board(1), keys.board(2))


def test_a_contests_keys_and_a_games_keys_each_share_one_slot():
    for cid in (1, 42, 90210):
        contest = [*keys.contest_keys(cid), keys.attempt(cid, 7), keys.rebuild_lock(cid)]
        assert len({key_slot(k.encode()) for k in contest}) == 1
    for gid in (1, 42):
        game = [*keys.game_keys(gid, 12), keys.game_lock(gid), keys.game_seat_lock(gid, 3)]
        assert len({key_slot(k.encode()) for k in game}) == 1


def test_a_contest_played_over_the_cluster_ranks_as_a_rebuild_from_sql(app, client, rt, cluster):
    contest = make_contest(rt, make_bank(rt.session))
    units = make_units(rt.session)
    for n in range(6):
        token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": f"选手{n}", "phone": f"1390000{n:04d}", "unit_id": units[n % 3].id},
                            ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        paper = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
        for q in paper["questions"][: 1 + n % len(paper["questions"])]:
            saved = client.put(f"/api/v1/attempts/{paper['attempt_id']}/answers/{q['id']}", headers=headers,
                               json={"answer": right_answer(rt.session, q)})
            assert saved.status_code == 200, saved.get_json()
        assert client.post(f"/api/v1/attempts/{paper['attempt_id']}/submit", headers=headers).status_code == 200
    live = client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=10").get_json()["entries"]
    units_live = client.get(f"/api/v1/contests/{contest.id}/units/stats").get_json()
    assert len(live) == 6
    # Tokens and limits lie in other slots than the contest's: the state really is spread out.
    assert sum(1 for count in cluster.keys_per_node() if count) >= 2

    ranking.rebuild(rt, contest)
    assert client.get(f"/api/v1/contests/{contest.id}/leaderboard?limit=10").get_json()["entries"] == live
    assert client.get(f"/api/v1/contests/{contest.id}/units/stats").get_json() == units_live
