"""Shared by the load benchmarks: a real `contest serve` process, a contest to play, and figures.

Every address used is on the loopback range; every loop the benchmarks run is bounded in
count and time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
import socketio

PROJECT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _outgoing_ports_from() -> int:
    """The first port of the kernel's ephemeral range (Linux: 32768 unless set)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(offsets: list[int], low: int = 10000) -> int:
    """A port P such that P + each offset is free now (others run benchmarks on this machine too),
    below the kernel's range for outgoing connections: a port in it, free when a replay began, was
    taken by an outgoing connection before the ceiling's nginx could listen on it 90 minutes later."""
    high = max(low + 1000, _outgoing_ports_from() - max(offsets) - 1)
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high)
        if all(port_free(base + offset) for offset in offsets):
            return base
    raise RuntimeError("no free ports found")


def loopback_address(index: int) -> str:
    """A distinct 127.x.y.z source address per simulated worker, as workers come from many networks
    (the third octet varies first: nginx's ip_hash keys on the first three)."""
    return f"127.{1 + index // 62500}.{index % 250}.{1 + index // 250 % 250}"


class Stores:
    """The instance folder and the database/Redis URLs the bench and its server share."""

    def __init__(self, database_url: str | None, redis_url: str | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="jingda-bench-")
        self.instance = Path(self._tmp.name)
        self.database_url = database_url or f"sqlite:///{self.instance / 'bench.sqlite3'}"
        self.redis_url = redis_url
        self.app = None

    def open(self):
        """The app the bench uses to write its contest (starts the embedded Redis if none given)."""
        sys.path.insert(0, str(PROJECT))
        from contest import create_app

        self.app = create_app({
            "INSTANCE_PATH": str(self.instance), "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url, "SOCKETIO_MESSAGE_QUEUE": False,
        })
        self.redis_url = self.app.config["REDIS_URL_IN_USE"]
        return self.app

    def env(self) -> dict[str, str]:
        return {"CONTEST_INSTANCE": str(self.instance), "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url}

    def close(self) -> None:
        if self.app is not None:
            self.app.extensions["jd.db"].engine.dispose()
        from contest import embedded_redis

        embedded_redis.stop(self.instance)
        for log in self.instance.glob("server-*.log"):  # kept for a look after the run
            shutil.copy(log, Path(tempfile.gettempdir()) / f"jingda-bench-{log.name}")
        self._tmp.cleanup()


@dataclass
class Played:
    contest_id: int
    unit_ids: list[int]
    question_ids: list[int]


def make_contest(app, units: int = 500, questions: int = 10, tag: str | None = None) -> Played:
    """A bank, `units` units and an open contest, written straight into SQL (as the tests do)."""
    from contest.models import Bank, Question, Unit
    from contest.play import papers
    from contest.play.contests import ContestSettings, create_contest
    from contest.runtime import current

    tag = tag or datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    per_type = {"single": 20, "multiple": 8, "judge": 8, "fill": 4}
    with app.app_context():
        rt = current()
        bank = Bank(name=f"压测题库{tag}")
        rt.session.add(bank)
        rt.session.flush()
        rows = []
        for qtype, count in per_type.items():
            for i in range(count):
                rows.append(Question(
                    bank_id=bank.id, type=qtype, stem=f"{qtype}题{i}：中国共产党第一次全国代表大会在哪里召开？",
                    stem_key=f"{qtype}{i}", options=["上海", "北京", "嘉兴", "广州"] if qtype in ("single", "multiple") else [],
                    answer={"single": ["A"], "multiple": ["A", "C"], "judge": True, "fill": ["上海"]}[qtype],
                    explanation="一大在上海召开，最后一天转移到嘉兴南湖。", score=2 if qtype == "multiple" else 1,
                    category="党史"))
        unit_rows = [Unit(name=f"压测单位{tag}-{i:03d}", headcount=50 + i % 200, parent_name="市总工会")
                     for i in range(units)]
        rt.session.add_all(rows + unit_rows)
        rt.session.commit()
        singles = max(1, questions - 4)
        now = datetime.now(UTC)
        contest = create_contest(rt.session, ContestSettings(
            title=f"压测竞赛{tag}", bank_id=bank.id, time_limit_s=1800, attempts_per_day=100,
            paper=papers.parse_rules(f"single={singles},multiple=2,judge=1,fill=1"),
            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1),
        ))
        played = Played(contest.id, [u.id for u in unit_rows], [q.id for q in rows])
        app.extensions["jd.db"].remove()
    return played


