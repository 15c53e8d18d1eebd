"""Answers per second and latency of one `contest serve` process under 500 simulated workers.

Each worker enters (name, phone, unit), starts an attempt, saves its answers one by one
with PUT, submits, and starts again, through the real participant API over loopback.
Workers pace themselves so that together they offer `--rate` answers a second (a worker
answers after random gaps of workers/rate seconds on average); a worker whose answer is late
sends the next one at once, so a slow server shows as fewer answers/s and longer latencies,
never as a hidden queue.

    .venv/bin/python bench/contest_load.py                       # SQLite + embedded Redis, gevent
    .venv/bin/python bench/contest_load.py --server eventlet
    .venv/bin/python bench/contest_load.py --server gunicorn    # gunicorn -c deploy/gunicorn.conf.py
    .venv/bin/python bench/contest_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/contest_load.py --rate 0             # flat out
    .venv/bin/python bench/contest_load.py --rate 0 --answers-only   # the answer call alone
    .venv/bin/python bench/contest_load.py --rate 500,600,700,800   # a sweep: the fastest rate with p99 < 100 ms
    .venv/bin/python bench/contest_load.py --procs 2            # contest serve --workers 2 behind nginx

After the run it measures the ceiling (bench/ceiling_app.py: a minimal Flask endpoint with one
Redis round trip on the same gevent server) and prints the project's answers/s as a share of it.

Target (issue 3), on the 2-core machine shared with this generator: at least 1,500
accepted answers/s with p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import time
from dataclasses import dataclass, field

from loadkit import (
    Calls,
    Http,
    Nginx,
    Server,
    Stores,
    answer_for,
    answer_key,
    answers_in_sql,
    cpu_seconds,
    loopback_address,
    machine,
    make_contest,
    measure_ceiling,
    start_ceilings,
    start_servers,
    table,
    timed_call,
)

ATTEMPTS_PER_ENTRANT = 5


@dataclass
class Run:
    port: int
    contest_id: int
    unit_ids: list[int]
    interval: float            # seconds between one worker's answers (0: no pacing)
    window: tuple[float, float]
    stop_at: float
    calls: dict[str, Calls] = field(default_factory=dict)
    acked: set[int] = field(default_factory=set)   # answer_key()s
    cpu: tuple[float, float] = (0.0, 0.0)   # server, generator CPU seconds over the window
    proxy_cpu: float = 0.0
    answers_only: bool = False  # one attempt per worker, its answers changed over and over

    def measured(self, started: float, ended: float) -> bool:
        return self.window[0] <= started and ended <= self.window[1]


async def timed(run: Run, kind: str, http: Http, method: str, path: str, expected: tuple[int, ...],
                body: object = None, token: str | None = None) -> object:
    return await timed_call(run.calls[kind], run.window, http, method, path, expected, body, token)


async def worker(run: Run, index: int, ramp: float) -> None:
    rng = random.Random(index)
    http = Http("127.0.0.1", run.port, loopback_address(index))
    await asyncio.sleep(rng.uniform(0, ramp))
    serial = 0
    next_at = time.monotonic()
    cid = run.contest_id
    try:
        while time.monotonic() < run.stop_at:
            phone = f"1{3 + index % 6}{index:05d}{serial:04d}"
            serial += 1
            entered = await timed(run, "enter", http, "POST", f"/api/v1/contests/{cid}/entrants", (201,),
                                  {"name": f"职工{index}", "phone": phone, "unit_id": rng.choice(run.unit_ids)})
            if entered is None:
                await asyncio.sleep(1)
                continue
            token = entered["token"]
            for _ in range(ATTEMPTS_PER_ENTRANT):
                if time.monotonic() >= run.stop_at:
                    return
                paper = await timed(run, "start", http, "POST", f"/api/v1/contests/{cid}/attempts", (200, 201),
                                    token=token)
                if paper is None:
                    await asyncio.sleep(1)
                    break
                aid = paper["attempt_id"]
                # --answers-only: the paper's questions again and again (the last answer counts).
                questions = itertools.cycle(paper["questions"]) if run.answers_only else paper["questions"]
                for question in questions:
                    if run.interval:
                        # Random (exponential) gaps, so that workers do not fall into step and
                        # start or submit all at once; on average they offer --rate together.
                        next_at = max(next_at + rng.expovariate(1 / run.interval), time.monotonic())
                        await asyncio.sleep(next_at - time.monotonic())
                    if time.monotonic() >= run.stop_at:
                        return
                    saved = await timed(run, "answer", http, "PUT", f"/api/v1/attempts/{aid}/answers/{question['id']}",
                                        (200,), {"answer": answer_for(question, rng)}, token)
                    if saved is not None:
                        run.acked.add(answer_key(aid, question["id"]))
                await timed(run, "submit", http, "POST", f"/api/v1/attempts/{aid}/submit", (200,), token=token)
    finally:
        http.close()


async def drive(args, rate: float, server: Server, played, proxy: Nginx | None = None) -> Run:
    now = time.monotonic()
    ramp = args.warmup * 0.75
    window = (now + args.warmup, now + args.warmup + args.duration)
    run = Run(port=proxy.port if proxy else server.port, contest_id=played.contest_id, unit_ids=played.unit_ids,
              interval=args.workers / rate if rate else 0.0, window=window, stop_at=window[1],
              calls={kind: Calls(kind) for kind in ("enter", "start", "answer", "submit")},
              answers_only=args.answers_only)
    tasks = [asyncio.ensure_future(worker(run, i, ramp)) for i in range(args.workers)]
    await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
    proxy_cpu = proxy.cpu() if proxy else 0.0
    server_cpu, own_cpu = server.cpu(), cpu_seconds(os.getpid())
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    run.cpu = (server.cpu() - server_cpu, cpu_seconds(os.getpid()) - own_cpu)
    run.proxy_cpu = (proxy.cpu() - proxy_cpu) if proxy else 0.0
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--rate", default="1600",
                        help="answers/s offered by all workers; 0 = flat out; several (500,600,700) = a sweep")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured")
    parser.add_argument("--answers-only", action="store_true",
                        help="the answer call alone: each worker starts one attempt and answers its questions "
                             "again and again, no submit (where the mix's time goes; the target is the mix's)")
    parser.add_argument("--warmup", type=float, default=8, help="seconds before measuring (workers ramp up)")
    parser.add_argument("--server", default=None, help="gevent | eventlet | threading (contest serve; default: its own) | gunicorn (deploy/gunicorn.conf.py)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--port", type=int, default=5391)
    parser.add_argument("--procs", type=int, default=1,
                        help="server processes (contest serve --workers N) behind deploy/nginx.conf; 1: no proxy")
    parser.add_argument("--ceiling-duration", type=float, default=15,
                        help="then measure the minimal-endpoint ceiling for this many seconds (0: skip)")
    parser.add_argument("--ceiling-rate", type=float, default=1500,
                        help="and the minimal endpoint offered this many calls/s: its p99 at the target's rate (0: skip)")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rate.split(",")]

    stores = Stores(args.database_url, args.redis_url)
    server = proxy = None
    ceilings = []
    try:
        app = stores.open()
        played = make_contest(app)
        server, proxy = start_servers(stores, args.port, args.procs, args.server)
        runs = [asyncio.run(drive(args, rate, server, played, proxy)) for rate in rates]
        # A worker of the next run resumes its open attempt: the same answers may be acknowledged twice.
        acked = set().union(*(run.acked for run in runs))
        found, rows = answers_in_sql(app, played.contest_id, acked)
        server.stop()
        if proxy:
            proxy.stop()
            proxy = None
        if args.ceiling_duration:
            ceilings, proxy = start_ceilings(stores, args.port + 1, 1)
            top, top_cpu, _ = asyncio.run(measure_ceiling(ceilings[0].port, args.workers, args.ceiling_duration,
                                                          ceilings[0].cpu))
            if args.ceiling_rate:
                paced, _, _ = asyncio.run(measure_ceiling(ceilings[0].port, args.workers, args.ceiling_duration,
                                                          ceilings[0].cpu, rate=args.ceiling_rate))
    finally:
        for process in (proxy, server, *ceilings):
            if process:
                process.stop()
        stores.close()

    kind = "PostgreSQL" if stores.database_url.startswith("postgresql") else "SQLite"
    redis_kind = "embedded Redis" if args.redis_url is None else "Redis " + args.redis_url.split("@")[-1]
    print(f"machine: {machine()}")
    for offered, run in zip(rates, runs, strict=True):
        print(f"contest_load: {args.workers} workers, offered {offered:.0f} answers/s" if offered else
              f"contest_load: {args.workers} workers, flat out", end="")
        print(f", {args.duration:.0f} s measured; server={args.server or 'default'}, {kind}, {redis_kind}"
              + ("; ANSWERS ONLY (one attempt each, no submit)" if args.answers_only else ""))
        print(table(list(run.calls.values()), args.duration))
        rate, p99 = _answers(run, args.duration)
        print(f"accepted answers/s: {rate:.0f}   answer p99: {p99:.1f} ms   "
              + ("(answers only: the target is the whole mix's)" if args.answers_only else
                 f"target ≥1500/s & p99<100ms: {'MET' if rate >= 1500 and p99 < 100 else 'not met'}"))
        print(f"cpu over the window: server {run.cpu[0] / args.duration:.0%} of a core"
              + (f" ({args.procs} processes), nginx {run.proxy_cpu / args.duration:.0%}" if args.procs > 1 else "")
              + f", generator {run.cpu[1] / args.duration:.0%}")
    figures = [_answers(run, args.duration) for run in runs]
    if len(runs) > 1:
        print("sweep: " + "; ".join(f"offered {offered:.0f} → {rate:.0f}/s, p99 {p99:.0f} ms"
                                    for offered, (rate, p99) in zip(rates, figures, strict=True)))
        within = [rate for rate, p99 in figures if p99 < 100]
        print(f"fastest rate with answer p99 < 100 ms: {max(within):.0f} answers/s" if within else
              "no rate of the sweep kept answer p99 < 100 ms")
    if args.ceiling_duration:
        ceiling = len(top.latencies) / args.ceiling_duration
        print(f"ceiling (minimal Flask endpoint, one Redis round trip, same server setup), "
              f"{args.workers} connections flat out:")
        print(table([top], args.ceiling_duration))
        rate = max(rate for rate, _p99 in figures)
        print(f"answers/s (the best of the runs) as a share of the ceiling: {rate / ceiling:.0%}   "
              f"(ceiling server cpu {top_cpu / args.ceiling_duration:.0%} of a core)")
        if args.ceiling_rate:
            # What the target asks of the answer call, asked of an endpoint that does almost nothing.
            print(f"the minimal endpoint offered {args.ceiling_rate:.0f} calls/s:")
            print(table([paced], args.ceiling_duration))
    print(f"acknowledged answers in SQL: {found} of {len(acked)} ({rows} rows for the contest)"
          + ("" if found == len(acked) else "  ** LOST ANSWERS **"))


def _answers(run: Run, seconds: float) -> tuple[float, float]:
    """Accepted answers per second and their p99 latency in ms."""
    latencies = sorted(run.calls["answer"].latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else 0.0
    return len(latencies) / seconds, p99


if __name__ == "__main__":
    main()
