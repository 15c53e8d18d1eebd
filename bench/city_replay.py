"""The city replay: a contest of the city's size played through the public API in one run.

22,484 entrants from 500 units make 88,843 attempts of 10 questions (about 888,000 answers).
Each attempt gets an arrival time drawn from a working day (07:00–22:00: a morning bump,
a lunch peak, the largest peak after the day shift, an evening tail); the day is compressed
into `--minutes`, and so is each attempt's reading time between answers, so the number of
workers playing at once is the day's own (about a thousand at the peaks).

Each entrant is one asyncio task: at each arrival it opens the contest page; at its first it
fetches the unit list (the entry page's picker, 500 units) and enters (name, phone, unit), then
for each of its attempts starts, opens the quiz page, answers the 10 questions one by one with
PUT, submits, opens the result page and looks at the leaderboard (GET). A page's scripts and
styles are fetched as a browser does: kept while their Cache-Control allows, else revalidated
with their ETag (`--no-pages`: the API calls only, as replays before 2026-12-06). An answer that is late is followed by the next at once (no
hidden queue in the generator). At most `--phones` attempts are in play at once; an arrival
that finds them all busy waits, and that wait is reported as lag, as is the replay's
overrun beyond `--minutes`. A worker plays one attempt at a time: an attempt drawn so close to
the worker's previous one that it is due before that one ends starts at its end, and its lag
counts from there (before, such overlaps of the plan showed as lag of up to half a minute).
A unit's workers share one source address (a workplace NAT).
Meanwhile 1,000 python-socketio clients watch the contest's leaderboard on /live, in a process
of their own (`--watcher-processes`); the replay's process tells it when each participant's
first submit came back, and it measures the push delay from there.

The default 25 minutes sets the day's mean at 592 answers/s, about what one process does
flat out here; the day's peaks offer about 2,000/s, more than one process can take, and the
report shows the lag and the achieved rate rather than hiding them. (In real time the
city's busiest minute is 63 answers/s.) If no answer is acknowledged for `--stall` seconds
the replay stops, and so does Ctrl-C; either way what was done is checked and reported.

After the replay: every acknowledged answer is looked up in SQL; the same servers take the
answer call alone flat out for `--capacity-duration` seconds (500 workers of a contest of
their own, each changing the answers of one attempt); the staff workbook is exported with
`contest export` and its totals (entrants, attempts, answers, participating units, each
unit's participants and attempts) compared with what was acknowledged; then the ceiling
(bench/ceiling_app.py, a minimal Flask endpoint with one Redis round trip, the same number
of processes) is measured flat out in the same way. The answer call's flat-out rate is
reported as a share of the ceiling's (issue 6's 60 %); the replay's peak is shown beside it,
but that is what the day offers (about 600 answers/s), not what the servers can take.

    .venv/bin/python bench/city_replay.py --scale 0.1          # a tenth of the city, a tenth of the time
    .venv/bin/python bench/city_replay.py                       # the city: SQLite + embedded Redis, 1 process
    .venv/bin/python bench/city_replay.py --procs 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_replay --redis-url redis://127.0.0.1:6379/5

Give it an empty database and Redis db of its own (contest ids restart in a new database,
and stale live state in Redis would be taken for the new contest's).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import multiprocessing
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from loadkit import (
    Calls,
    Http,
    LeanLiveClient,
    LiveClient,
    Stores,
    answer_for,
    answer_key,
    answers_in_sql,
    connect_all,
    cpu_seconds,
    free_base_port,
    loopback_address,
    machine,
    make_contest,
    measure_answers,
    measure_ceiling,
    start_ceilings,
    start_servers,
    table,
    timed_call,
)

CITY_ENTRANTS, CITY_ATTEMPTS, CITY_UNITS = 22_484, 88_843, 500
DEFAULT_MINUTES = 25.0
MAX_ATTEMPTS_PER_ENTRANT = 12   # the API allows 60 attempts per entrant in 10 min; people stop well before
DAY_START_H, DAY_END_H = 7.0, 22.0
# The day's shape: (share of attempts, mean hour, spread in hours); the rest is spread evenly.
DAY_PEAKS = [(0.12, 9.0, 0.6), (0.28, 12.3, 0.5), (0.34, 18.0, 0.7), (0.14, 20.7, 0.6)]
READ_S = 12.0                   # mean real seconds a worker spends on a question before answering
KINDS = ("units", "enter", "start", "answer", "submit", "board", "page", "file")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
INF = float("inf")


@dataclass
class Entrant:
    index: int
    unit_index: int
    arrivals: list[float]       # seconds after the replay's start at which each attempt is due


def day_hour(rng: random.Random) -> float:
    """One attempt's hour of the day, drawn from DAY_PEAKS."""
    pick = rng.random()
    for share, mean, spread in DAY_PEAKS:
        if pick < share:
            hour = rng.gauss(mean, spread)
            if DAY_START_H <= hour < DAY_END_H:
                return hour
            break
        pick -= share
    return rng.uniform(DAY_START_H, DAY_END_H)


