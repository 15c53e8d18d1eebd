"""Leaderboard push latency: from a submit to the update reaching 1,000 `/live` clients.

1,000 python-socketio AsyncClients (websocket transport) connect to one `contest serve`
process and join a contest. Then, one at a time, a new worker enters, answers and submits
over HTTP; each submit raises the board's `participants` by one, so the first `leaderboard`
frame a client receives with participants >= k is the k-th submit's update. Printed: the
latency of every (submit, client) delivery and, per submit, until the last client had it.

    .venv/bin/python bench/push_latency.py [--clients 1000] [--submits 20] [--server gevent]
    .venv/bin/python bench/push_latency.py --answer-rate 400     # while 500 workers answer

Target (issue 3): p99 under 1 s. The server throttles pushes to one per LIVE_PUSH_INTERVAL
(0.3 s by default) per contest, which is part of the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

from contest_load import Run, worker
from loadkit import (
    Calls,
    Http,
    LiveClient,
    Server,
    Stores,
    connect_all,
    cpu_seconds,
    machine,
    make_contest,
    ms,
    table,
)


class Watcher(LiveClient):
    """One live client; remembers when it first saw each participant count."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.seen: dict[int, float] = {}

    async def on_board(self, body: dict) -> None:
        now = time.monotonic()
        count = body.get("participants", 0)
        if count not in self.seen:
            self.seen[count] = now

    def first_at_least(self, count: int) -> float | None:
        times = [at for seen, at in self.seen.items() if seen >= count]
        return min(times) if times else None


async def submit_one(http: Http, cid: int, unit_id: int, index: int) -> float:
    """A new worker enters, answers one question and submits; returns when the submit was sent."""
    status, entered = await http.request("POST", f"/api/v1/contests/{cid}/entrants",
                                         {"name": f"观察{index}", "phone": f"177{index:08d}", "unit_id": unit_id})
    assert status == 201, entered
    token = entered["token"]
    status, paper = await http.request("POST", f"/api/v1/contests/{cid}/attempts", token=token)
    assert status in (200, 201), paper
    question = next(q for q in paper["questions"] if q["type"] == "judge")
    await http.request("PUT", f"/api/v1/attempts/{paper['attempt_id']}/answers/{question['id']}",
                       {"answer": True}, token)
    sent = time.monotonic()
    status, result = await http.request("POST", f"/api/v1/attempts/{paper['attempt_id']}/submit", token=token)
    assert status == 200, result
    return sent


async def run(args, server: Server, played, other) -> dict:
    watchers = [Watcher(server.url) for _ in range(args.clients)]
    began = time.monotonic()
    failed = await connect_all(watchers, played.contest_id)
    joined = time.monotonic() - began
    await asyncio.sleep(1)  # let the join frames settle before the first submit
    http = Http("127.0.0.1", server.port)
    rng = random.Random(7)
    load, load_tasks = None, []
    if args.answer_rate:  # answering workers as contest_load.py drives them, meanwhile
        now = time.monotonic()
        span = 5 + args.submits * (args.gap + 0.1)
        # On a contest of their own: their submits must not be taken for the watched board's.
        load = Run(port=server.port, contest_id=other.contest_id, unit_ids=other.unit_ids,
                   interval=args.answer_workers / args.answer_rate, window=(now + 5, now + span), stop_at=now + span,
                   calls={kind: Calls(kind) for kind in ("enter", "start", "answer", "submit")})
        load_tasks = [asyncio.ensure_future(worker(load, i, 4.0)) for i in range(args.answer_workers)]
        await asyncio.sleep(5)
    server_cpu, own_cpu = server.cpu(), cpu_seconds(os.getpid())
    sends = []
    for k in range(1, args.submits + 1):
        sends.append(await submit_one(http, played.contest_id, rng.choice(played.unit_ids), k))
        await asyncio.sleep(args.gap)
    await asyncio.sleep(3)  # the last pushes arrive
    cpu = (server.cpu() - server_cpu, cpu_seconds(os.getpid()) - own_cpu)
    if load_tasks:
        await asyncio.wait(load_tasks, timeout=15)
    http.close()
    live = [w for w in watchers if w.client.connected]
    deliveries, everyone, missing = [], [], 0
    for k, sent in enumerate(sends, start=1):
        arrivals = [w.first_at_least(k) for w in live]
        got = [at - sent for at in arrivals if at is not None]
        missing += len(arrivals) - len(got)
        deliveries += got
        if got:
            everyone.append(max(got))
    await asyncio.gather(*(w.client.disconnect() for w in watchers), return_exceptions=True)
    return {"failed": failed, "joined_s": joined, "connected": len(live), "deliveries": deliveries,
            "everyone": everyone, "missing": missing, "cpu": cpu, "span": sends[-1] - sends[0] + 3, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--submits", type=int, default=20)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between submits")
    parser.add_argument("--server", default=None, help="gevent | eventlet | threading (default: serve's own)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--port", type=int, default=5393)
    parser.add_argument("--answer-rate", type=float, default=0,
                        help="meanwhile, answers/s offered by --answer-workers (as contest_load.py); 0: none")
    parser.add_argument("--answer-workers", type=int, default=500)
    args = parser.parse_args()

    stores = Stores(args.database_url, args.redis_url)
    server = None
    try:
        app = stores.open()
        played = make_contest(app, units=50)
        other = make_contest(app, units=500)
        server = Server(stores, args.port, args.server).start()
        figures = asyncio.run(run(args, server, played, other))
    finally:
        if server:
            server.stop()
        stores.close()

    deliveries, everyone = sorted(figures["deliveries"]), sorted(figures["everyone"])
    print(f"push_latency: {args.clients} /live clients (websocket), {args.submits} submits {args.gap} s apart; "
          f"server={args.server or 'default'}")
    print(f"machine: {machine()}")
    print(f"connected and joined: {figures['connected']} of {args.clients} in {figures['joined_s']:.1f} s "
          f"({figures['failed']} failed)")
    print(f"{'':<30}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    print(f"{'submit -> each client':<30}{len(deliveries):>7}{ms(deliveries, .5):>9}{ms(deliveries, .99):>9}"
          f"{ms(deliveries, 1):>9}")
    print(f"{'submit -> last client':<30}{len(everyone):>7}{ms(everyone, .5):>9}{ms(everyone, .99):>9}"
          f"{ms(everyone, 1):>9}")
    p99 = float(ms(deliveries, .99)) if deliveries else float("inf")
    print(f"missed updates: {figures['missing']}   target p99 < 1000 ms: {'MET' if p99 < 1000 else 'not met'}")
    if figures["load"]:
        load = figures["load"]
        print(f"meanwhile {args.answer_workers} workers offering {args.answer_rate:.0f} answers/s:")
        print(table(list(load.calls.values()), load.window[1] - load.window[0]))
    print(f"cpu while submitting: server {figures['cpu'][0] / figures['span']:.0%} of a core, "
          f"clients {figures['cpu'][1] / figures['span']:.0%}")


if __name__ == "__main__":
    main()
