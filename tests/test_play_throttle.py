"""Worker rate limits: per entrant and per address, with a Chinese 429."""

from __future__ import annotations

import pytest

from contest.play.throttle import Allowance
from tests.play_support import make_bank, make_contest, make_units


@pytest.fixture
def tight(app):
    app.config["WORKER_ALLOWANCES"] = {
        "entry": (Allowance(5, 600), Allowance(2, 600)),
        "attempt": (Allowance(100, 600), Allowance(100, 600)),
        "answer": (Allowance(100, 600), Allowance(3, 600)),
    }
    yield
    app.config.pop("WORKER_ALLOWANCES")


def test_entry_is_limited_per_phone_and_per_address(client, rt, tight):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    url = f"/api/v1/contests/{contest.id}/entrants"
    body = {"name": "郑一", "phone": "13900000000", "unit_id": unit.id}
    assert [client.post(url, json=body).status_code for _ in range(3)] == [201, 201, 429]
    assert client.post(url, json=body).get_json()["message"] == "操作过于频繁，请稍后再试。"
    # Other phones from the same address go on until the address allowance (5 tries) is used.
    codes = [client.post(url, json={**body, "phone": f"1390000001{i}"}).status_code for i in range(3)]
    assert codes == [201, 429, 429]
    # Another address is not affected.
    other = client.post(url, json={**body, "phone": "13900000099"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201


def test_answers_are_limited_per_entrant(client, rt, tight):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "郑一", "phone": "13900000000", "unit_id": unit.id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    judge = next(q for q in attempt["questions"] if q["type"] == "judge")
    url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{judge['id']}"
    codes = [client.put(url, headers=headers, json={"answer": True}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # The monitor counts the answers taken, not the refused one.
    assert rt.state.boards.stats(contest.id)["answers"] == 3
    assert sum(rt.state.boards.per_minute(contest.id).values()) == 3