def plan_day(entrants: int, attempts: int, units: int, seconds: float, seed: int = 2026) -> list[Entrant]:
    """Who comes from which unit, how often and when: the same for the same arguments."""
    rng = random.Random(seed)
    # Units differ in how keen they are; one in twenty takes no part at all.
    keenness = [0.0 if rng.random() < 0.05 else (50 + i % 200) * rng.uniform(0.3, 1.7) for i in range(units)]
    unit_of = rng.choices(range(units), weights=keenness, k=entrants)
    counts = [1] * entrants
    # Most try once or twice; some come back many times (weights skewed by an exponential draw).
    appetite = [rng.expovariate(1.0) ** 2 for _ in range(entrants)]
    extra = attempts - entrants
    while extra > 0:
        for who in rng.choices(range(entrants), weights=appetite, k=extra):
            if extra and counts[who] < MAX_ATTEMPTS_PER_ENTRANT:
                counts[who] += 1
                extra -= 1
    scale = seconds / ((DAY_END_H - DAY_START_H) * 3600)
    plan = []
    for i in range(entrants):
        hours = sorted(day_hour(rng) for _ in range(counts[i]))
        plan.append(Entrant(i, unit_of[i], [(h - DAY_START_H) * 3600 * scale for h in hours]))
    return plan


def name_of(index: int) -> str:
    rng = random.Random(index)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone_of(index: int) -> str:
    return f"1{3 + index % 7}{index:09d}"


class Histogram:
    """Millisecond counts: a million deliveries in a few kilobytes."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.total = 0

    def add(self, seconds: float, times: int = 1) -> None:
        self.counts[max(0, int(seconds * 1000))] += times
        self.total += times

    def quantile(self, q: float) -> float | None:
        if not self.total:
            return None
        need, seen = max(1, math.ceil(q * self.total)), 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= need:
                return float(value)
        return None


@dataclass
class Replay:
    port: int
    contest_id: int
    unit_ids: list[int]
    read_gap: float                     # compressed mean seconds between answers
    t0: float
    phones: asyncio.Semaphore
    calls: dict[str, Calls] = field(default_factory=lambda: {kind: Calls(kind) for kind in KINDS})
    acked: set[int] = field(default_factory=set)            # answer_key()s of answers saved (200)
    per_second: Counter[int] = field(default_factory=Counter)  # acknowledged answers by second of the run
    entered: int = 0
    submitted: Counter[int] = field(default_factory=Counter)   # unit index -> attempts submitted (200)
    participants: Counter[int] = field(default_factory=Counter)  # unit index -> entrants with a submit
    first_submits: list[float] = field(default_factory=list)   # when the k-th participant's submit came back
    # Per attempt: started late by (s), counted from its planned time or, when the worker's previous
    # attempt was still running then (two draws of one worker's day close together), from that one's end.
    lag: list[float] = field(default_factory=list)
    overlapped: int = 0                                        # attempts due while the worker's previous one ran
    in_play: int = 0
    skipped: Counter[str] = field(default_factory=Counter)     # attempts not played, and why
    # Calls whose answer never came back (even when sent again): the server may have done them.
    unsure: Counter[str] = field(default_factory=Counter)      # "enter", "start", "answer", "submit"
    unsure_units: Counter[int] = field(default_factory=Counter)  # unit index -> starts or submits without an answer
    finished_answers: int = 0            # answers saved (200) in attempts whose submit was acknowledged
    unsure_finished_answers: int = 0     # answers that may be in finished attempts, or not
    wall: list[float] = field(default_factory=list)            # time.monotonic() at the end of each attempt
    last_ack: float = 0.0                                      # time.monotonic() of the latest saved answer
    stalled_at: float | None = None                            # seconds into the run when it was given up
    stalled_in_play: int = 0
    stopped: str = ""                                          # why the replay stopped early, if it did
    done_at_stop: int = 0
    watchers: Watchers | None = None
    # Every progress line: (seconds into the run, calls done of each kind, attempts started, the phones'
    # event loop's worst lateness since the last line): the report's figures by part of the day.
    marks: list[tuple[float, tuple[int, ...], int, float]] = field(default_factory=list)
    pages: bool = True          # phones load the pages (contest, quiz, result) and their files, as browsers do
    links: dict[str, list[str]] = field(default_factory=dict)  # page -> the files it links (alike for every phone)
    gc_pause_max: float = 0.0   # the phones' process's longest garbage collection (s): one cause of loop lateness
    peak_memory: int = 0        # the phones' process's (bytes): it holds the old generation's cycles till the end

    def mark(self, now: float, loop_late: float) -> None:
        self.marks.append((now - self.t0, tuple(len(c.latencies) for c in self.calls.values()), len(self.lag),
                           loop_late))

    async def call(self, kind: str, http: Http, method: str, path: str, expected: tuple[int, ...],
                   body: object = None, token: str | None = None) -> object:
        """One timed call, sent again once after a timeout or a broken connection (every call here may be
        repeated: the API makes entry, start, answer and submit idempotent); no warm-up window."""
        return await timed_call(self.calls[kind], (0.0, INF), http, method, path, expected, body, token, retries=1)

    async def open_page(self, http: Http, page: str, path: str, kept: dict[str, str | None]) -> None:
        """A page, then each file it links as a browser gets it: not at all if kept from before
        (Cache-Control max-age), with If-None-Match if stored with an ETag, else in full. `kept` is
        the phone's cache: address -> ETag, or None for a file kept without asking."""
        if not self.pages:
            return
        got = await timed_call(self.calls["page"], (0.0, INF), http, "GET", path, (200,), retries=1, raw=True)
        if got is None:
            return
        if page not in self.links:
            self.links[page] = re.findall(r'(?:src|href)="(/static/[^"]+)"', got.body.decode())
        for url in self.links[page]:
            if url in kept and kept[url] is None:
                continue
            headers = {"If-None-Match": kept[url]} if kept.get(url) else None
            file = await timed_call(self.calls["file"], (0.0, INF), http, "GET", url, (200, 304), retries=1,
                                    headers=headers, raw=True)
            if file is not None and (file.kept or file.etag):
                kept[url] = None if file.kept else file.etag