class Server:
    """One `contest serve` process; `--server` picks its concurrency (gevent, eventlet, threading)."""

    def __init__(self, stores: Stores, port: int, mode: str | None, extra_env: dict | None = None,
                 command: list[str] | None = None) -> None:
        self.port = port
        self.log = stores.instance / f"server-{port}.log"
        args = command or [sys.executable, "-m", "contest.cli", "serve", "--port", str(port)]
        if mode:
            args += ["--server", mode]
        self.args = args
        self.env = {**os.environ, **stores.env(), **(extra_env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        # Another server already on the port would answer the readiness poll in this one's place.
        if not port_free(self.port):
            raise RuntimeError(f"port {self.port} is in use: pick another with --port")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.args, env=self.env, cwd=PROJECT, stdout=log,
                                            stderr=subprocess.STDOUT)
        return self.wait_ready(self.process, timeout)

    def wait_ready(self, process: subprocess.Popen, timeout: float = 30) -> Server:
        """Poll this port until it answers, while `process` (which serves it) is alive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/contests", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)  # the port is not open yet; bounded by the deadline
        raise RuntimeError(f"server did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def cpu(self) -> float:
        """CPU seconds of the server and its child processes still running."""
        total = cpu_seconds(self.process.pid)
        for pid in _children(self.process.pid):
            total += cpu_seconds(int(pid))
        return total

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Nginx:
    """Debian's nginx with deploy/nginx.conf: pages and API to `ports`, /socket.io/ to `live_ports` (else `ports`)."""

    def __init__(self, stores: Stores, listen: int, ports: list[int], live_ports: list[int] | None = None) -> None:
        conf = (PROJECT / "deploy" / "nginx.conf").read_text()
        conf = conf.replace("        server 127.0.0.1:5001;\n        server 127.0.0.1:5002;\n", _servers(ports))
        conf = conf.replace("        server 127.0.0.1:5003;\n", _servers(live_ports or ports))
        conf = conf.replace("listen 8080", f"listen 127.0.0.1:{listen}")
        conf = conf.replace("root /srv/jingda/contest;", f"root {PROJECT / 'contest'};")
        self.dir = stores.instance / f"nginx-{listen}"
        self.dir.mkdir()
        (self.dir / "nginx.conf").write_text(conf)
        self.port = listen
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir),
             "-g", f"daemon off; pid {self.dir}/nginx.pid; error_log {self.dir}/error.log;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v1/contests", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)  # not listening yet; bounded by the deadline
        raise RuntimeError(f"nginx did not answer: {(self.dir / 'error.log').read_text()[-2000:]}")

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) + sum(cpu_seconds(int(pid)) for pid in _children(self.process.pid))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _servers(ports: list[int]) -> str:
    return "".join(f"        server 127.0.0.1:{p};\n" for p in ports)


def start_servers(stores: Stores, port: int, procs: int, mode: str | None,
                  live: int = 0) -> tuple[Server, Nginx | None]:
    """`contest serve` on `port`; with procs > 1, `--workers N` on port.. behind deploy/nginx.conf on port+100.

    live: that many more processes, after the `procs`, to which nginx sends the live channel alone.

    mode "gunicorn": one gunicorn with deploy/gunicorn.conf.py (a gevent worker) instead of `contest serve`.
    """
    if mode == "gunicorn":
        if procs > 1:
            raise SystemExit("--server gunicorn measures one process (--procs 1)")
        return Server(stores, port, None, command=[
            sys.executable, "-m", "gunicorn", "-c", str(PROJECT / "deploy" / "gunicorn.conf.py"),
            "-b", f"127.0.0.1:{port}", "contest.wsgi:app"]).start(), None
    if procs <= 1 and not live:
        return Server(stores, port, mode).start(), None
    server = Server(stores, port, mode, {"PROXY_COUNT": "1"},
                    command=[sys.executable, "-m", "contest.cli", "serve", "--port", str(port),
                             "--workers", str(procs + live)]).start()
    for extra in range(1, procs + live):
        Server(stores, port + extra, None).wait_ready(server.process)
    return server, Nginx(stores, port + 100, [port + i for i in range(procs)],
                         [port + procs + i for i in range(live)]).start()


def start_ceilings(stores: Stores, port: int, procs: int) -> tuple[list[Server], Nginx | None]:
    """bench/ceiling_app.py in the same shape as start_servers: one process, or N behind nginx."""
    servers = [Server(stores, port + i, None, command=[
        sys.executable, str(PROJECT / "bench" / "ceiling_app.py"), str(port + i), stores.redis_url]).start()
        for i in range(procs)]
    proxy = Nginx(stores, port + 100, [s.port for s in servers]).start() if procs > 1 else None
    return servers, proxy


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


