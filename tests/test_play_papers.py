"""Drawing papers from a cached bank: its pools are found once, and every paper keeps the rules."""

from __future__ import annotations

import random

import pytest

from contest.errors import BadInput
from contest.play import papers
from contest.play.papers import BankCopy, BankQuestion, PaperRule
from tests.play_support import make_bank


def _bank(copy: bool) -> dict[int, BankQuestion]:
    made = {}
    for qid in range(1, 41):
        qtype, category = ("single", "党史") if qid <= 10 else ("single", "工会") if qid <= 25 else ("judge", "工会")
        options = ["甲", "乙", "丙", "丁"] if qtype == "single" else ["对", "错"]
        made[qid] = BankQuestion(qid, qtype, f"题{qid}", options, ["A"], "", 1.0, category)
    return BankCopy(made.items()) if copy else made


def test_overlapping_rules_never_draw_a_question_twice():
    bank = _bank(copy=True)
    rules = [PaperRule("single", 8, "党史"), PaperRule("single", 6), PaperRule("judge", 3)]
    rng = random.Random(7)
    for _ in range(200):
        paper = papers.draw(bank, rules, shuffle_questions=True, shuffle_options=True, rng=rng)
        qids = [item["qid"] for item in paper]
        assert len(qids) == len(set(qids)) == 17
        assert sum(1 for q in qids if bank[q].category == "党史") >= 8
        assert sum(1 for q in qids if bank[q].type == "judge") == 3
        assert all(sorted(item["perm"]) == list(range(len(bank[item["qid"]].options))) for item in paper)


def test_a_cached_bank_finds_each_pool_once_and_a_plain_dict_every_time():
    cached, plain = _bank(copy=True), _bank(copy=False)
    rule = PaperRule("single", 3, "工会")
    first = papers.pools(cached, rule)
    assert first == list(range(11, 26)) and papers.pools(cached, rule) is first
    assert papers.pools(plain, rule) == first and papers.pools(plain, rule) is not papers.pools(plain, rule)
    # Drawing leaves the remembered pool as it was.
    for _ in range(20):
        papers.draw(cached, [rule, PaperRule("single", 5)], True, True, random.Random())
    assert papers.pools(cached, rule) == list(range(11, 26))


def test_the_same_rules_draw_alike_from_a_cached_copy_and_a_plain_dict():
    rules = [PaperRule("single", 4, "党史"), PaperRule("single", 4), PaperRule("judge", 2)]
    from_copy = papers.draw(_bank(copy=True), rules, True, True, random.Random(2026))
    from_dict = papers.draw(_bank(copy=False), rules, True, True, random.Random(2026))
    assert from_copy == from_dict


def test_rules_the_bank_cannot_meet_are_refused_naming_the_type():
    with pytest.raises(BadInput, match="判断题"):
        papers.draw(_bank(copy=True), [PaperRule("judge", 16)], False, False, random.Random())


def test_the_process_cache_holds_a_bank_copy(rt):
    bank = make_bank(rt.session)
    papers.BANKS.forget(bank.id)
    loaded = papers.BANKS.questions(rt.session, bank.id)
    assert isinstance(loaded, BankCopy) and papers.BANKS.questions(rt.session, bank.id) is loaded
    papers.BANKS.forget(bank.id)  # a new copy after a change, with its pools found afresh
    again = papers.BANKS.questions(rt.session, bank.id)
    assert again is not loaded and again == loaded and again.pools == {}


def test_a_general_rule_leaves_a_category_rule_what_it_needs():
    # 25 single questions, 10 of them 党史: 15 singles of which 8 are 党史 can always be drawn, but
    # drawing the general rule first would often leave fewer than 8 of 党史.
    bank = _bank(copy=True)
    rules = [PaperRule("single", 7), PaperRule("single", 8, "党史")]
    rng = random.Random(11)
    for _ in range(300):
        paper = papers.draw(bank, rules, shuffle_questions=False, shuffle_options=False, rng=rng)
        qids = [item["qid"] for item in paper]
        assert len(set(qids)) == 15
        # The paper keeps the rules' order: the general rule's 7 first, then 党史's 8.
        assert all(bank[q].category == "党史" for q in qids[7:])


def test_rules_that_overlap_past_the_bank_are_refused_naming_the_total():
    bank = _bank(copy=True)  # 25 single questions, 10 of them 党史
    with pytest.raises(BadInput, match="单选题只有 25 道，组卷的几条规则合计需要 26 道"):
        papers.check_rules(bank, [PaperRule("single", 20), PaperRule("single", 6, "党史")])
    with pytest.raises(BadInput, match="单选题（分类：党史）只有 10 道，组卷的几条规则合计需要 11 道"):
        papers.check_rules(bank, [PaperRule("single", 6, "党史"), PaperRule("single", 5, "党史")])
    papers.check_rules(bank, [PaperRule("single", 15), PaperRule("single", 10, "党史")])  # exactly enough


def test_a_draw_from_a_large_pool_is_uniform_over_what_is_left():
    # The general rule samples past the questions a category rule took: every other question
    # stays as likely as the rest.
    bank = _bank(copy=True)
    rules = [PaperRule("single", 9, "党史"), PaperRule("single", 5)]
    rng = random.Random(5)
    seen = dict.fromkeys(range(1, 26), 0)
    for _ in range(3000):
        for item in papers.draw(bank, rules, False, False, rng)[9:]:
            seen[item["qid"]] += 1
    others = [seen[q] for q in range(11, 26)]  # 3000 × 5 picks over 16 left (15 工会 + 1 党史)
    assert all(800 < n < 1075 for n in others), others
    assert 800 < sum(seen[q] for q in range(1, 11)) < 1075  # the one 党史 question left each time


@pytest.mark.parametrize("rules", ["single=²", "single=" + "1" * 5000, "single=-3", "single=0"])
def test_a_count_that_is_no_plain_number_is_refused_naming_the_rule(rules):
    with pytest.raises(BadInput, match="组卷规则“single=") as refused:
        papers.parse_rules(rules)
    assert refused.value.field == "paper"
