"""CPU time per call of the participant API, in one process, without a network or a server.

The throughput benchmarks (contest_load.py, city_replay.py) measure what users see, but on a
shared 2-core machine the same code's flat-out rate varies by a third from one run to the next.
This one measures the work itself: the app's answer call, a new entrant's entry, and a whole
attempt (start, 10 answers, submit), through Flask's test client, as process CPU time; and the
three pages a worker loads for an attempt, with their scripts and styles as a browser keeps
them. Run it on two checkouts in turn to see what a change costs or saves:

    .venv/bin/python bench/call_cost.py
    .venv/bin/python bench/call_cost.py --database-url postgresql://postgres@127.0.0.1:5432/bench_cost \\
        --redis-url redis://127.0.0.1:6379/7

The test client's own work (building the WSGI environ) is in the figures, the same for both.
Without gevent, each answer is committed by itself rather than in a group. CPU time still
varies by a fifth between runs on a shared machine, so the Python function calls per call are
counted too (cProfile, on a separate pass): the same code counts the same every time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import time

from loadkit import Stores, answer_for, machine, make_contest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--answers", type=int, default=3000, help="answer calls measured")
    parser.add_argument("--attempts", type=int, default=90, help="whole attempts measured")
    args = parser.parse_args()

    stores = Stores(args.database_url, args.redis_url)
    app = stores.open()
    try:
        played = make_contest(app, units=5)
        api = Api(app, played)
        for index in range(5):  # warm up: the bank cache, the compiled statements
            api.attempt(api.enter(index))
        spent, answered, index = 0.0, 0, 5
        while answered < args.answers:  # one attempt per entrant, its 10 answers given 30 times over
            cpu, count = api.attempt(api.enter(index), rounds=30)
            spent, answered, index = spent + cpu, answered + count, index + 1
        entering = time.process_time()
        entrants = [api.enter(index + i) for i in range(max((args.attempts + 1) // 2, 200))]
        entry = (time.process_time() - entering) / len(entrants)
        started = time.process_time()
        for attempt in range(args.attempts):  # two attempts per entrant, within the daily limit
            api.attempt(entrants[attempt // 2])
        attempts = args.attempts
        whole = time.process_time() - started
        calls = function_calls(api, api.enter(index + len(entrants)), rounds=10)
        pages = page_visits(app, played)
    finally:
        stores.close()
    print(machine())
    print(f"call_cost: {'PostgreSQL' if args.database_url else 'SQLite'}, {stores.redis_url.split('?')[0]}")
    print(f"answer call: {spent / answered * 1e6:.0f} µs of CPU ({answered} calls)")
    print(f"entry call (a new entrant): {entry * 1e6:.0f} µs of CPU ({len(entrants)} calls)")
    print(f"whole attempt (start, 10 answers, submit): {whole / attempts * 1e3:.2f} ms of CPU ({attempts} attempts)")
    print(f"Python function calls: answer call {calls['answer']:.0f}, whole attempt {calls['attempt']:.0f}")
    print(f"an attempt's pages (contest, quiz, result) for a phone that has been before: "
          f"{pages['cpu'] * 1e3:.2f} ms of CPU, {pages['requests']:.0f} requests "
          f"(its first visit: {pages['first_requests']} requests)")


def page_visits(app, played, visits: int = 100) -> dict[str, float]:
    """The three pages a worker loads for an attempt, as a browser loads them: each page, then
    each script and style it links, unless kept from before (Cache-Control max-age), revalidated
    (If-None-Match) if stored without. CPU time and requests per visit, after the first."""
    client = app.test_client()
    kept: dict[str, str | None] = {}  # address -> ETag to revalidate with; None: fresh, not asked again
    paths = [f"/c/{played.contest_id}", f"/c/{played.contest_id}/play", f"/c/{played.contest_id}/result/1"]

    def visit() -> int:
        requests = 0
        for path in paths:
            page = client.get(path)
            assert page.status_code == 200, path
            requests += 1
            for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.get_data(as_text=True)):
                if url in kept and kept[url] is None:
                    continue
                headers = {"If-None-Match": kept[url]} if url in kept else {}
                reply = client.get(url, headers=headers)
                assert reply.status_code in (200, 304), url
                requests += 1
                kept[url] = None if reply.cache_control.max_age else reply.headers.get("ETag")
        return requests

    first = visit()
    for _ in range(10):  # warm up
        visit()
    started, requests = time.process_time(), 0
    for _ in range(visits):
        requests += visit()
    return {"cpu": (time.process_time() - started) / visits, "requests": requests / visits, "first_requests": first}


def function_calls(api: Api, auth: dict, rounds: int) -> dict[str, float]:
    """Python function calls per answer call and per whole attempt (10 answers), by cProfile."""
    profile = cProfile.Profile()
    profile.enable()
    _cpu, answered = api.attempt(auth, rounds=rounds)
    profile.disable()
    answers_and_more = pstats.Stats(profile).total_calls
    profile = cProfile.Profile()
    profile.enable()
    api.attempt(auth)
    profile.disable()
    attempt = pstats.Stats(profile).total_calls
    extra = answers_and_more - attempt  # the (rounds - 1) × 10 answers beyond one attempt's 10
    return {"answer": extra / (answered - answered // rounds), "attempt": attempt}


class Api:
    """The participant API through the app's test client."""

    def __init__(self, app, played) -> None:
        self.client = app.test_client()
        self.played = played
        self.rng = random.Random(2026)

    def enter(self, index: int) -> dict:
        body = {"name": "张三", "phone": f"139{index:08d}", "unit_id": self.played.unit_ids[0]}
        reply = self.client.post(f"/api/v1/contests/{self.played.contest_id}/entrants", json=body)
        assert reply.status_code == 201, reply.json
        return {"Authorization": "Bearer " + reply.json["token"]}

    def attempt(self, auth: dict, rounds: int = 1) -> tuple[float, int]:
        """Start, answer every question `rounds` times, submit; the CPU time of the answer calls and their count."""
        reply = self.client.post(f"/api/v1/contests/{self.played.contest_id}/attempts", headers=auth)
        assert reply.status_code == 201, reply.json
        attempt = reply.json
        started = time.process_time()
        count = 0
        for _ in range(rounds):
            for question in attempt["questions"]:
                path = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}"
                reply = self.client.put(path, headers=auth, json={"answer": answer_for(question, self.rng)})
                assert reply.status_code == 200, reply.json
                count += 1
        spent = time.process_time() - started
        reply = self.client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth)
        assert reply.status_code == 200, reply.json
        return spent, count


if __name__ == "__main__":
    main()