@dataclass
class Calls:
    """Latencies (seconds) and errors of one kind of call, kept only inside the measured window."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def row(self, seconds: float) -> str:
        lat = sorted(self.latencies)
        errors = sum(self.errors.values())
        detail = ", ".join(f"{k}×{v}" for k, v in sorted(self.errors.items()))
        return (f"{self.name:<10}{len(lat):>9}{len(lat) / seconds:>9.0f}{ms(lat, 0.50):>9}{ms(lat, 0.95):>9}"
                f"{ms(lat, 0.99):>9}{ms(lat, 1.0):>9}{errors:>8}  {detail}")


async def timed_call(calls: Calls, window: tuple[float, float], http: Http, method: str, path: str,
                     expected: tuple[int, ...], body: object = None, token: str | None = None,
                     retries: int = 0, headers: dict[str, str] | None = None, raw: bool = False) -> object:
    """Send one call; record its latency (inside the window) or its error; None on failure.

    A broken connection or a timeout is counted as an error and then, up to `retries` times,
    the call is sent again on a new connection, as a phone would (only for repeatable calls).
    """
    for _ in range(retries + 1):
        started = time.monotonic()
        try:
            status, answer = await http.request(method, path, body, token, headers=headers, raw=raw)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            if window[0] <= started <= window[1]:
                calls.error(type(error).__name__)
            continue
        ended = time.monotonic()
        if status not in expected:
            if window[0] <= started <= window[1]:
                code = answer.get("error", "") if isinstance(answer, dict) else ""
                calls.error(f"{status} {code}".strip())
            return None
        if window[0] <= started and ended <= window[1]:
            calls.latencies.append(ended - started)
        return answer
    return None


def answer_for(question: dict, rng) -> object:
    """A plausible answer of the question's type (right or wrong at random)."""
    kind = question["type"]
    if kind == "single":
        return [rng.choice("ABCD"[: len(question["options"])])]
    if kind == "multiple":
        return sorted(rng.sample("ABCD"[: len(question["options"])], 2))
    if kind == "judge":
        return rng.random() < 0.7
    return rng.choice(["上海", "北京"])


def answer_key(attempt_id: int, question_id: int) -> int:
    """One int per (attempt, question): a set of a million of them costs a third of the tuples'."""
    return attempt_id << 24 | question_id


def answers_in_sql(app, contest_id: int, acked: set[int]) -> tuple[int, int]:
    """(acknowledged answers found in SQL, answer rows of the contest); `acked` holds answer_key()s."""
    from sqlalchemy import select

    from contest.models import Answer, Attempt

    found = rows = 0
    with app.app_context():
        session = app.extensions["jd.db"].session()
        result = session.execute(
            select(Answer.attempt_id, Answer.question_id).join(Attempt, Attempt.id == Answer.attempt_id)
            .where(Attempt.contest_id == contest_id).execution_options(yield_per=20_000))
        for attempt_id, question_id in result:
            rows += 1
            found += answer_key(attempt_id, question_id) in acked
        app.extensions["jd.db"].remove()
    return found, rows


async def measure_ceiling(port: int, connections: int, duration: float, server_cpu,
                          rate: float = 0.0) -> tuple[Calls, float, float]:
    """The minimal endpoint over `connections` keep-alive connections for `duration` s: flat out,
    or offered `rate` calls/s in all (random gaps, as contest_load's workers pace answers).

    Returns its Calls and the CPU seconds of the server(s) (`server_cpu()`) and of this process.
    """
    now = time.monotonic()
    window = (now + 2, now + 2 + duration)
    calls = Calls("ceiling")

    async def hammer(index: int) -> None:
        http = Http("127.0.0.1", port, loopback_address(index))
        rng = random.Random(index)
        next_at = time.monotonic() + (rng.uniform(0, connections / rate) if rate else 0.0)
        try:
            while time.monotonic() < window[1]:
                if rate:
                    next_at = max(next_at + rng.expovariate(rate / connections), time.monotonic())
                    await asyncio.sleep(next_at - time.monotonic())
                await timed_call(calls, window, http, "PUT", f"/api/v1/attempts/{index}/answers/1", (200,),
                                 {"answer": ["A"]}, "ceiling")
        finally:
            http.close()

    tasks = [asyncio.ensure_future(hammer(i)) for i in range(connections)]
    await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
    cpu, own = server_cpu(), cpu_seconds(os.getpid())
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    cpu, own = server_cpu() - cpu, cpu_seconds(os.getpid()) - own
    await asyncio.wait(tasks, timeout=15)
    return calls, cpu, own


