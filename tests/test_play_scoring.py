"""Scoring rules, option shuffling maps, name masking and the two ranking modes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contest.errors import BadInput
from contest.play import ranking, scoring


@pytest.mark.parametrize(
    "qtype, key, answer, partial, expected",
    [
        ("single", ["B"], ["B"], False, (True, 2.0)),
        ("single", ["B"], ["A"], False, (False, 0.0)),
        ("multiple", ["A", "C"], ["A", "C"], False, (True, 2.0)),
        ("multiple", ["A", "C"], ["A"], False, (False, 0.0)),
        ("multiple", ["A", "C"], ["A"], True, (False, 1.0)),       # half credit for a correct subset
        ("multiple", ["A", "C"], ["A", "B"], True, (False, 0.0)),  # a wrong pick earns nothing
        ("judge", True, True, False, (True, 2.0)),
        ("judge", True, False, False, (False, 0.0)),
        ("fill", ["上海", "上海市"], " 上海市 ", False, (True, 2.0)),
        ("fill", ["CPC"], "ｃｐｃ", False, (True, 2.0)),            # width and case do not matter
        ("fill", ["上海"], "北京", False, (False, 0.0)),
        ("single", ["B"], None, False, (False, 0.0)),
    ],
)
def test_mark(qtype, key, answer, partial, expected):
    assert scoring.mark(qtype, key, answer, 2.0, partial) == expected


def test_shuffled_letters_map_both_ways():
    perm = [2, 0, 3, 1]  # shown A is bank C, shown B is bank A, ...
    assert scoring.to_bank_letters(["A", "D"], perm) == ["B", "C"]
    assert scoring.to_shown_letters(["B", "C"], perm) == ["A", "D"]


@pytest.mark.parametrize("qtype, answer", [("single", ["E"]), ("multiple", []), ("judge", 1), ("fill", "x" * 201)])
def test_check_shape_refuses(qtype, answer):
    with pytest.raises(BadInput) as error:
        scoring.check_shape(qtype, 4, answer)
    assert error.value.field == "answer"


def test_check_shape_normalises_letters():
    assert scoring.check_shape("multiple", 4, ["c", "A", "C"]) == ["A", "C"]


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳娜娜", "欧阳**"), ("李", "*"), ("王小明", "王**"),
                                          ("欧阳", "欧*")])
def test_mask_name(name, masked):
    assert ranking.mask_name(name) == masked


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    # Contest days are Beijing days: 16:00 UTC is already the next day in Beijing.
    return datetime(2026, 7, day, hour, minute, tzinfo=UTC)


def test_best_mode_takes_the_best_attempt_then_duration_then_finish():
    attempts = [
        (1, 80.0, 90_000, _at(1, 2), 1, "2026-07-01"), (1, 90.0, 120_000, _at(1, 3), 2, "2026-07-01"),
        (2, 90.0, 100_000, _at(1, 4), 3, "2026-07-01"),
        (3, 90.0, 100_000, _at(1, 5), 4, "2026-07-01"),
    ]
    standings = ranking.standings_from_attempts("best", {1: 10, 2: 10, 3: 11}, attempts)
    ordered = sorted(standings, key=lambda s: s.member())
    assert [(s.entrant_id, s.score, s.duration_ms) for s in ordered] == [
        (2, 90.0, 100_000), (3, 90.0, 100_000), (1, 90.0, 120_000)]
    assert {s.entrant_id: s.version for s in standings} == {1: 2, 2: 1, 3: 1}


def test_daily_sum_adds_each_days_best_by_the_day_it_was_started():
    attempts = [
        (1, 60.0, 50_000, _at(1, 2), 1, "2026-07-01"), (1, 80.0, 70_000, _at(1, 3), 2, "2026-07-01"),  # best 80
        (1, 70.0, 40_000, _at(1, 17), 3, "2026-07-02"),                     # 7-02 in Beijing (01:00)
        (2, 100.0, 10_000, _at(1, 2), 4, "2026-07-01"),
        # Started at 23:59 on 7-01 (its allowance's day), finished at 00:03 on 7-02, and another on 7-02:
        (3, 8.0, 240_000, _at(1, 16, 3), 5, "2026-07-01"), (3, 8.0, 60_000, _at(2, 2), 6, "2026-07-02"),
    ]
    standings = {s.entrant_id: s for s in ranking.standings_from_attempts("daily_sum", {1: 1, 2: 1, 3: 1}, attempts)}
    assert standings[1].score == 150.0 and standings[1].duration_ms == 110_000
    assert standings[2].score == 100.0
    assert standings[3].score == 16.0  # each day's own; by the finishing day it was 8
    assert standings[1].member() < standings[2].member()


def test_member_order_survives_large_and_fractional_scores():
    from contest.state import Standing

    a = Standing(1, 1, 99.5, 1000, 5, 1)
    b = Standing(2, 1, 100.0, 999_999, 9, 1)
    c = Standing(3, 1, 99.5, 1000, 4, 1)
    assert sorted([a, b, c], key=lambda s: s.member()) == [b, c, a]
