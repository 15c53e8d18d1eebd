"""Work handed to a child process under gevent comes back as if it had run in the server."""

from __future__ import annotations

import pytest

from contest import offload
from contest.banks import BankFileError, read_bank
from contest.play.roster import RosterRefused, RosterRow, rows_from_file
from tests.bank_files import one_sheet

FAULTY = [["单选", "一大在哪一年召开？", "1919", "1921", "", "", "B", "", "", "党史"],
          ["单选", "没有答案的题", "甲", "乙", "", "", "", "", "", ""]]


@pytest.fixture
def in_children(monkeypatch):
    """offload.call as under gevent: the function runs in a fresh interpreter."""
    monkeypatch.setattr(offload, "cooperative", lambda: True)


def test_a_bank_read_in_a_child_is_the_one_read_here(in_children):
    data = one_sheet(FAULTY)
    child, here = offload.call("contest.banks.reader", "read_bank", data, "题库.xlsx"), read_bank(data, "题库.xlsx")
    assert [q.canonical() for q in child.questions] == [q.canonical() for q in here.questions]
    assert [str(f) for f in child.faults] == [str(f) for f in here.faults] == ["第3行：答案为空"]
    with pytest.raises(BankFileError) as refused:
        offload.call("contest.banks.reader", "read_bank", b"%PDF-1.4", "bank.pdf")
    assert "不支持的文件类型" in refused.value.message


def test_a_roster_and_its_refusal_come_back_whole(in_children):
    good = "姓名,手机号,单位\n张三,１３８００００００01,测试单位\n".encode()
    assert offload.call("contest.play.roster", "rows_from_file", good, "名单.csv", {"测试单位": 7}) == [
        RosterRow("张三", "13800000001", 7)]
    with pytest.raises(RosterRefused) as refused:
        offload.call("contest.play.roster", "rows_from_file", "姓名,手机号\n张三,123\n".encode(), "名单.csv", {})
    here = pytest.raises(RosterRefused, rows_from_file, "姓名,手机号\n张三,123\n".encode(), "名单.csv", {})
    assert refused.value.lines == here.value.lines == ["第2行：手机号「123」应为以 1 开头的 11 位数字"]
    assert (refused.value.message, refused.value.field) == (here.value.message, "roster")


def test_what_fails_in_a_child_fails_here(in_children):
    with pytest.raises(AttributeError, match="no_such_function"):  # raised there, raised here
        offload.call("contest.play.roster", "no_such_function")
    with pytest.raises(RuntimeError, match="failed in a child process"):  # the child died with nothing to say
        offload.call("os", "_exit", 3)