async def measure_answers(port: int, contest_id: int, unit_ids: list[int], connections: int, duration: float,
                          server_cpu) -> tuple[Calls, Calls, float, float]:
    """The project's answer call flat out, measured as measure_ceiling measures the minimal endpoint
    (same connections, same warm-up, same window): each connection's worker enters and starts one
    attempt, then changes its answers over and over for `duration` s (the last answer counts).

    Returns the answers' Calls, the entries' and starts' Calls (before the window, errors only),
    and the CPU seconds of the server(s) and of this process over the window.
    """
    ever = (0.0, float("inf"))
    setup, calls = Calls("enter+start"), Calls("answer")

    async def start(index: int) -> tuple[Http, str, dict] | None:
        http = Http("127.0.0.1", port, loopback_address(index))
        entered = await timed_call(setup, ever, http, "POST", f"/api/v1/contests/{contest_id}/entrants", (201,),
                                   {"name": f"职工{index}", "phone": f"199{index:08d}",
                                    "unit_id": unit_ids[index % len(unit_ids)]})
        paper = entered and await timed_call(setup, ever, http, "POST", f"/api/v1/contests/{contest_id}/attempts",
                                             (200, 201), token=entered["token"])
        if not paper:
            http.close()
            return None
        return http, entered["token"], paper

    started = await asyncio.gather(*(start(i) for i in range(connections)))
    now = time.monotonic()
    window = (now + 2, now + 2 + duration)

    async def hammer(index: int, http: Http, token: str, paper: dict) -> None:
        rng = random.Random(index)
        questions = itertools.cycle(paper["questions"])
        try:
            while time.monotonic() < window[1]:
                question = next(questions)
                await timed_call(calls, window, http, "PUT",
                                 f"/api/v1/attempts/{paper['attempt_id']}/answers/{question['id']}", (200,),
                                 {"answer": answer_for(question, rng)}, token)
        finally:
            http.close()

    tasks = [asyncio.ensure_future(hammer(i, *one)) for i, one in enumerate(started) if one]
    await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
    cpu, own = server_cpu(), cpu_seconds(os.getpid())
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    cpu, own = server_cpu() - cpu, cpu_seconds(os.getpid()) - own
    await asyncio.wait(tasks, timeout=15)
    return calls, setup, cpu, own


def ms(sorted_values: list[float], q: float) -> str:
    if not sorted_values:
        return "-"
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return f"{sorted_values[index] * 1000:.1f}"


def table(calls: list[Calls], seconds: float) -> str:
    head = f"{'call':<10}{'count':>9}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
    return "\n".join([head] + [c.row(seconds) for c in calls])


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


@dataclass
class Page:
    """A page's or a file's reply, as a browser keeps it."""

    body: bytes
    etag: str | None
    kept: bool  # Cache-Control max-age: the browser uses it without asking again


class Http:
    """A lean HTTP/1.1 keep-alive JSON client on asyncio streams.

    httpx costs about 1.5 ms of CPU per request here, so a generator built on it would need
    more cores than the machine has to offer 1,500 answers/s; this one costs a tenth of that.
    """

    def __init__(self, host: str, port: int, local_address: str | None = None) -> None:
        self.host, self.port, self.local_address = host, port, local_address
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        local = (self.local_address, 0) if self.local_address else None
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, local_addr=local)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def request(self, method: str, path: str, body: object = None, token: str | None = None,
                      timeout: float = 10, headers: dict[str, str] | None = None,
                      raw: bool = False) -> tuple[int, object]:
        """(status, decoded JSON body or None); with `raw`, (status, Page) for a page or a file.
        Raises OSError/asyncio errors on a broken connection."""
        try:
            return await asyncio.wait_for(self._request(method, path, body, token, headers, raw), timeout)
        except BaseException:
            self.close()
            raise

    async def _request(self, method, path, body, token, headers, raw) -> tuple[int, object]:
        if self.writer is None:
            await self._connect()
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n")
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, closing, etag, kept = 0, False, False, None, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                closing = True
            elif name == "etag":
                etag = value
            elif name == "cache-control":
                kept = "max-age=" in value and "max-age=0" not in value
        if chunked:
            data = b""
            while (size := int((await self.reader.readline()).split(b";")[0], 16)) > 0:
                data += await self.reader.readexactly(size + 2)
                data = data[:-2]
            await self.reader.readline()
        else:
            data = await self.reader.readexactly(length) if length else b""
        if closing:
            self.close()
        if raw:
            return status, Page(data, etag, kept)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


