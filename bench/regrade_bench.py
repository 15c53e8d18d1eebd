"""Correcting a key at the city's size: how long until every finished attempt and the board agree.

The contest of bench/export_bench.py (22,484 entrants, 88,843 finished attempts of 10 questions
drawn from 200, 500 units) is written into a temporary SQLite database (or --database-url), its
board is built in an embedded Redis, and the key of question 97 (the one 题目分析 flags: drawn
often, rarely answered right) is corrected from B to A, as an organizer would on the admin page.
Then the same question is re-scored again (the second pass), which finds nothing to change.

    .venv/bin/python bench/regrade_bench.py [--entrants 22484] [--attempts 88843]
    .venv/bin/python bench/regrade_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench_regrade
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export_bench import generate  # noqa: E402

QUESTION = 97  # keyed B; 15 % answer it right, the others pick A, C or D


def _log_answers(url: str) -> None:
    """The audit log of the generated answers (as the answer path writes it), for verify-ranking."""
    from sqlalchemy import insert, select

    from contest.extensions import make_engine
    from contest.models import Answer, AnswerLog, Attempt

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(AnswerLog).from_select(
            ["contest_id", "entrant_id", "attempt_id", "question_id", "answer", "received_at"],
            select(Attempt.contest_id, Attempt.entrant_id, Answer.attempt_id, Answer.question_id, Answer.answer,
                   Answer.received_at).join(Attempt, Attempt.id == Answer.attempt_id).order_by(Answer.id)))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, default=22_484)
    parser.add_argument("--attempts", type=int, default=88_843)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from contest import create_app, embedded_redis
    from contest.models import Contest
    from contest.play import audit, corrections, ranking
    from contest.runtime import current

    with tempfile.TemporaryDirectory(prefix="jingda-regrade-") as folder:
        url = args.database_url or f"sqlite:///{folder}/regrade.sqlite3"
        began = time.perf_counter()
        cid = generate(url, args.entrants, args.attempts, args.units)
        _log_answers(url)
        print(f"数据生成：{args.entrants} 名报名者，{args.attempts} 份答卷，{url.split('://')[0]}，"
              f"用时 {time.perf_counter() - began:.1f} s")
        app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": url, "REDIS_URL": None,
                          "SOCKETIO_MESSAGE_QUEUE": False})
        try:
            with app.app_context():
                rt = current()
                contest = rt.session.get(Contest, cid)
                began = time.perf_counter()
                ranking.rebuild(rt, contest)
                board_s = time.perf_counter() - began
                top_before = rt.state.boards.top(cid, 1)

                began = time.perf_counter()
                fixed = corrections.correct_key(rt, QUESTION, "A", via="cli")
                correct_s = time.perf_counter() - began
                regraded, changed = fixed.answers_regraded, fixed.attempts_changed
                began = time.perf_counter()
                again = corrections.regrade(rt, QUESTION)
                again_s = time.perf_counter() - began
                began = time.perf_counter()
                checked = audit.verify(rt, cid)
                verify_s = time.perf_counter() - began
                top_after = rt.state.boards.top(cid, 1)
        finally:
            app.extensions["jd.db"].engine.dispose()
            embedded_redis.stop(Path(folder))

    print(f"排行榜从数据库重建一次：{board_s:.2f} s")
    print(f"更正第 {QUESTION} 题答案（B → A）：重新评分 {regraded} 个作答，"
          f"{changed} 份答卷分数改变，含重建排行榜共 {correct_s:.2f} s")
    print(f"第二遍核对：{again.answers} 个作答，{again.attempts_changed} 份改变，{again_s:.2f} s")
    print(f"verify-ranking：{'一致' if checked.ok else '不一致'}（{verify_s:.1f} s）；"
          f"第一名变化：{'是' if top_before != top_after else '否'}")
    sys.exit(0 if checked.ok and again.attempts_changed == 0 else 1)


if __name__ == "__main__":
    main()
