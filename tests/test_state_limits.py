"""Login try counters in Redis: fixed windows, counted atomically."""

from concurrent.futures import ThreadPoolExecutor

from contest.state import keys


def test_allowance_runs_out_and_the_window_expires(app):
    limits = app.extensions["jd.state"].limits
    counters = [("login_user", "admin"), ("login_addr", "10.0.0.1")]
    assert all(limits.take(counters, limit=3, window_s=900) for _ in range(3))
    assert not limits.take(counters, limit=3, window_s=900)
    ttl = app.extensions["jd.state"].redis.ttl(keys.limit("login_user", "admin"))
    assert 0 < ttl <= 900
    # A different username from the same address is refused too: the address is used up.
    assert not limits.take([("login_user", "other"), ("login_addr", "10.0.0.1")], limit=3, window_s=900)


def test_give_back_and_clear(app):
    limits = app.extensions["jd.state"].limits
    for _ in range(2):
        limits.take([("login_addr", "10.0.0.2")], limit=5, window_s=60)
    limits.give_back("login_addr", "10.0.0.2")
    assert limits.tries("login_addr", "10.0.0.2") == 1
    limits.clear("login_addr", "10.0.0.2")
    limits.give_back("login_addr", "10.0.0.2")  # nothing to give back: stays at zero, no key made
    assert limits.tries("login_addr", "10.0.0.2") == 0
    assert not app.extensions["jd.state"].redis.exists(keys.limit("login_addr", "10.0.0.2"))


def test_parallel_tries_never_exceed_the_limit(app):
    limits = app.extensions["jd.state"].limits
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda _: limits.take([("login_user", "race")], 10, 900), range(40)))
    assert sum(allowed) == 10