LIVE = "/live"


class LiveClient:
    """One python-socketio client on /live (websocket transport); subclasses handle `leaderboard` frames."""

    def __init__(self, url: str, source: str | None = None) -> None:
        self.url = url
        # From a source address of its own when given, so that nginx's ip_hash spreads watchers over
        # the processes as it would spread people on their own networks.
        session = (lambda: aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))) \
            if source else None
        # Offering permessage-deflate as browsers do: the server then compresses every frame for
        # every socket, which is part of what a push costs it.
        self.client = socketio.AsyncClient(reconnection=False, http_session=session,
                                           websocket_extra_options={"compress": 15})
        self.client.on("leaderboard", self.on_board, namespace=LIVE)

    @property
    def connected(self) -> bool:
        return self.client.connected

    async def on_board(self, body: dict) -> None:
        raise NotImplementedError

    async def join(self, cid: int) -> None:
        await self.client.connect(self.url, namespaces=[LIVE], transports=["websocket"], wait_timeout=30)
        ack = await self.client.call("join", {"contest": cid}, namespace=LIVE, timeout=30)
        if ack != {"joined": cid}:
            raise RuntimeError(f"join refused: {ack}")

    async def disconnect(self) -> None:
        await self.client.disconnect()


class LeanLiveClient:
    """The same watcher speaking Engine.IO 4 / Socket.IO 5 over one aiohttp websocket itself.

    python-socketio's AsyncClient spends about 0.26 ms of the generator's CPU on each frame; 1,000
    watchers at the peaks get up to 6,600 frames a second, which would take more than the
    machine's two cores and leave the server none. This client reads only what a watcher needs:
    the open packet, the namespace's connect, the join's acknowledgement, pings and events.
    """

    _last: tuple[str, list] = ("", [])   # the last event frame's text and what it decoded to

    def __init__(self, url: str, source: str | None = None) -> None:
        self.url = url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self.source = source
        self.session: aiohttp.ClientSession | None = None
        self.ws = None
        self.task: asyncio.Task | None = None
        self.joined: asyncio.Future | None = None

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def on_board(self, body: dict) -> None:
        raise NotImplementedError

    async def join(self, cid: int) -> None:
        connector = aiohttp.TCPConnector(local_addr=(self.source, 0)) if self.source else None
        self.session = aiohttp.ClientSession(connector=connector)
        # compress: permessage-deflate offered, as browsers do (see LiveClient).
        self.ws = await self.session.ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=5), max_msg_size=0,
                                                compress=15)
        opened = await self.ws.receive_str(timeout=30)
        if not opened.startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {opened[:80]}")
        await self.ws.send_str(f"40{LIVE},")
        connected = await self.ws.receive_str(timeout=30)
        if not connected.startswith(f"40{LIVE},"):
            raise RuntimeError(f"namespace refused: {connected[:80]}")
        self.joined = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._read())
        await self.ws.send_str(f"42{LIVE},1" + json.dumps(["join", {"contest": cid}]))
        ack = await asyncio.wait_for(self.joined, 30)
        if ack != {"joined": cid}:
            raise RuntimeError(f"join refused: {ack}")

    async def _read(self) -> None:
        events, acks = f"42{LIVE},[\"leaderboard\",", f"43{LIVE},1"
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith(events):  # a leaderboard frame (stats frames are not read)
                # Every watcher of a process gets the same frame: decode it once (a third of their CPU).
                if data != LeanLiveClient._last[0]:
                    LeanLiveClient._last = (data, json.loads(data[len(f"42{LIVE},"):]))
                await self.on_board(LeanLiveClient._last[1][1])
            elif data.startswith(acks) and not self.joined.done():
                self.joined.set_result(json.loads(data[len(acks):])[0])

    async def disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.session is not None:
            await self.session.close()


async def connect_all(watchers: list[LiveClient], cid: int, batch: int = 50) -> int:
    """Join every client to the contest, `batch` at a time; returns how many failed."""
    failed = 0
    for start in range(0, len(watchers), batch):
        results = await asyncio.gather(*(w.join(cid) for w in watchers[start:start + batch]), return_exceptions=True)
        failed += sum(1 for r in results if isinstance(r, BaseException))
    return failed