async def play_entrant(run: Replay, who: Entrant) -> None:
    rng = random.Random(who.index)
    cid, token, participated = run.contest_id, None, False
    free_at = 0.0   # time.monotonic() when this worker's previous attempt ended
    kept: dict[str, str | None] = {}  # the phone's browser cache of scripts and styles
    for due in who.arrivals:
        if free_at > run.t0 + due:
            run.overlapped += 1
        await asyncio.sleep(max(0.0, run.t0 + due - time.monotonic()))
        async with run.phones:
            run.in_play += 1
            run.lag.append(time.monotonic() - max(run.t0 + due, free_at))
            http = Http("127.0.0.1", run.port, loopback_address(who.unit_index))
            try:
                await run.open_page(http, "contest", f"/c/{cid}", kept)
                if token is None:
                    # The entry page's unit picker: every new phone fetches the list (its ETag helps only
                    # a phone that fetched it before). The parsed list is not kept: held by 22,484 waiting
                    # workers all day (500 units each), it made the phones' full collections take 143 ms.
                    if await run.call("units", http, "GET", f"/api/v1/contests/{cid}/units", (200,)) is None:
                        run.skipped["unit list refused"] += 1
                        continue
                    entered = await run.call("enter", http, "POST", f"/api/v1/contests/{cid}/entrants", (201,), {
                        "name": name_of(who.index), "phone": phone_of(who.index),
                        "unit_id": run.unit_ids[who.unit_index]})
                    if entered is None:
                        run.skipped["entry refused"] += 1
                        run.unsure["enter"] += 1
                        continue
                    token = entered["token"]
                    run.entered += 1
                submitted = await play_attempt(run, http, token, rng, kept)
                if submitted is None or submitted is False:
                    # A submit, or a start, that never came back may have been done: a start opens an
                    # attempt that the server finishes at its deadline (the worker's next start resumes
                    # it only before then).
                    run.unsure_units[who.unit_index] += 1
                    run.unsure["submit" if submitted is None else "start"] += 1
                elif submitted:
                    run.submitted[who.unit_index] += 1
                    if not participated:
                        participated = True
                        run.participants[who.unit_index] += 1
                        run.first_submits.append(time.monotonic())
                        run.watchers.ack(run.first_submits[-1])
                    await run.call("board", http, "GET", f"/api/v1/contests/{cid}/leaderboard?limit=10", (200,))
            finally:
                http.close()
                run.in_play -= 1
                run.wall.append(time.monotonic())
                free_at = run.wall[-1]


async def play_attempt(run: Replay, http: Http, token: str, rng: random.Random,
                       kept: dict[str, str | None]) -> bool | None:
    """Start, open the quiz page (which takes the paper the start returned), answer every question
    at the worker's reading pace, submit, open the result page (which takes the submit's answer).

    True if the submit was acknowledged, False if the attempt did not start, None if the submit failed.
    """
    # 200: the worker's previous attempt is still open (its submit never came back): play it on.
    paper = await run.call("start", http, "POST", f"/api/v1/contests/{run.contest_id}/attempts", (200, 201),
                           token=token)
    if paper is None:
        run.skipped["start refused"] += 1
        return False
    aid = paper["attempt_id"]
    await run.open_page(http, "quiz", f"/c/{run.contest_id}/play", kept)
    next_at = time.monotonic()
    saved_here = unsure_here = 0
    for question in paper["questions"]:
        # Random reading time (at least a third of the mean); a late answer is followed at once.
        next_at = max(next_at + run.read_gap * (1 / 3 + rng.expovariate(1.5)), time.monotonic())
        await asyncio.sleep(next_at - time.monotonic())
        saved = await run.call("answer", http, "PUT", f"/api/v1/attempts/{aid}/answers/{question['id']}", (200,),
                               {"answer": answer_for(question, rng)}, token)
        if saved is None:
            run.unsure["answer"] += 1
            unsure_here += 1
        else:
            saved_here += 1
            run.acked.add(answer_key(aid, question["id"]))
            run.last_ack = time.monotonic()
            run.per_second[int(run.last_ack - run.t0)] += 1
    result = await run.call("submit", http, "POST", f"/api/v1/attempts/{aid}/submit", (200,), token=token)
    if result is not None:
        await run.open_page(http, "result", f"/c/{run.contest_id}/result/{aid}", kept)
    # The workbook counts the answers of finished attempts only.
    if result is None:
        run.unsure_finished_answers += saved_here + unsure_here
        return None
    run.finished_answers += saved_here
    run.unsure_finished_answers += unsure_here
    return True


class Deliveries:
    """Push delay, on the watchers' side: when the k-th participant's submit came back (sent over by the
    replay's process) and when each watcher's board first counted k participants."""

    def __init__(self) -> None:
        self.acks: list[float] = []                 # time.monotonic() (system-wide) of the k-th participant's submit
        self.early: deque[tuple[int, float]] = deque()  # (k, when a board counted k) before k's ack got here
        self.delays = Histogram()

    def counted(self, seen: int, count: int, now: float) -> None:
        known = len(self.acks)
        for k in range(seen, min(count, known)):
            self.delays.add(now - self.acks[k])
        self.early.extend((k, now) for k in range(max(seen, known), count))

    def acked(self, times: list[float]) -> None:
        """More acks: settle the frames that came before them (a frame that beat its submit's answer home is 0)."""
        self.acks.extend(times)
        waiting = len(self.early)
        for _ in range(waiting):
            k, when = self.early.popleft()
            if k < len(self.acks):
                self.delays.add(max(0.0, when - self.acks[k]))
            else:
                self.early.append((k, when))

    def settle(self) -> None:
        """At the end: a board counting participants the replay never had an ack for (a submit whose answer
        was lost) delivered them with no measurable delay."""
        self.delays.add(0.0, len(self.early))
        self.early.clear()


