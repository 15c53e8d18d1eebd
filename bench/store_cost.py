"""CPU time per answer written by the group commit (contest/group_commit.py), as the gevent server writes them.

Under the server, concurrent answers reach SQL in batches: one transaction for all that arrived
while the last one committed. This measures that writer alone, in one process under gevent,
with `--batch` answers handed in at once (one per open attempt), as process CPU time per
answer stored with its audit-log row. It moves only with the SQL side of the answer call, so an
A/B of a change to it is read here rather than in contest_load.py's flat-out rate, which varies
by a tenth from run to run on a shared machine. Run it on two checkouts in turn (a checkout
that shares another's .venv imports that one's `contest` unless PYTHONPATH names its own):

    .venv/bin/python bench/store_cost.py
    .venv/bin/python bench/store_cost.py --database-url postgresql://postgres@127.0.0.1:5432/bench_cost \\
        --redis-url redis://127.0.0.1:6379/7
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - after gevent patches the standard library, as `contest serve` does
import random  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from loadkit import Stores, machine, make_contest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--batch", type=int, default=50, help="answers handed in at once (open attempts)")
    parser.add_argument("--rounds", type=int, default=40, help="batches per pass (three passes)")
    args = parser.parse_args()

    from contest import clock, runtime
    from contest.models import Attempt
    from contest.play import answer_store

    stores = Stores(args.database_url, args.redis_url)
    app = stores.open()
    try:
        played = make_contest(app, units=5)
        client = app.test_client()
        papers = []
        for index in range(args.batch):
            body = {"name": "张三", "phone": f"137{index:08d}", "unit_id": played.unit_ids[0]}
            token = client.post(f"/api/v1/contests/{played.contest_id}/entrants", json=body).json["token"]
            reply = client.post(f"/api/v1/contests/{played.contest_id}/attempts",
                                headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code == 201, reply.json
            papers.append(reply.json)
        rng = random.Random(2026)
        with app.app_context():
            rt = runtime.current()
            owner = {paper["attempt_id"]: rt.session.get(Attempt, paper["attempt_id"]).entrant_id for paper in papers}
            rt.session.rollback()
            writer = answer_store.writer(rt.engine_apart())

            def answer(paper: dict) -> bool:
                question = rng.choice(paper["questions"])
                return writer.store({"aid": paper["attempt_id"], "qid": question["id"], "answer": [0],
                                     "now": clock.Clock().now(), "entrant": owner[paper["attempt_id"]],
                                     "contest": played.contest_id})

            passes = []
            for _ in range(3):
                started, stored = time.process_time(), 0
                for _ in range(args.rounds):
                    batch = [gevent.spawn(answer, paper) for paper in papers]
                    gevent.joinall(batch, raise_error=True)
                    stored += sum(1 for greenlet in batch if greenlet.value)
                assert stored == args.rounds * len(papers)
                passes.append((time.process_time() - started) / stored)
    finally:
        stores.close()
    print(machine())
    print(f"store_cost: {'PostgreSQL' if args.database_url else 'SQLite'}, batches of {args.batch}")
    print(f"answer stored with its log row: {min(passes) * 1e6:.0f} µs of CPU "
          f"(the best of 3 passes of {args.rounds * args.batch}; all: "
          + ", ".join(f"{p * 1e6:.0f}" for p in passes) + ")")


if __name__ == "__main__":
    main()
