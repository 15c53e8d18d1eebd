"""Bank import speed: a 10,000-question xlsx (target < 3 s) and a 10,000-row GB18030 CSV (< 2 s).

Times the whole import as `contest import-bank` does it: read and check every row, then
store all questions into a fresh SQLite database in one transaction. Best of three runs.

    .venv/bin/python bench/import_bench.py [--rows 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contest import schema  # noqa: E402
from contest.banks import read_bank, store_bank, write_bank  # noqa: E402
from contest.extensions import make_engine  # noqa: E402
from contest.models import Base  # noqa: E402


def questions(count: int) -> list[dict]:
    kinds = ["single", "single", "multiple", "judge", "fill"]
    made = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        stem = f"第{i}题：中国共产党第一次全国代表大会于1921年7月在上海召开，下列说法中正确的是哪一项（编号{i}）？"
        options = ["1919年", "1921年", "1927年", "1949年"] if kind in ("single", "multiple") else []
        answer = {"single": ["B"], "multiple": ["A", "C"], "judge": True, "fill": ["上海", "上海市"]}[kind]
        made.append({"type": kind, "stem": stem, "options": options, "answer": answer,
                     "explanation": "中共一大于1921年7月23日在上海开幕，后转移到浙江嘉兴南湖。",
                     "score": 2, "category": "党史", "difficulty": "中"})
    return made


def gb18030_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["题型", "题目", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "分值", "分类"])
    names = {"single": "单选", "multiple": "多选", "judge": "判断", "fill": "填空"}
    for q in rows:
        answer = "正确" if q["answer"] is True else "|".join(q["answer"]) if q["type"] == "fill" else ",".join(q["answer"])
        writer.writerow([names[q["type"]], q["stem"], *(q["options"] + [""] * 4)[:4], answer, q["explanation"],
                         q["score"], q["category"]])
    return buffer.getvalue().encode("gb18030")


def timed_import(data: bytes, filename: str, database_url: str | None) -> tuple[float, float]:
    """(seconds to read and check, seconds for the whole import including the store)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(database_url or f"sqlite:///{folder}/bench.sqlite3")
        Base.metadata.drop_all(engine)
        schema.ensure(engine)  # at the newest revision, as the app expects it
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            started = time.perf_counter()
            result = read_bank(data, filename)
            read_s = time.perf_counter() - started
            assert not result.faults, result.faults[:3]
            store_bank(session, result, "基准题库")
            total_s = time.perf_counter() - started
        engine.dispose()
    return read_s, total_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    rows = questions(args.rows)
    files = [
        ("xlsx", write_bank(rows, title="基准题库"), "bench.xlsx", 3.0),
        ("csv (GB18030)", gb18030_csv(rows), "bench.csv", 2.0),
    ]
    print(f"Bank import, {args.rows:,} questions, best of 3 (cpu count {os.cpu_count()})")
    print(f"{'file':<15}{'size':>10}{'read+check':>13}{'whole import':>15}{'target':>9}")
    for label, data, filename, target in files:
        runs = [timed_import(data, filename, args.database_url) for _ in range(3)]
        read_s = min(run[0] for run in runs)
        total_s = min(run[1] for run in runs)
        verdict = "ok" if total_s < target else "SLOW"
        print(f"{label:<15}{len(data) / 1024 / 1024:>8.1f}MB{read_s:>12.2f}s{total_s:>14.2f}s"
              f"{'< ' + str(target) + ' s':>9} {verdict}  (median whole {statistics.median(r[1] for r in runs):.2f}s)")


if __name__ == "__main__":
    main()
