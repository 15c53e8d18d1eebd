"""Editing a question's text (编辑题目) and downloading a bank as it stands (下载题库)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.banks import edits, read_bank
from contest.errors import BadInput, Conflict
from contest.models import Question, QuestionEdit
from contest.play import corrections
from tests.admin_support import csrf_from, make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units


def _fresh(rt, qid: int) -> Question:
    return rt.session.get(Question, qid, populate_existing=True)


def _edits(rt) -> int:
    return rt.session.scalar(select(func.count()).select_from(QuestionEdit))


@pytest.fixture
def bank(rt):
    return make_bank(rt.session, singles=2, multiples=0, judges=1, fills=0)


def _first_single(bank) -> Question:
    return min((q for q in bank.questions if q.type == "single"), key=lambda q: q.id)


def test_an_organizer_mends_a_typo_and_the_next_paper_shows_it(app, rt, client, bank):
    question = _first_single(bank)
    contest = make_contest(rt, bank, paper="single=2")
    unit = make_units(rt.session, 1)[0]
    make_admin(app)
    sign_in(client)
    path = f"/admin/questions/{question.id}/edit"
    assert path in client.get(f"/admin/banks/{bank.id}").get_data(as_text=True)
    page = client.get(path).get_data(as_text=True)
    assert "单选题0" in page and 'name="option_D"' in page and "没有修改过" in page

    token = csrf_from(client, path)
    done = client.post(path, data={"csrf_token": token, "stem": "  中国共产党成立于哪一年？\r\n", "option_A": "甲",
                                   "option_B": "B. 一九二一年", "option_C": "丙", "option_D": "丁",
                                   "explanation": "1921 年 7 月", "category": "党史", "difficulty": "易"},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "已保存：题目、选项、解析、难度。" in page
    assert "<del>单选题0</del> → <ins>中国共产党成立于哪一年？</ins>" in page and "B. <del>乙</del> → <ins>一九二一年</ins>" in page
    stored = _fresh(rt, question.id)
    assert (stored.stem, stored.options, stored.explanation, stored.difficulty) == (
        "中国共产党成立于哪一年？", ["甲", "一九二一年", "丙", "丁"], "1921 年 7 月", "易")
    assert stored.answer == ["B"] and stored.score == 1  # the key and score stay
    record = rt.session.scalars(select(QuestionEdit)).one()
    assert record.changes["stem"] == ["单选题0", "中国共产党成立于哪一年？"] and "category" not in record.changes

    # A worker's next paper carries the new text (this process forgot its copy of the bank).
    token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "赵一", "phone": "13800000001", "unit_id": unit.id}).get_json()["token"]
    paper = client.post(f"/api/v1/contests/{contest.id}/attempts",
                        headers={"Authorization": f"Bearer {token}"}).get_json()
    shown = next(q for q in paper["questions"] if q["id"] == question.id)
    assert shown["stem"] == "中国共产党成立于哪一年？" and "一九二一年" in shown["options"]

    again = client.post(path, data={"csrf_token": csrf_from(client, path), "stem": "中国共产党成立于哪一年？"},
                        follow_redirects=True)
    assert "没有修改任何内容" in again.get_data(as_text=True) and _edits(rt) == 1


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"stem": "  "}, "stem", "题目不能为空。"),
    ({"option_C": ""}, "option_C", "选项 C 不能为空（选项个数不能改变"),
    ({"option_A": "长" * 501}, "option_A", "选项 A 超过 500 字（现有 501 字）。"),
    ({"explanation": "解" * 5001}, "explanation", "解析超过 5000 字（现有 5001 字）。"),
    ({"category": "类" * 101}, "category", "分类超过 100 字"),
])
def test_bad_text_is_refused_by_field_and_nothing_changes(app, rt, client, bank, form, field, message):
    question = _first_single(bank)
    with pytest.raises(BadInput) as refused:
        edits.edit_question(rt.session, question.id, {"stem": "改过的题目", **form}, admin_id=None)
    rt.session.rollback()
    assert refused.value.field == field and message in refused.value.message
    assert _fresh(rt, question.id).stem == "单选题0" and _edits(rt) == 0

    make_admin(app)
    sign_in(client)
    path = f"/admin/questions/{question.id}/edit"
    response = client.post(path, data={"csrf_token": csrf_from(client, path), "stem": "改过的题目", **form})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and f'data-field="{field}"' in page
    if field != "stem":
        assert "改过的题目" in page  # the organizer's own text stays in the form to mend
    assert _fresh(rt, question.id).stem == "单选题0" and _edits(rt) == 0


def test_a_stem_already_in_the_bank_is_refused(rt, bank):
    first, second = sorted((q for q in bank.questions if q.type == "single"), key=lambda q: q.id)
    edits.edit_question(rt.session, second.id, {"stem": "工会法是哪一年通过的？"}, admin_id=None)
    with pytest.raises(Conflict) as refused:  # the same stem up to spaces, width and punctuation
        edits.edit_question(rt.session, first.id, {"stem": "工会法是哪一年通过的 ?"}, admin_id=None)
    rt.session.rollback()
    assert refused.value.status == 409 and f"题目编号 {second.id}" in refused.value.message
    assert _fresh(rt, first.id).stem == "单选题0" and _edits(rt) == 1


def test_a_judge_question_has_no_options_to_edit(rt, bank):
    judge = next(q for q in bank.questions if q.type == "judge")
    done = edits.edit_question(rt.session, judge.id, {"stem": "工会是职工自愿结合的群众组织。", "option_A": "x"},
                               admin_id=None)
    assert done.record.changes == {"stem": ["判断题0", "工会是职工自愿结合的群众组织。"]}
    assert _fresh(rt, judge.id).options == []


def test_staff_may_not_edit(app, rt, client, bank):
    question = _first_single(bank)
    make_admin(app, "viewer", role="staff")
    sign_in(client, "viewer")
    path = f"/admin/questions/{question.id}/edit"
    assert path not in client.get(f"/admin/banks/{bank.id}").get_data(as_text=True)
    assert client.get(path).status_code == 403
    token = csrf_from(client, "/admin/password")
    assert client.post(path, data={"csrf_token": token, "stem": "改"}).status_code == 403
    assert _fresh(rt, question.id).stem == "单选题0"
    assert f"/admin/banks/{bank.id}/delete" not in client.get(f"/admin/banks/{bank.id}").get_data(as_text=True)
    assert client.post(f"/admin/banks/{bank.id}/delete", data={"csrf_token": token}).status_code == 403
    assert _fresh(rt, question.id) is not None


def test_the_downloaded_bank_reads_back_as_it_stands(app, rt, client, bank):
    """Corrections and edits included, in the template's columns: importing it gives the same bank."""
    question = _first_single(bank)
    corrections.correct_key(rt, question.id, "C")
    edits.edit_question(rt.session, question.id, {"stem": "=HYPERLINK(\"http://x\")是公式吗？"}, admin_id=None)
    assert client.get(f"/admin/banks/{bank.id}/export.xlsx").status_code in (302, 401)  # signed in only
    make_admin(app, "viewer", role="staff")  # staff may read banks
    sign_in(client, "viewer")
    assert f"/admin/banks/{bank.id}/export.xlsx" in client.get(f"/admin/banks/{bank.id}").get_data(as_text=True)
    response = client.get(f"/admin/banks/{bank.id}/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]

    read = read_bank(response.data, "bank.xlsx")
    assert not read.faults
    stored = sorted(rt.session.scalars(select(Question).where(Question.bank_id == bank.id)), key=lambda q: q.id)
    assert [(q.type, q.stem, q.options, q.answer, q.explanation, q.score, q.category) for q in read.questions] == [
        (q.type, q.stem, q.options, q.answer, q.explanation, q.score, q.category) for q in stored]
    assert read.questions[0].answer == ["C"]
    sheet = load_workbook(io.BytesIO(response.data))["题库"]
    stem_cell = next(row[1] for row in sheet.iter_rows() if str(row[1].value).startswith("=HYPERLINK"))
    assert stem_cell.data_type == "s"  # text, never a formula
    assert client.get("/admin/banks/999999/export.xlsx").status_code == 404


def test_a_bank_nothing_uses_can_be_deleted_one_in_use_cannot(app, rt, client):
    from contest.models import Bank, KeyCorrection

    used = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0, name="在用题库")
    make_contest(rt, used, paper="single=2")
    spare = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0, name="导错的题库")
    spare_id, spare_question = spare.id, _first_single(spare).id
    corrections.correct_key(rt, spare_question, "C")
    edits.edit_question(rt.session, spare_question, {"stem": "改过"}, admin_id=None)
    make_admin(app)
    sign_in(client)

    page = client.get(f"/admin/banks/{used.id}").get_data(as_text=True)
    assert "竞赛「党史知识竞赛」使用这个题库，不能删除。" in page and f"/admin/banks/{used.id}/delete" not in page
    token = csrf_from(client, f"/admin/banks/{used.id}")
    refused = client.post(f"/admin/banks/{used.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 409 and "题库「在用题库」不能删除：竞赛「党史知识竞赛」仍在使用它" in refused.get_data(as_text=True)
    assert rt.session.get(Bank, used.id, populate_existing=True) is not None

    assert f"/admin/banks/{spare_id}/delete" in client.get(f"/admin/banks/{spare_id}").get_data(as_text=True)
    done = client.post(f"/admin/banks/{spare_id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "已删除题库「导错的题库」及其全部题目。" in done.get_data(as_text=True)
    rt.session.expire_all()
    assert rt.session.get(Bank, spare_id) is None
    assert rt.session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == spare_id)) == 0
    assert rt.session.scalar(select(func.count()).select_from(KeyCorrection)) == 0 and _edits(rt) == 0
    assert client.post(f"/admin/banks/{spare_id}/delete", data={"csrf_token": token}).status_code == 404