class Watcher:
    """A leaderboard watcher; each frame with a larger participant count delivers those new participants."""

    def __init__(self, book: Deliveries) -> None:
        self.book = book
        self.seen = 0
        self.frames = 0

    async def on_board(self, body: dict) -> None:
        self.frames += 1
        count = body.get("participants", 0)
        if count > self.seen:
            self.book.counted(self.seen, count, time.monotonic())
            self.seen = count


class LeanWatcher(Watcher, LeanLiveClient):
    def __init__(self, url: str, book: Deliveries, source: str) -> None:
        LeanLiveClient.__init__(self, url, source)
        Watcher.__init__(self, book)


class SocketioWatcher(Watcher, LiveClient):
    def __init__(self, url: str, book: Deliveries, source: str) -> None:
        LiveClient.__init__(self, url, source)
        Watcher.__init__(self, book)


def watch_process(url: str, cid: int, indexes: range, lean: bool, conn) -> None:
    """The watchers run in processes of their own, so that the phones' event loop and theirs do not
    slow each other (in one loop, half of them were dropped by their own client at the peaks)."""
    asyncio.run(_watch(url, cid, indexes, lean, conn))


async def _watch(url: str, cid: int, indexes: range, lean: bool, conn) -> None:
    book = Deliveries()
    # Watchers come from addresses of their own, apart from the units' (a watcher is not at work).
    kind = LeanWatcher if lean else SocketioWatcher
    crowd = [kind(url, book, loopback_address(CITY_UNITS + i)) for i in indexes]
    began = time.monotonic()
    failed = await connect_all(crowd, cid)
    conn.send(("joined", failed, time.monotonic() - began))
    cpu0 = cpu_seconds(os.getpid())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        while not stop.is_set() and conn.poll():
            message = conn.recv()
            if message[0] == "acks":
                book.acked(message[1])
            else:
                loop.remove_reader(conn.fileno())
                stop.set()

    loop.add_reader(conn.fileno(), readable)
    await stop.wait()
    await asyncio.sleep(3 * 0.3 + 2)  # the last throttled pushes reach the watchers
    book.settle()
    final = len(book.acks)
    live = [w for w in crowd if w.connected]
    conn.send(("done", {"delays": book.delays, "connected": len(live), "frames": sum(w.frames for w in crowd),
                        "behind": sum(1 for w in live if w.seen < final), "watch_cpu": cpu_seconds(os.getpid()) - cpu0}))
    await asyncio.gather(*(w.disconnect() for w in crowd), return_exceptions=True)


