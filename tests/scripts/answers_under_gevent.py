"""Run by tests/test_answer_pool.py in a process of its own (gevent must patch before anything imports).

N answers at once under gevent, each request having read through its SQL session first (as a
bank-cache refresh does), with a 3 s pool timeout. Before the fix each such request held its
pooled connection while waiting on the group-commit writer, which needed one from the same
pool: beyond 15 in flight (SQLite's pool) nothing committed. Prints one status per answer.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

# The pool SQLAlchemy gives by default (5 + 10): the server's own (40 + 40) is larger than the
# Redis pool (64) that lets requests through to SQL, so the wait below could never run it dry.
os.environ["DATABASE_POOL_SIZE"], os.environ["DATABASE_MAX_OVERFLOW"] = "5", "10"

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import gevent  # noqa: E402
from loadkit import Stores, make_contest  # noqa: E402
from sqlalchemy import select  # noqa: E402

from contest.play import papers  # noqa: E402

count = int(sys.argv[1])
stores = Stores(None, None)
app = stores.open()
try:
    played = make_contest(app, units=3)
    app.extensions["jd.db"].engine.pool._timeout = 3  # fail in seconds, not after 30
    client = app.test_client()
    sheets = []
    for i in range(count):
        where = {"REMOTE_ADDR": f"127.0.{i}.1"}
        token = client.post(f"/api/v1/contests/{played.contest_id}/entrants", environ_base=where,
                            json={"name": f"职工{i}", "phone": f"1390000{i:04d}", "unit_id": played.unit_ids[0]},
                            ).get_json()["token"]
        paper = client.post(f"/api/v1/contests/{played.contest_id}/attempts", environ_base=where,
                            headers={"Authorization": f"Bearer {token}"}).get_json()
        sheets.append((token, paper, where))

    cached = papers.BANKS.questions

    def reading_questions(session, bank_id):
        session.execute(select(1)).all()  # this request now holds a pooled connection
        return cached(session, bank_id)

    papers.BANKS.questions = reading_questions

    def answer(i: int) -> int:
        token, paper, where = sheets[i]
        question = next(q for q in paper["questions"] if q["type"] == "judge")
        return client.put(f"/api/v1/attempts/{paper['attempt_id']}/answers/{question['id']}", environ_base=where,
                          json={"answer": True}, headers={"Authorization": f"Bearer {token}"}).status_code

    jobs = [gevent.spawn(answer, i) for i in range(count)]
    gevent.joinall(jobs, timeout=60)
    print(" ".join(str(job.value) for job in jobs))
finally:
    stores.close()
