"""One live game with many players on one `contest serve` process (issue 5's figures).

    .venv/bin/python bench/game_bench.py [--players 2000] [--seconds 10] [--database-url URL]
                                         [--client-processes N]

N python-socketio AsyncClients join one PIN room over websockets; the host starts. Question 1:
every player answers at a random moment within the first 8 s (it closes when the last answer
is in). Question 2: 90 % answer, so it closes by the server's clock. Printed: join and answer
acknowledgement latencies, and from question close (the server's `closed_at`) to the result
reaching each phone, p50/p99/max, plus a check that every acknowledged answer was counted in
the result and stored in SQL. Everything runs on loopback, bounded in count and time.
The players run in --client-processes processes (default 1); the host in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import socketio

PROJECT = Path(__file__).resolve().parent.parent
NAMESPACE = "/live"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000:.0f}"


def row(name: str, values: list[float], extra: str = "") -> str:
    return f"{name:<34}{len(values):>7}{pct(values, .5):>9}{pct(values, .99):>9}{pct(values, 1.0):>9}  {extra}"


def make_game(instance: Path, database_url: str, seconds: int, questions: int) -> tuple[dict, str]:
    """A bank, units and a game written through the services; returns (links, redis_url)."""
    sys.path.insert(0, str(PROJECT))
    from contest import create_app
    from contest.models import Bank, Question, Unit
    from contest.play import games
    from contest.runtime import current

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url, "REDIS_URL": None,
                      "SOCKETIO_MESSAGE_QUEUE": False})
    with app.app_context():
        rt = current()
        bank = Bank(name=f"现场压测{time.time_ns()}")
        rt.session.add(bank)
        rt.session.flush()
        rt.session.add_all([Question(bank_id=bank.id, type="single", stem=f"压测题{i}：一大在哪里召开？", stem_key=f"g{i}",
                                     options=["上海", "北京", "嘉兴", "广州"], answer=["A"], explanation="", score=1)
                            for i in range(questions)])
        rt.session.add_all([Unit(name=f"压测单位{time.time_ns()}-{i}", headcount=100) for i in range(50)])
        rt.session.commit()
        qids = [q.id for q in rt.session.query(Question).filter_by(bank_id=bank.id).order_by(Question.id)]
        units = [u.id for u in rt.session.query(Unit).order_by(Unit.id).limit(50)]
        game, host_token = games.create_game(rt, games.GameSettings(bank_id=bank.id, question_ids=qids,
                                                                    seconds=seconds, max_players=10000))
        links = {"pin": game.pin, "host_token": host_token, "game_id": game.id, "units": units}
    redis_url = app.config["REDIS_URL_IN_USE"]
    app.extensions["jd.db"].engine.dispose()
    return links, redis_url


def stored_answers(instance: Path, database_url: str, redis_url: str, game_id: int) -> dict[int, int]:
    from sqlalchemy import func, select

    from contest import create_app
    from contest.models import GameAnswer
    from contest.runtime import current

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "SOCKETIO_MESSAGE_QUEUE": False})
    with app.app_context():
        rows = current().session.execute(
            select(GameAnswer.question_index, func.count()).where(GameAnswer.game_id == game_id)
            .group_by(GameAnswer.question_index)).all()
    return dict(rows)


class Player:
    def __init__(self, i: int, url: str, pin: str, unit: int, answer_share: dict[int, float], rng: random.Random):
        self.i, self.url, self.pin, self.unit = i, url, pin, unit
        self.answer_share, self.rng = answer_share, rng
        self.sio = socketio.AsyncClient(reconnection=True, request_timeout=30)
        self.token = None
        self.accepted: dict[int, bool] = {}
        self.ack_s: dict[int, float] = {}
        self.result_at: dict[int, tuple[float, str]] = {}
        self.you_at: dict[int, float] = {}
        self.over_at: float | None = None
        self.tasks: list[asyncio.Task] = []
        self.sio.on("game_question", self.on_question, namespace=NAMESPACE)
        self.sio.on("game_result", self.on_result, namespace=NAMESPACE)
        self.sio.on("game_you", self.on_you, namespace=NAMESPACE)
        self.sio.on("game_over", self.on_over, namespace=NAMESPACE)

    async def join(self) -> float:
        await self.sio.connect(self.url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=30)
        started = time.monotonic()
        ack = await self.sio.call("game_join", {"pin": self.pin, "name": f"选手{self.i}", "unit_id": self.unit},
                                  namespace=NAMESPACE, timeout=30)
        if "token" not in ack:
            raise RuntimeError(f"join refused: {ack}")
        self.token = ack["token"]
        return time.monotonic() - started

    async def on_question(self, body):
        index = body["index"]
        if self.rng.random() < self.answer_share.get(index, 1.0):
            self.tasks.append(asyncio.ensure_future(self.answer(index, self.rng.uniform(0.2, 8.0))))

    async def answer(self, index: int, delay: float):
        await asyncio.sleep(delay)
        started = time.monotonic()
        ack = await self.sio.call("game_answer", {"pin": self.pin, "token": self.token, "index": index,
                                                  "answer": self.rng.choice([["A"], ["A"], ["B"], ["C"]])},
                                  namespace=NAMESPACE, timeout=30)
        self.ack_s[index] = time.monotonic() - started
        self.accepted[index] = ack == {"accepted": True}

    async def on_result(self, body):
        self.result_at[body["index"]] = (time.time(), body["closed_at"], body["answered"])

    async def on_you(self, body):
        self.you_at[body["index"]] = time.time()

    async def on_over(self, body):
        self.over_at = time.time()


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def crowd_process(url: str, links: dict, ids: range, batch: int, seconds: int, conn) -> None:
    """A share of the players in a process of its own: real phones read their frames in parallel,
    while one asyncio process reads 2,000 frames one after the other (and counts that as latency)."""
    try:
        asyncio.run(asyncio.wait_for(_crowd(url, links, ids, batch, seconds, conn), timeout=600))
    except BaseException as error:  # the host side reports it and stops
        conn.send(("error", repr(error)))
        raise


async def _crowd(url: str, links: dict, ids: range, batch: int, seconds: int, conn) -> None:
    share = {0: 1.0, 1: 0.9}
    crowd = [Player(i, url, links["pin"], links["units"][i % len(links["units"])], share, random.Random(i))
             for i in ids]
    try:
        join_s: list[float] = []
        for first in range(0, len(crowd), batch):
            join_s += await asyncio.gather(*(p.join() for p in crowd[first:first + batch]))
        conn.send(("joined", join_s))
        for index in (0, 1):
            await wait_for(lambda i=index: all(i in p.result_at for p in crowd), seconds + 30, f"results of {index}")
            await wait_for(lambda i=index: all(i in p.you_at for p in crowd), 30, f"own ranks of {index}")
            conn.send(("done", index))
        await wait_for(lambda: all(p.over_at for p in crowd), 30, "the podium")
        seen = [{"ack_s": p.ack_s, "accepted": p.accepted, "result_at": p.result_at, "you_at": p.you_at}
                for p in crowd]
        conn.send(("seen", seen, time.process_time()))
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in crowd), return_exceptions=True)


async def receive(conns: list, kind: str) -> list:
    """One message of `kind` from every crowd process (an error from any of them stops the run)."""
    got = []
    for conn in conns:
        message = await asyncio.to_thread(conn.recv)
        if message[0] != kind:
            raise RuntimeError(f"crowd process: expected {kind}, got {message}")
        got.append(message[1:])
    return got


async def play(url: str, links: dict, conns: list) -> tuple[list, dict]:
    """The host's side; the players are in the crowd processes behind `conns`."""
    figures: dict = {}
    started = time.monotonic()
    figures["join"] = [s for (joined,) in await receive(conns, "joined") for s in joined]
    figures["join_all_s"] = time.monotonic() - started

    host = socketio.AsyncClient(reconnection=True, request_timeout=30)
    await host.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=30)

    async def act(action):
        ack = await host.call("game_host", {"pin": links["pin"], "host_token": links["host_token"], "action": action},
                              namespace=NAMESPACE, timeout=60)
        if "error" in ack:
            raise RuntimeError(f"host {action}: {ack}")
        return ack

    try:
        snap = await act("watch")
        figures["seated"] = snap["players"]
        await act("start")
        for index in (0, 1):
            await receive(conns, "done")
            await act("next" if index == 0 else "end")
        crowd, cpu = [], 0.0
        for seen, process_cpu in await receive(conns, "seen"):
            crowd += [SimpleNamespace(**p) for p in seen]
            cpu += process_cpu
        figures["crowd_cpu"] = cpu
    finally:
        await host.disconnect()
    return crowd, figures