class Watchers:
    """The watcher processes, seen from the replay: start and join, pass on acks, collect figures."""

    def __init__(self, url: str, cid: int, count: int, processes: int, lean: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns, self.procs = [], []
        for i in range(processes):
            here, there = context.Pipe()
            process = context.Process(target=watch_process, args=(url, cid, range(i, count, processes), lean, there),
                                      daemon=True)
            process.start()
            self.conns.append(here)
            self.procs.append(process)

    async def joined(self) -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        replies = await asyncio.gather(*(loop.run_in_executor(None, c.recv) for c in self.conns))
        return sum(r[1] for r in replies), max(r[2] for r in replies)

    def ack(self, when: float) -> None:
        for conn in self.conns:
            conn.send(("acks", [when]))

    async def finish(self) -> dict:
        loop = asyncio.get_running_loop()
        for conn in self.conns:
            conn.send(("stop",))
        reports = [r[1] for r in await asyncio.gather(*(loop.run_in_executor(None, c.recv) for c in self.conns))]
        for process in self.procs:
            process.join(timeout=30)
        delays = Histogram()
        for r in reports:
            delays.counts.update(r["delays"].counts)
            delays.total += r["delays"].total
        return {"delays": delays, **{key: sum(r[key] for r in reports) for key in ("connected", "frames", "behind", "watch_cpu")}}


async def report_progress(run: Replay, total_attempts: int, every: float = 30.0) -> None:
    """A line on stderr now and then, so a long run can be watched: the calls' p99 and the attempts'
    lag since the last line, and how late the phones' own event loop woke (a stalled generator, not
    a slow server, when it is late too)."""
    last_answers, last_at, latest = 0, time.monotonic(), 0.0
    late = [0.0]
    ticker = asyncio.ensure_future(loop_lateness(late))
    pauses = GcPauses()
    gc.callbacks.append(pauses.on_gc)
    try:
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            loop_late, late[0] = late[0], 0.0
            gc_pause, pauses.longest = pauses.longest, 0.0
            run.gc_pause_max = max(run.gc_pause_max, gc_pause)
            previous = run.marks[-1] if run.marks else (0.0, (0,) * len(run.calls), 0, 0.0)
            run.mark(now, loop_late)
            _, p99, lag99, _ = part_figures(run, previous, run.marks[-1])
            answers = len(run.acked)
            errors = sum(sum(c.errors.values()) for c in run.calls.values())
            latest = run.lag[-1] if run.lag else 0
            print(f"  {now - run.t0:6.0f} s: {len(run.wall)}/{total_attempts} attempts done, {run.in_play} in play, "
                  f"{(answers - last_answers) / (now - last_at):5.0f} answers/s, p99 {p99 * 1000:5.0f} ms, "
                  f"lag p99 {lag99:.1f} s (latest {latest:.1f} s), loop late {loop_late * 1000:.0f} ms "
                  f"(gc {gc_pause * 1000:.0f} ms), "
                  f"errors {errors}", file=sys.stderr, flush=True)
            last_answers, last_at = answers, now
    finally:
        ticker.cancel()
        gc.callbacks.remove(pauses.on_gc)


class GcPauses:
    """The longest garbage collection since `longest` was last reset (gc.callbacks)."""

    def __init__(self) -> None:
        self.longest, self._started = 0.0, 0.0

    def on_gc(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)


async def loop_lateness(late: list[float], every: float = 0.1) -> None:
    """Keep in late[0] the most this event loop woke after it was due since it was last reset."""
    while True:
        due = time.monotonic() + every
        await asyncio.sleep(every)
        late[0] = max(late[0], time.monotonic() - due)


def part_figures(run: Replay, start: tuple, end: tuple) -> tuple[int, float, float, float]:
    """Between two marks: calls done, their p99 (s), the attempts' lag p99 (s), the loop's worst lateness (s)."""
    done = [lat for calls, a, b in zip(run.calls.values(), start[1], end[1], strict=True) for lat in calls.latencies[a:b]]
    lags = run.lag[start[2]:end[2]]
    return (len(done), quantile(done, .99), quantile(lags, .99),
            end[3])


def by_part(run: Replay, span: float, parts: int = 10) -> list[tuple[float, float, int, float, float, float]]:
    """The run cut into `parts` by time (at the progress lines): (from s, to s, calls, p99 s, lag p99 s,
    the loop's worst lateness s) of each."""
    marks = [(0.0, (0,) * len(run.calls), 0, 0.0), *run.marks]
    if marks[-1][0] < span:
        marks.append((span, tuple(len(c.latencies) for c in run.calls.values()), len(run.lag), 0.0))
    rows, begin = [], 0
    for part in range(1, parts + 1):
        end = next((i for i in range(begin + 1, len(marks)) if marks[i][0] >= span * part / parts), len(marks) - 1)
        if end <= begin:
            continue
        calls, p99, lag99, _ = part_figures(run, marks[begin], marks[end])
        worst = max(m[3] for m in marks[begin + 1:end + 1])
        rows.append((marks[begin][0], marks[end][0], calls, p99, lag99, worst))
        begin = end
    return rows


async def stall_watch(run: Replay, stall_s: float) -> None:
    """Return when no answer was acknowledged for `stall_s` while attempts were in play."""
    while True:
        await asyncio.sleep(5)
        now = time.monotonic()
        if run.in_play and now - max(run.last_ack, run.t0) > stall_s:
            run.stalled_at, run.stalled_in_play = now - run.t0, run.in_play
            return


async def replay(args, port: int, played, plan: list[Entrant], server_cpu) -> dict:
    seconds = args.minutes * 60
    compress = (DAY_END_H - DAY_START_H) * 3600 / seconds
    run = Replay(port=port, contest_id=played.contest_id, unit_ids=played.unit_ids, read_gap=READ_S / compress,
                 t0=0.0, phones=asyncio.Semaphore(args.phones), pages=not args.no_pages)
    watchers = run.watchers = Watchers(f"http://127.0.0.1:{port}", played.contest_id, args.watchers,
                                       args.watcher_processes, args.watcher_client == "lean")
    failed, joined_s = await watchers.joined()
    cpu0, own0 = server_cpu(), cpu_seconds(os.getpid())
    run.t0 = time.monotonic() + 1
    total = sum(len(e.arrivals) for e in plan)
    progress = asyncio.ensure_future(report_progress(run, total))
    players = asyncio.gather(*(play_entrant(run, who) for who in plan))
    # The plan and the 22,484 waiting workers live all day: out of the collector's scans, or each full
    # collection stalls the phones' event loop (197 ms seen in a twentieth), which the calls' times show.
    gc.collect()
    gc.freeze()
    # Nor a full collection during the day: it scans every object alive since the freeze (the workers'
    # sleeps, connections and papers in play) and took up to 212 ms at the whole city's lunch peak.
    # Young collections go on; cycles that reach the old generation wait for the end (memory, not time).
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    watchdog = asyncio.ensure_future(stall_watch(run, args.stall))
    interrupted = asyncio.Event()   # Ctrl-C: stop the replay but still check and report what was done
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted.set)
    stop = asyncio.ensure_future(interrupted.wait())
    await asyncio.wait({players, watchdog, stop}, return_when=asyncio.FIRST_COMPLETED)
    ended = time.monotonic()
    asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
    watchdog.cancel()
    stop.cancel()
    if not players.done():  # a wedged server would keep the replay going for hours: stop, check what was done
        run.stopped = "server stalled" if run.stalled_at is not None else "interrupted"
        run.stalled_at = run.stalled_at or ended - run.t0
        run.stalled_in_play = run.stalled_in_play or run.in_play
        run.done_at_stop = len(run.wall)   # before the cancelled ones add theirs
        players.cancel()
        await asyncio.gather(players, return_exceptions=True)
    gc.set_threshold(*thresholds)
    run.peak_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # bytes, by the day's end
    cpu = (server_cpu() - cpu0, cpu_seconds(os.getpid()) - own0)
    progress.cancel()
    live = await watchers.finish()
    return {"run": run, "failed": failed, "joined_s": joined_s, "span": ended - run.t0, "cpu": cpu, **live}