def test_a_bank_with_answers_stays_after_its_contest_moved_to_another(app, rt, client):
    from contest.banks import delete_bank
    from contest.models import Answer, Attempt, Bank, Entrant

    bank = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0, name="旧题库")
    other = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0, name="新题库")
    contest = make_contest(rt, bank, paper="single=2")
    unit = make_units(rt.session, 1)[0]
    token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "赵一", "phone": "13800000001", "unit_id": unit.id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    paper = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    shown = paper["questions"][0]
    client.put(f"/api/v1/attempts/{paper['attempt_id']}/answers/{shown['id']}", headers=headers, json={"answer": ["A"]})
    contest.bank_id = other.id
    rt.session.commit()
    with pytest.raises(Conflict) as refused:
        delete_bank(rt.session, bank.id)
    assert "竞赛作答记录" in refused.value.message
    rt.session.rollback()
    assert rt.session.get(Bank, bank.id) is not None and rt.session.scalar(select(func.count()).select_from(Answer)) == 1
    assert rt.session.scalar(select(func.count()).select_from(Attempt)) == 1 and rt.session.scalar(
        select(func.count()).select_from(Entrant)) == 1


def test_a_bank_taken_up_between_the_check_and_the_delete_stays(rt, monkeypatch):
    """The race: a contest is set on the bank after bank_users() looked; the foreign key keeps it."""
    from contest.banks import store
    from contest.models import Bank

    bank = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0, name="刚被选用的题库")
    make_contest(rt, bank, paper="single=2")
    monkeypatch.setattr(store, "bank_users", lambda session, bank_id: [])  # the check ran before the contest
    with pytest.raises(Conflict) as refused:
        store.delete_bank(rt.session, bank.id)
    assert refused.value.code == "bank_in_use" and "刚刚开始被使用" in refused.value.message
    rt.session.expire_all()
    assert rt.session.get(Bank, bank.id) is not None
    assert rt.session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == bank.id)) == 2