def run(url: str, links: dict, players: int, seconds: int, batch: int, processes: int) -> tuple[list, dict]:
    """Players in `processes` crowd processes (spawned: no state inherited), the host here."""
    context = multiprocessing.get_context("spawn")
    conns, workers = [], []
    for part in range(processes):
        here, there = context.Pipe()
        ids = range(part * players // processes, (part + 1) * players // processes)
        worker = context.Process(target=crowd_process, args=(url, links, ids, batch // processes or 1, seconds, there))
        worker.start()
        conns.append(here)
        workers.append(worker)
    try:
        return asyncio.run(asyncio.wait_for(play(url, links, conns), timeout=600))
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="players connecting at once")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary instance")
    parser.add_argument("--server", default="gevent", help="contest serve --server (gevent, eventlet, threading)")
    parser.add_argument("--client-processes", type=int, default=1,
                        help="processes the players are spread over (phones read their frames in parallel)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jingda-game-bench-") as tmp:
        instance = Path(tmp)
        database_url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
        links, redis_url = make_game(instance, database_url, args.seconds, questions=3)
        port = free_port()
        env = {**os.environ, "CONTEST_INSTANCE": str(instance), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "CONTEST_SERVER": args.server}
        log = instance / "server.log"
        with open(log, "wb") as out:
            server = subprocess.Popen([sys.executable, "-m", "contest.cli", "serve", "--port", str(port)],
                                      env=env, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/api/v1/contests", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)  # waiting for the port; bounded by the deadline
            cpu_before = cpu_seconds(server.pid), time.process_time()
            crowd, figures = run(url, links, args.players, args.seconds, args.batch, args.client_processes)
            figures["cpu"] = (cpu_seconds(server.pid) - cpu_before[0],
                              time.process_time() - cpu_before[1] + figures["crowd_cpu"])
            report(crowd, figures, args, stored_answers(instance, database_url, redis_url, links["game_id"]))
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            tail = log.read_text(errors="replace")[-1500:]
            if "Traceback" in tail:
                print("server log tail:\n" + tail)
            from contest import embedded_redis

            embedded_redis.stop(instance)


def report(crowd: list[Player], figures: dict, args, stored: dict[int, int]) -> None:
    print(f"game bench: {args.players} players in {args.client_processes} client process(es), {args.seconds} s "
          f"questions, server={args.server}, {os.cpu_count()} cores")
    print(f"joined {figures['seated']} seats in {figures['join_all_s']:.1f} s; CPU seconds over the run: "
          f"server {figures['cpu'][0]:.1f}, the {args.players} players {figures['cpu'][1]:.1f} (same 2 cores)")
    print(f"{'':<34}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    print(row("game_join ack", figures["join"]))
    for index, how in ((0, "closed when all answered"), (1, "closed by the clock (90 % answered)")):
        acks = [p.ack_s[index] for p in crowd if index in p.ack_s]
        accepted = sum(1 for p in crowd if p.accepted.get(index))
        print(row(f"q{index + 1} game_answer ack", acks, f"accepted {accepted}/{len(acks)}"))
        latencies, counted = [], set()
        for p in crowd:
            arrived, closed_at, answered = p.result_at[index]
            latencies.append(arrived - datetime.fromisoformat(closed_at).timestamp())
            counted.add(answered)
        print(row(f"q{index + 1} close → game_result", latencies,
                  f"{how}; reached {len(latencies)}/{len(crowd)} phones"))
        yous = [p.you_at[index] - datetime.fromisoformat(p.result_at[index][1]).timestamp() for p in crowd]
        print(row(f"q{index + 1} close → own rank (game_you)", yous))
        ok = counted == {accepted} and stored.get(index) == accepted
        print(f"    answers: acknowledged {accepted}, in the result {sorted(counted)}, stored in SQL "
              f"{stored.get(index)} -> {'OK' if ok else 'MISMATCH'}")


if __name__ == "__main__":
    main()
