"""Staff workbook export at the city's size: 22,484 entrants, 88,843 attempts of 10 questions, 500 units.

Targets: under 10 s and under 1 GB. The contest is written by bulk SQL inserts into a
temporary SQLite database (or PostgreSQL when EXPORT_BENCH_DATABASE_URL or --database-url
names one: its tables are dropped and recreated). The export then runs in a fresh process,
as `contest export` would, so the peak memory (ru_maxrss) is the export's own.

    .venv/bin/python bench/export_bench.py [--entrants 22484] [--attempts 88843] [--units 500]
    EXPORT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_reports .venv/bin/python bench/export_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from contest import schema  # noqa: E402
from contest.clock import Clock, contest_day  # noqa: E402
from contest.extensions import make_engine  # noqa: E402
from contest.models import Answer, Attempt, Bank, Base, Contest, Entrant, Question, Unit  # noqa: E402
from contest.runtime import Runtime  # noqa: E402

QUESTIONS_PER_ATTEMPT = 10
CHUNK = 20_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _chunks(rows: list, size: int = CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _bank(rng: random.Random) -> tuple[list[dict], dict[int, tuple[str, object]]]:
    kinds = ["single"] * 120 + ["multiple"] * 30 + ["judge"] * 30 + ["fill"] * 20
    rows, keys = [], {}
    for qid, kind in enumerate(kinds, start=1):
        answer = {"single": ["B"], "multiple": ["A", "C"], "judge": True, "fill": ["上海"]}[kind]
        rows.append({"id": qid, "bank_id": 1, "type": kind, "stem": f"第{qid}题：党史知识题干（{kind}）",
                     "stem_key": f"k{qid}", "options": ["甲", "乙", "丙", "丁"] if kind in ("single", "multiple") else [],
                     "answer": answer, "explanation": "", "score": 1.0, "category": "党史", "difficulty": "中"})
        keys[qid] = (kind, answer)
    return rows, keys


def _wrong(kind: str, rng: random.Random) -> object:
    return {"single": [rng.choice("ACD")], "multiple": ["A"], "judge": False, "fill": "北京"}[kind]


def generate(url: str, entrants: int, attempts: int, units: int, seed: int = 2026) -> int:
    """Fill the database; returns the contest id."""
    rng = random.Random(seed)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    schema.ensure(engine)  # at the newest revision, as the app expects it
    start = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    questions, keys = _bank(rng)
    with engine.begin() as conn:
        conn.execute(insert(Bank), [{"id": 1, "name": "基准题库"}])
        conn.execute(insert(Question), questions)
        conn.execute(insert(Unit), [{"id": u, "name": f"第{u}单位", "parent_name": f"第{(u - 1) // 25 + 1}系统",
                                     "headcount": rng.randint(20, 120)} for u in range(1, units + 1)])
        conn.execute(insert(Contest), [{
            "id": 1, "title": "全市职工党史知识竞赛（基准）", "bank_id": 1,
            "paper": [{"type": "single", "count": 10, "category": None}], "starts_at": start,
            "ends_at": start + timedelta(days=14), "time_limit_s": 600, "attempts_per_day": 3,
            "awards": {"tiers": [{"name": "一等奖", "top": 10}, {"name": "二等奖", "top": 30},
                                 {"name": "三等奖", "top": 60}, {"name": "优胜奖", "min_score": 8, "draw": 500,
                                                                  "seed": "bench"}],
                       "org_award": {"min_participants": 5, "top_share": 0.1, "weights": None}}}])
        people = [{"id": e, "contest_id": 1, "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                   "phone": f"139{e:08d}", "unit_id": rng.randint(1, units), "created_at": start}
                  for e in range(1, entrants + 1)]
        for chunk in _chunks(people):
            conn.execute(insert(Entrant), chunk)
    # Every participant has one attempt; the rest are spread at random (at most 3 a day).
    participants = min(entrants, int(entrants * 0.96))
    owners = list(range(1, participants + 1)) + [rng.randint(1, participants) for _ in range(attempts - participants)]
    qids = list(keys)
    made: dict[int, int] = {}
    attempt_rows, answer_rows = [], []
    answer_id = 0
    for aid, owner in enumerate(owners, start=1):
        nth = made.get(owner, 0)
        made[owner] = nth + 1
        started = start + timedelta(days=nth // 3, hours=nth % 3, seconds=rng.randint(0, 36000))
        duration_ms = rng.randint(40_000, 600_000)
        finished = started + timedelta(milliseconds=duration_ms)
        paper = rng.sample(qids, QUESTIONS_PER_ATTEMPT)
        correct = 0
        for qid in paper:
            kind, key = keys[qid]
            right = rng.random() < (0.15 if qid % 97 == 0 else 0.75)
            correct += right
            answer_id += 1
            answer_rows.append({"id": answer_id, "attempt_id": aid, "question_id": qid,
                                "answer": (key[0] if kind == "fill" else key) if right else _wrong(kind, rng),
                                "received_at": finished,
                                "is_correct": right, "points": 1.0 if right else 0.0})
        attempt_rows.append({"id": aid, "contest_id": 1, "entrant_id": owner, "day": contest_day(started),
                             "slot": nth % 3 + 1, "open_marker": None, "status": "finished",
                             "paper": [{"qid": q, "perm": [0, 1, 2, 3]} for q in paper], "paper_bank": 1,
                             "started_at": started, "deadline": started + timedelta(minutes=10),
                             "finished_at": finished, "score": float(correct), "max_score": 10.0,
                             "correct": correct, "duration_ms": duration_ms})
        if len(answer_rows) >= CHUNK * QUESTIONS_PER_ATTEMPT:
            _flush(engine, attempt_rows, answer_rows)
    _flush(engine, attempt_rows, answer_rows)
    engine.dispose()
    return 1


def _flush(engine, attempt_rows: list, answer_rows: list) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Attempt), attempt_rows)
        for chunk in _chunks(answer_rows):
            conn.execute(insert(Answer), chunk)
    attempt_rows.clear()
    answer_rows.clear()


def export_only(url: str, cid: int, target: str) -> dict:
    """Run in a fresh process: time figures and workbook, report the peak memory."""
    from contest.reports import figures
    from contest.reports.export import export_contest

    engine = make_engine(url)
    with Session(engine) as session:
        rt = Runtime(session=session, state=None, clock=Clock())
        began = time.perf_counter()
        fig = figures.load(session, session.get(Contest, cid))
        loaded = time.perf_counter() - began
        counts = {"participants": len(fig.standings), "attempts": len(fig.attempts), "answers": fig.answers}
        del fig
        session.rollback()
        began = time.perf_counter()
        export_contest(rt, cid, target, via="cli")
        total = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"figures_s": round(loaded, 2), "export_s": round(total, 2), "peak_mb": round(usage.ru_maxrss / 1024),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            **counts,
            "file_mb": round(os.path.getsize(target) / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, default=22_484)
    parser.add_argument("--attempts", type=int, default=88_843)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("EXPORT_BENCH_DATABASE_URL"))
    parser.add_argument("--export-only", nargs=2, metavar=("URL", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(export_only(args.export_only[0], 1, args.export_only[1])))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/export_bench.sqlite3"
        began = time.perf_counter()
        generate(url, args.entrants, args.attempts, args.units)
        print(f"数据生成：{args.entrants} 名报名者，{args.attempts} 份答卷，{args.units} 个单位，"
              f"{url.split('://')[0]}，用时 {time.perf_counter() - began:.1f} s")
        target = os.path.join(folder, "export.xlsx")
        run = subprocess.run([sys.executable, __file__, "--export-only", url, target],
                             capture_output=True, text=True, check=True)
        figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"参与 {figures['participants']} 人，答卷 {figures['attempts']} 份，答案 {figures['answers']} 条")
    print(f"读取与计算：{figures['figures_s']:.2f} s（单独计时）")
    print(f"导出进程 CPU 时间（含上面的单独计算与启动）：{figures['cpu_s']:.2f} s；机器负载 {os.getloadavg()[0]:.1f}")
    print(f"导出总用时：{figures['export_s']:.2f} s（目标 < 10 s），"
          f"峰值内存 {figures['peak_mb']} MB（目标 < 1024 MB），文件 {figures['file_mb']} MB")
    ok = figures["export_s"] < 10 and figures["peak_mb"] < 1024
    print("结果：" + ("达标" if ok else "未达标"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
