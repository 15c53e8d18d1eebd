"""Prize tiers by lot (repeatable from the recorded seed) and the 优秀组织奖 rule."""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

import pytest

from contest.errors import BadInput
from contest.models import Contest
from contest.reports import awards
from tests.play_support import make_bank, make_contest, make_units
from tests.reports_support import add_attempt, add_entrant, export_bytes, read_frames


def _lottery_contest(rt, draw: dict):
    s = rt.session
    contest = make_contest(rt, make_bank(s))
    unit = make_units(s, 1)[0]
    ids = {}
    for i in range(12):
        entrant = add_entrant(s, contest, unit, name=f"选手{i:02d}")
        ids[entrant.name] = entrant.id
        add_attempt(s, contest, entrant, score=10 - i * 0.5, duration_s=60, finished_at=rt.clock.now())
    s.commit()
    awards.set_awards(s, contest, {"tiers": [{"name": "一等奖", "top": 2}, {"name": "优胜奖", **draw}]})
    return contest, ids


def test_lottery_is_repeatable_from_the_recorded_seed(rt):
    contest, ids = _lottery_contest(rt, {"min_score": 7, "draw": 3, "seed": "2026-七一"})
    first = read_frames(export_bytes(rt, contest.id))
    second = read_frames(export_bytes(rt, contest.id))
    winners = first["获奖名单"]
    lucky = winners[winners["奖项"] == "优胜奖"]["姓名"].tolist()
    assert lucky == second["获奖名单"][second["获奖名单"]["奖项"] == "优胜奖"]["姓名"].tolist()

    # Anyone can repeat it: SHA-256("seed:id"), the 3 smallest among 选手02..选手06 (score >= 7, not 一等奖).
    eligible = [f"选手{i:02d}" for i in range(2, 7)]
    tickets = {name: hashlib.sha256(f"2026-七一:{ids[name]}".encode()).hexdigest() for name in eligible}
    expected = sorted(sorted(eligible, key=tickets.get)[:3])
    assert sorted(lucky) == expected
    record = first["抽奖记录"]
    assert record["姓名"].tolist() == eligible  # the whole eligible list, in rank order
    assert record["种子"].unique().tolist() == ["2026-七一"]
    assert record["抽签值"].tolist() == [tickets[n] for n in eligible]
    assert sorted(record[record["是否中签"] == "中签"]["姓名"]) == expected
    summary = first["汇总"]["内容"].astype(str)
    assert summary.str.contains("SHA-256").any() and summary.str.contains("种子 2026-七一").any()


def test_a_draw_without_seed_gets_one_recorded(rt):
    contest, _ = _lottery_contest(rt, {"min_score": 7, "draw": 2})
    rt.session.expire_all()
    seed = rt.session.get(Contest, contest.id).awards["tiers"][1]["seed"]
    assert seed and len(seed) >= 8
    names = [read_frames(export_bytes(rt, contest.id))["获奖名单"]["姓名"].tolist() for _ in range(2)]
    assert names[0] == names[1] and len(names[0]) == 4


def test_everyone_wins_when_fewer_are_eligible_than_drawn(rt):
    contest, _ = _lottery_contest(rt, {"min_score": 8.5, "draw": 5})
    winners = read_frames(export_bytes(rt, contest.id))["获奖名单"]
    # 选手02 (9) and 选手03 (8.5) are the only ones left at or above 8.5; 选手04 has 8.
    assert winners["姓名"].tolist() == ["选手00", "选手01", "选手02", "选手03"]


def _org_contest(rt, org: dict):
    """Units of 10, 20, 30, 40 staff with 3, 4, 6, 1 participants and different scores and activity."""
    s = rt.session
    contest = make_contest(rt, make_bank(s))
    units = make_units(s, 4)
    plan = {0: [(8, 1)] * 3, 1: [(9, 2)] * 4, 2: [(6, 3)] * 6, 3: [(10, 1)]}
    for index, people in plan.items():
        for number, (score, tries) in enumerate(people):
            entrant = add_entrant(s, contest, units[index], name=f"单位{index}的人{number}")
            for t in range(tries):
                add_attempt(s, contest, entrant, score - t, 60, rt.clock.now() - timedelta(minutes=t))
    awards.set_awards(s, contest, {"org_award": org})
    return contest


def test_org_award_by_participation_among_units_with_enough_people(rt):
    contest = _org_contest(rt, {"min_participants": 2, "top": 2})
    org = read_frames(export_bytes(rt, contest.id))["优秀组织奖"]
    # Rates: 0.3, 0.2, 0.2, (0.025 has 1 participant: not eligible); 0.2 vs 0.2 broken by 平均最高分.
    assert org["单位名称"].tolist() == ["测试单位0", "测试单位1", "测试单位2"]
    assert org["评定结果"].fillna("").tolist() == ["优秀组织奖", "优秀组织奖", ""]
    assert "综合得分" not in org.columns


def test_org_award_by_share_and_weights_shows_each_part(rt):
    weights = {"coverage": 0.2, "scores": 0.4, "activity": 0.4}
    contest = _org_contest(rt, {"min_participants": 1, "top_share": 0.5, "weights": weights})
    org = read_frames(export_bytes(rt, contest.id))["优秀组织奖"]
    assert len(org) == 4 and (org["评定结果"] == "优秀组织奖").sum() == 2
    rate = org["参与人数"] / org["职工人数"]
    scores = org["平均最高分"] / org["平均最高分"].max()
    activity = org["人均答题次数"] / org["人均答题次数"].max()
    assert org["参与率得分"].tolist() == pytest.approx(rate.tolist())
    assert org["成绩得分"].tolist() == pytest.approx(scores.tolist())
    composite = (0.2 * rate + 0.4 * scores + 0.4 * activity).tolist()
    assert org["综合得分"].tolist() == pytest.approx(composite)
    assert composite == sorted(composite, reverse=True)
    assert org["单位名称"].iloc[0] == "测试单位2"  # most active, though its scores are lowest


@pytest.mark.parametrize("raw, field", [
    ({"tiers": [{"name": "", "top": 1}]}, "tiers"),
    ({"tiers": [{"name": "一等奖", "top": 0}]}, "tiers"),
    ({"tiers": [{"name": "一等奖", "top": 1, "draw": 2}]}, "tiers"),
    ({"tiers": [{"name": "一等奖"}]}, "tiers"),
    ({"tiers": [{"name": "奖", "top": 1}, {"name": "奖", "top": 2}]}, "tiers"),
    ({"tiers": [{"name": "奖", "min_score": "八十"}]}, "tiers"),
    ({"org_award": {"min_participants": 5}}, "org_top"),
    ({"org_award": {"min_participants": 5, "top": 3, "top_share": 0.1}}, "org_top"),
    ({"org_award": {"min_participants": 5, "top_share": 1.5}}, "org_top_share"),
    ({"org_award": {"min_participants": 5, "top": 3, "weights": {"speed": 1}}}, "org_weights"),
    ({"org_award": {"min_participants": 5, "top": 3, "weights": {"coverage": 0}}}, "org_weights"),
])
def test_bad_rules_are_refused_in_chinese_naming_the_field(raw, field):
    with pytest.raises(BadInput) as fault:
        awards.parse_rules(raw)
    assert fault.value.field == field and any("\u4e00" <= ch <= "\u9fff" for ch in fault.value.message)


def test_share_rounds_up():
    rule = awards.OrgRule(min_participants=1, top_share=0.1)
    assert [rule.count(n) for n in (0, 1, 10, 11, 25)] == [0, 1, 1, 2, 3]
    assert rule.count(10) == math.ceil(10 * 0.1)