def read_workbook(path: Path) -> dict:
    """The totals staff would read: 汇总 figures and each unit's row of 单位参与情况."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    units = {}
    for row in book["单位参与情况"].iter_rows(min_row=2, values_only=True):
        if row and row[1]:  # the 合计 row has no unit name
            units[row[1]] = {"participants": row[4] or 0, "attempts": row[6] or 0}
    book.close()
    return {"summary": summary, "units": units}


def check_workbook(book: dict, run: Replay, unit_names: list[str]) -> list[tuple[str, int, int, int]]:
    """(what, acknowledged by the API, calls left without an answer, in the workbook) for every total.

    A call whose answer never came back may or may not have been done, so a total is right
    when the workbook shows the acknowledged count plus at most that many.
    """
    s, units = book["summary"], book["units"]
    in_book = {name: units.get(name, {"participants": 0, "attempts": 0}) for name in unit_names}
    unsure_submits = sum(run.unsure_units.values())
    rows = [
        ("entrants (报名人数)", run.entered, run.unsure["enter"], s.get("报名人数")),
        ("participants (参与人数)", len(run.first_submits), unsure_submits, s.get("参与人数")),
        ("attempts (完成答卷数)", sum(run.submitted.values()), unsure_submits, s.get("完成答卷数")),
        ("answers of finished attempts (提交答案数)", run.finished_answers, run.unsure_finished_answers,
         s.get("提交答案数")),
        ("participating units", len(run.participants), unsure_submits,
         sum(1 for u in in_book.values() if u["participants"])),
    ]
    wrong = [name for i, name in enumerate(unit_names)
             if not (0 <= in_book[name]["attempts"] - run.submitted[i] <= run.unsure_units[i])
             or not (0 <= in_book[name]["participants"] - run.participants[i] <= run.unsure_units[i])]
    rows.append(("units whose participants/attempts differ", 0, 0, len(wrong)))
    return rows


def agrees(acked: int, unsure: int, shown: object) -> bool:
    return isinstance(shown, int) and acked <= shown <= acked + unsure


def export(stores: Stores, contest_id: int) -> tuple[Path, float]:
    out = Path(tempfile.gettempdir()) / f"jingda-city-replay-{contest_id}.xlsx"
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "contest.cli", "export", str(contest_id), "-o", str(out)],
                   env={**os.environ, **stores.env()}, cwd=Path(__file__).resolve().parent.parent, check=True,
                   stdout=subprocess.DEVNULL)
    return out, time.monotonic() - began


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else 0.0


def peak_rate(per_second: Counter[int], window: int = 10) -> float:
    """The best `window`-second average of acknowledged answers/s."""
    if not per_second:
        return 0.0
    end = max(per_second) + 1
    series = [per_second.get(s, 0) for s in range(end)]
    best = running = sum(series[:window])
    for s in range(window, end):
        running += series[s] - series[s - window]
        best = max(best, running)
    return best / min(window, end)


def offered_rate(plan: list[Entrant], questions: int, window: float = 10.0) -> float:
    """The plan's busiest `window` seconds, in answers/s (as the attempts' starts would bring them)."""
    starts = Counter(int(t // window) for e in plan for t in e.arrivals)
    return max(starts.values()) * questions / window if starts else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the city (entrants, attempts, minutes)")
    parser.add_argument("--minutes", type=float, default=None,
                        help=f"the day compressed into this many minutes (default {DEFAULT_MINUTES:g} × scale)")
    parser.add_argument("--phones", type=int, default=1500, help="at most this many attempts in play at once")
    parser.add_argument("--watchers", type=int, default=1000, help="live Socket.IO clients on the leaderboard")
    parser.add_argument("--watcher-processes", type=int, default=1,
                        help="processes the watchers run in, apart from the phones' (default 1)")
    parser.add_argument("--watcher-client", choices=("lean", "socketio"), default="lean",
                        help="lean: Engine.IO/Socket.IO over aiohttp by hand (default); socketio: python-socketio's "
                             "AsyncClient (about 0.26 ms of CPU per frame: the peaks' frames need more than 2 cores)")
    parser.add_argument("--server", default=None, help="gevent | eventlet | threading (default: serve's own)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--port", type=int, default=None,
                        help="first server port (default: a free one, below the range of outgoing connections); "
                             "nginx on port+100, and with --port given the ceiling on port+10 (else on free ones)")
    parser.add_argument("--procs", type=int, default=1,
                        help="server processes (contest serve --workers N) behind deploy/nginx.conf; 1: no proxy")
    parser.add_argument("--live-procs", type=int, default=0,
                        help="more processes, behind the same nginx, serving the live channel (/socket.io/) alone")
    parser.add_argument("--ceiling-duration", type=float, default=15, help="seconds of the ceiling run (0: skip)")
    parser.add_argument("--ceiling-connections", type=int, default=500,
                        help="connections of the ceiling run and of the answer call's flat-out run")
    parser.add_argument("--capacity-duration", type=float, default=15,
                        help="seconds of the answer call's flat-out run after the replay, on the same servers (0: skip)")
    parser.add_argument("--no-pages", action="store_true",
                        help="phones call the API only, loading no page or file (as replays before 2026-12-06)")
    parser.add_argument("--stall", type=float, default=120,
                        help="give up when no answer is acknowledged for this many seconds while attempts are in play")
    args = parser.parse_args()
    args.minutes = args.minutes or DEFAULT_MINUTES * args.scale
    port_given = args.port is not None
    if not port_given:  # the servers on port.., nginx on +100 (the ceiling's are chosen when it starts)
        args.port = free_base_port([o + i for o in (0, 100) for i in range(args.procs + args.live_procs)])
    entrants, attempts = round(CITY_ENTRANTS * args.scale), round(CITY_ATTEMPTS * args.scale)

    plan = plan_day(entrants, attempts, CITY_UNITS, args.minutes * 60)
    stores = Stores(args.database_url, args.redis_url)
    server = proxy = None
    ceilings, ceiling = [], None
    try:
        app = stores.open()
        played = make_contest(app, units=CITY_UNITS)
        unit_names = unit_names_of(app, played.unit_ids)
        server, proxy = start_servers(stores, args.port, args.procs, args.server, args.live_procs)
        print(f"city_replay: {entrants} entrants, {attempts} attempts over {args.minutes:g} min; "
              f"{args.watchers} watchers joining…", file=sys.stderr, flush=True)
        fig = asyncio.run(replay(args, proxy.port if proxy else server.port, played, plan,
                                 lambda: server.cpu() + (proxy.cpu() if proxy else 0.0)))
        run = fig["run"]
        found, rows = answers_in_sql(app, played.contest_id, run.acked)
        capacity = None
        if args.capacity_duration:
            # A contest of its own (the city's units, no new ones): the replay's SQL and workbook stay as played.
            try:
                flat_out = make_contest(app, units=0)
                capacity = asyncio.run(measure_answers(
                    proxy.port if proxy else server.port, flat_out.contest_id, played.unit_ids,
                    args.ceiling_connections, args.capacity_duration,
                    lambda: server.cpu() + (proxy.cpu() if proxy else 0.0)))
            except Exception as error:  # the replay's figures are reported all the same
                capacity = f"{type(error).__name__}: {str(error)[:300]}"
        server.stop()
        if proxy:
            proxy.stop()
            proxy = None
        book_path, export_s = export(stores, played.contest_id)
        book = check_workbook(read_workbook(book_path), run, unit_names)
        if args.ceiling_duration:
            try:
                # Ports free now, not at the start: the replay's own connections come and go meanwhile.
                base = args.port + 10 if port_given else free_base_port([o + i for o in (0, 100)
                                                                          for i in range(args.procs)])
                ceilings, proxy = start_ceilings(stores, base, args.procs)
                ceiling = asyncio.run(measure_ceiling(
                    proxy.port if proxy else ceilings[0].port, args.ceiling_connections, args.ceiling_duration,
                    lambda: sum(c.cpu() for c in ceilings) + (proxy.cpu() if proxy else 0.0)))
            except Exception as error:  # the replay's figures are reported all the same
                ceiling = f"{type(error).__name__}: {str(error)[:300]}"
    finally:
        for process in (proxy, server, *ceilings):
            if process:
                process.stop()
        stores.close()

    print_report(args, stores, plan, fig, (found, rows), book, book_path, export_s, capacity, ceiling)


def unit_names_of(app, unit_ids: list[int]) -> list[str]:
    from sqlalchemy import select

    from contest.models import Unit

    with app.app_context():
        names = dict(app.extensions["jd.db"].session().execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
        app.extensions["jd.db"].remove()
    return [names[u] for u in unit_ids]


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_report(args, stores, plan, fig, sql, book, book_path, export_s, capacity, ceiling) -> None:
    run, span = fig["run"], fig["span"]
    answers = run.calls["answer"]
    planned_s = args.minutes * 60
    kind = "PostgreSQL" if stores.database_url.startswith("postgresql") else "SQLite"
    redis_kind = "embedded Redis" if args.redis_url is None else "Redis " + args.redis_url.split("@")[-1]
    attempts = sum(len(e.arrivals) for e in plan)
    print(f"city_replay: {len(plan)} entrants, {attempts} attempts × 10 questions, {CITY_UNITS} units; "
          f"day {DAY_START_H:02.0f}:00–{DAY_END_H:02.0f}:00 compressed into {args.minutes:g} min; "
          f"{args.watchers} live watchers; {args.procs} process(es)"
          f"{f' + {args.live_procs} for the live channel' if args.live_procs else ''}, server={args.server or 'default'}, "
          f"{kind}, {redis_kind}")
    print(f"machine: {machine()}")
    print(table(list(run.calls.values()), span))
    mean = len(answers.latencies) / span
    peak = peak_rate(run.per_second)
    offered_peak = offered_rate(plan, 10)
    print(f"answers/s: mean {mean:.0f} over {span:.0f} s (planned {planned_s:.0f} s: mean "
          f"{attempts * 10 / planned_s:.0f}/s offered), peak 10 s {peak:.0f} (busiest planned 10 s offer "
          f"{offered_peak:.0f}/s)")
    print("by part of the run (calls done in it; lag: of the attempts started in it; loop late: the phones' "
          "event loop's worst wake-up delay, the generator's own stall):")
    print("| from–to s | calls | p99 all calls | lag p99 | loop late |")
    print("|---|---|---|---|---|")
    for begin, end, calls, p99, lag99, worst in by_part(run, span):
        print(f"| {begin:.0f}–{end:.0f} | {calls} | {p99 * 1000:.0f} ms | {lag99:.1f} s | {worst * 1000:.0f} ms |")
    print(f"the phones' process: longest garbage collection {run.gc_pause_max * 1000:.0f} ms, "
          f"peak memory over the day {run.peak_memory / 2**20:.0f} MB")
    print(f"lag (attempt started after its planned time, or after the end of the worker's previous attempt "
          f"if that ran past it: {run.overlapped} attempts): p50 {quantile(run.lag, .5):.1f} s, "
          f"p99 {quantile(run.lag, .99):.1f} s, max {max(run.lag, default=0):.1f} s; "
          f"overrun {max(0.0, span - planned_s):.0f} s; attempts not played: {dict(run.skipped) or 0}; "
          f"calls never answered (after one more try): {dict(run.unsure) or 0}")
    delays = fig["delays"]
    p50, p99 = delays.quantile(.5), delays.quantile(.99)
    print(f"live: {fig['connected']} of {args.watchers} watchers connected to the end "
          f"({fig['failed']} failed to join, joined in {fig['joined_s']:.1f} s), {fig['frames']} leaderboard frames; "
          f"push delay (participant's submit answered → watcher's board counts them) over {delays.total} deliveries: "
          f"p50 {p50 or 0:.0f} ms, p99 {p99 or 0:.0f} ms; watchers short of the final count: {fig['behind']}")
    server_cpu, own_cpu = fig["cpu"]
    print(f"cpu over the replay: server{' + nginx' if args.procs + args.live_procs > 1 else ''} {server_cpu / span:.0%} of a core, "
          f"generator's phones {own_cpu / span:.0%}, watchers {fig['watch_cpu'] / span:.0%}")
    found, rows = sql
    lost = len(run.acked) - found
    print(f"acknowledged answers in SQL: {found} of {len(run.acked)} ({rows} rows for the contest)"
          + ("" if not lost else "  ** LOST ANSWERS **"))
    print(f"workbook {book_path} (exported in {export_s:.1f} s):")
    print("| total | acknowledged by the API | + calls never answered | in the workbook | agrees? |")
    print("|---|---|---|---|---|")
    for what, sent, unsure, shown in book:
        print(f"| {what} | {sent} | {unsure} | {shown} | {'yes' if agrees(sent, unsure, shown) else 'NO'} |")
    errors = sum(sum(c.errors.values()) for c in run.calls.values())
    all_lat = sorted(lat for c in run.calls.values() for lat in c.latencies)
    p99_all = quantile(all_lat, .99) * 1000
    if run.stopped:
        why = (f"no answer acknowledged for {args.stall:g} s" if run.stopped == "server stalled" else "Ctrl-C")
        print(f"** STOPPED EARLY ({run.stopped}: {why}) at {run.stalled_at:.0f} s with {run.stalled_in_play} attempts "
              f"in play and {run.done_at_stop} of {attempts} attempts done **")
    rows_out = [
        ("replay completed", "yes" if not run.stopped else f"NO: {run.stopped} at {run.stalled_at:.0f} s "
         f"({run.done_at_stop} of {attempts} attempts done)", "yes", mark(not run.stopped)),
        ("replay wall time", f"{span:.0f} s (planned {planned_s:.0f} s)", "", ""),
        ("answers acknowledged", f"{len(run.acked)}", f"{attempts * 10}", mark(len(run.acked) == attempts * 10)),
        ("answers/s mean / peak (10 s)", f"{mean:.0f} / {peak:.0f}", "", ""),
        ("errors", f"{errors}", "0", mark(errors == 0)),
        ("lost answers", f"{lost}", "0", mark(lost == 0)),
        ("workbook totals agree", f"{sum(1 for row in book if agrees(*row[1:]))} of {len(book)}", "all",
         mark(all(agrees(*row[1:]) for row in book))),
        ("p99 all calls", f"{p99_all:.0f} ms", "< 150 ms", mark(p99_all < 150)),
    ]
    for name, calls in run.calls.items():
        lat = sorted(calls.latencies)
        rows_out.append((f"{name} p50 / p95 / p99", f"{quantile(lat, .5) * 1000:.0f} / {quantile(lat, .95) * 1000:.0f} / "
                         f"{quantile(lat, .99) * 1000:.0f} ms", "p99 < 150 ms", mark(quantile(lat, .99) < 0.150)))
    rows_out.append(("push delay p50 / p99", f"{p50 or 0:.0f} / {p99 or 0:.0f} ms", "", ""))
    capacity_rate = None
    if isinstance(capacity, str):
        print(f"answer call flat out: not measured ({capacity})")
    elif capacity:
        flat, setup, flat_cpu, flat_own = capacity
        capacity_rate = len(flat.latencies) / args.capacity_duration
        print(f"the answer call alone flat out, after the replay on the same servers ({args.ceiling_connections} "
              f"workers each changing the answers of one attempt, {args.capacity_duration:g} s; "
              f"entries and starts before it failed: {sum(setup.errors.values())}):")
        print(table([flat], args.capacity_duration))
        print(f"  cpu: server{' + nginx' if args.procs > 1 else ''} {flat_cpu / args.capacity_duration:.0%} of a core, "
              f"generator {flat_own / args.capacity_duration:.0%}")
        lat = sorted(flat.latencies)
        rows_out.append(("answer call alone, flat out", f"{capacity_rate:.0f}/s (p99 {quantile(lat, .99) * 1000:.0f} ms)",
                         "", ""))
    if isinstance(ceiling, str):
        print(f"ceiling: not measured ({ceiling})")
    elif ceiling:
        top, top_cpu, top_own = ceiling
        ceiling_rate = len(top.latencies) / args.ceiling_duration
        print(f"ceiling (bench/ceiling_app.py, {args.procs} process(es), {args.ceiling_connections} connections flat out, "
              f"{args.ceiling_duration:g} s):")
        print(table([top], args.ceiling_duration))
        print(f"  cpu: server{' + nginx' if args.procs > 1 else ''} {top_cpu / args.ceiling_duration:.0%} of a core, "
              f"generator {top_own / args.ceiling_duration:.0%}")
        rows_out.append(("ceiling answers/s", f"{ceiling_rate:.0f}", "", ""))
        if capacity_rate is not None:
            rows_out.append(("answer call flat out ÷ ceiling", f"{capacity_rate / ceiling_rate:.0%}", "≥ 60 %",
                             mark(capacity_rate / ceiling_rate >= 0.6)))
        # The replay's rate is what the day offers, not what the servers can take: shown, not judged.
        rows_out.append(("the day's peak (10 s) ÷ ceiling", f"{peak / ceiling_rate:.0%} (mean {mean / ceiling_rate:.0%})",
                         "", ""))
    print()
    print("| what | figure | target | met? |")
    print("|---|---|---|---|")
    for row in rows_out:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
