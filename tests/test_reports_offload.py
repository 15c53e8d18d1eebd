"""Under gevent the workbook is written by a child process, so the server's other requests go on."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from contest.errors import ContestError
from contest.models import ExportLog
from contest.reports import offload
from tests.admin_support import make_admin, signed_in_on_gevent
from tests.play_support import make_bank, make_contest, make_units
from tests.reports_support import add_attempt, add_entrant, export_bytes, read_frames


def _contest(rt):
    contest = make_contest(rt, make_bank(rt.session))
    contest.awards = {"tiers": [{"name": "一等奖", "top": 1}, {"name": "优胜奖", "min_score": 1, "draw": 1,
                                                               "seed": "s"}]}
    units = make_units(rt.session, 2)
    for number in range(4):
        entrant = add_entrant(rt.session, contest, units[number % 2], name=f"职工{number}")
        add_attempt(rt.session, contest, entrant, 5 + number, 60, rt.clock.now() - timedelta(minutes=number))
    rt.session.commit()
    return contest


def test_the_child_writes_what_the_server_would(app, rt, stores, tmp_path):
    contest = _contest(rt)
    path = tmp_path / "child.xlsx"
    offload.export_in_child(stores["database_url"], "contest", contest.id, str(path), rt.clock.now())
    child, here = read_frames(path.read_bytes()), read_frames(export_bytes(rt, contest.id))
    assert list(child) == list(here)
    for name in child:
        if name != "汇总":  # only the export time may differ
            pd.testing.assert_frame_equal(child[name], here[name])
    with pytest.raises(ContestError) as fault:
        offload.export_in_child(stores["database_url"], "contest", 99999, str(tmp_path / "x.xlsx"), rt.clock.now())
    assert "竞赛不存在" in fault.value.message


def test_a_gevent_server_serves_the_download_and_logs_it(app, rt, stores, tmp_path):
    contest = _contest(rt)
    user = make_admin(app)
    with signed_in_on_gevent(stores, tmp_path) as (http, _token_of):
        response = http.get(f"/admin/contests/{contest.id}/export.xlsx")
    assert response.status_code == 200, response.text[:500]
    frames = pd.read_excel(io.BytesIO(response.content), sheet_name=None)
    assert frames["成绩排名"]["姓名"].tolist() == ["职工3", "职工2", "职工1", "职工0"]
    rt.session.expire_all()
    log = rt.session.scalar(select(ExportLog))
    assert (log.admin_id, log.contest_id, log.via) == (user.id, contest.id, "admin")
