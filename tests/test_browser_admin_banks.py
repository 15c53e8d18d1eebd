"""In a real browser: the organizer downloads the template, fills in questions, uploads, previews, confirms."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.admin_support import PASSWORD, make_admin
from tests.browser_support import browser_page, chromium, live_server  # noqa: F401
from tests.play_support import make_bank, make_contest, make_units, play_full_attempt

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("JD_SCREENSHOTS")  # a folder to keep screenshots in, when looking at the pages


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_organizer_imports_a_bank_from_the_template(app, live_server, browser_page, tmp_path):  # noqa: F811
    make_admin(app)
    page = browser_page
    _sign_in(page, live_server)
    page.goto(f"{live_server}/admin/banks")
    with page.expect_download() as download_info:
        page.click("a[href$='/admin/banks/template']")
    template = tmp_path / "题库导入模板.xlsx"
    download_info.value.save_as(template)

    workbook = load_workbook(template)
    sheet = workbook["题库"]
    sheet.append(["单选", "中国共产党第一次全国代表大会在哪一年召开？", "A. 1919年", "B. 1921年", "C. 1927年",
                  "D. 1949年", None, None, None, None, "B", "1921年7月23日在上海开幕。", 2, "易", "党史"])
    sheet.append(["判断", "遵义会议在1935年召开。", None, None, None, None, None, None, None, None, "√"])
    sheet.append(["多选", "下列属于中国革命“三大法宝”的有", "统一战线", "武装斗争", "党的建设", "土地革命", None, None,
                  None, None, "Z"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (tmp_path / "filled.xlsx").write_bytes(buffer.getvalue())

    page.fill("input[name=name]", "我的党史题库")
    page.set_input_files("input[type=file]", str(tmp_path / "filled.xlsx"))
    page.click("form[action$='/admin/banks/upload'] button[type=submit]")
    page.wait_for_url("**/admin/banks/preview/**")
    assert "第5行：答案「Z」无法识别" in page.content()
    _shot(page, "bank_preview_faults.png")

    sheet.delete_rows(5)
    sheet.append(["多选", "下列属于中国革命“三大法宝”的有", "统一战线", "武装斗争", "党的建设", "土地革命", None, None,
                  None, None, "ABC"])
    workbook.save(tmp_path / "fixed.xlsx")
    page.goto(f"{live_server}/admin/banks")
    page.fill("input[name=name]", "我的党史题库")
    page.set_input_files("input[type=file]", str(tmp_path / "fixed.xlsx"))
    page.click("form[action$='/admin/banks/upload'] button[type=submit]")
    page.wait_for_url("**/admin/banks/preview/**")
    assert "检查通过：3 道题都可以导入" in page.content()
    _shot(page, "bank_preview_ok.png")
    page.click("form[action$='/confirm'] button[type=submit]")
    page.wait_for_url("**/admin/banks")
    assert "已将 3 道题导入题库「我的党史题库」" in page.content()
    _shot(page, "bank_list.png")


def test_organizer_corrects_a_key_and_the_ranking_follows(app, rt, live_server, browser_page):  # noqa: F811
    bank = make_bank(rt.session, singles=3, multiples=0, judges=0, fills=0)
    unit = make_units(rt.session, 1)[0]
    contest = make_contest(rt, bank, paper="single=3")
    with httpx.Client(base_url=live_server, timeout=10) as http:
        assert play_full_attempt(http, rt.session, contest.id, unit.id, "周九", "13200000000")["score"] == 3
    first = min(q.id for q in bank.questions)
    make_admin(app)
    page = browser_page
    _sign_in(page, live_server)
    page.goto(f"{live_server}/admin/banks/{bank.id}")
    page.click(f"a[href$='/admin/questions/{first}/correct']")
    assert page.locator(".impact-answered").inner_text() == "1"

    page.fill("input[name=answer]", "E")
    page.click(".correct-form button[type=submit]")
    assert page.locator(".notice-error").inner_text() == "答案中的 E 没有对应的选项"
    page.fill("input[name=answer]", "C")
    page.click(".correct-form button[type=submit]")
    assert "答案已由 B 更正为 C：重新评分 1 个作答，1 份答卷分数改变" in page.locator(".notice-success").inner_text()
    assert page.locator("td[data-label=新答案]").inner_text() == "C"
    _shot(page, "question_correct.png")
    board = httpx.get(f"{live_server}/api/v1/contests/{contest.id}/leaderboard").json()
    assert [(entry["name"], entry["score"]) for entry in board["entries"]] == [("周*", 2.0)]
    page.goto(f"{live_server}/admin/contests/{contest.id}/questions")
    assert page.locator(".questions-review tbody tr").count() == 3
    _shot(page, "contest_questions.png")


def test_organizer_mends_a_typo_and_downloads_the_bank(app, rt, live_server, browser_page):  # noqa: F811
    bank = make_bank(rt.session, singles=2, multiples=0, judges=0, fills=0)
    first = min(q.id for q in bank.questions)
    make_admin(app)
    page = browser_page
    _sign_in(page, live_server)
    page.goto(f"{live_server}/admin/banks/{bank.id}")
    page.click(f"a[href$='/admin/questions/{first}/edit']")

    page.fill("input[name=option_B]", "")
    page.fill("textarea[name=stem]", "中国共产党第一次全国代表大会在哪里召开？")
    page.evaluate("document.querySelector('input[name=option_B]').removeAttribute('required')")
    page.click(".question-edit-form button[type=submit]")
    assert "选项 B 不能为空" in page.locator(".notice-error").inner_text()
    assert page.input_value("textarea[name=stem]") == "中国共产党第一次全国代表大会在哪里召开？"  # kept to mend
    page.fill("input[name=option_B]", "上海")
    page.click(".question-edit-form button[type=submit]")
    assert "已保存：题目、选项。" in page.locator(".notice-success").inner_text()
    assert "上海" in page.locator(".edit-history ins").last.inner_text()
    _shot(page, "question_edit.png")

    page.goto(f"{live_server}/admin/banks/{bank.id}")
    assert "中国共产党第一次全国代表大会在哪里召开？" in page.locator(".questions-table").inner_text()
    _shot(page, "bank_detail.png")
    with page.expect_download() as download:
        page.click("a[href$='/export.xlsx']")
    assert download.value.suggested_filename == "题库-测试题库.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["题库"]
    stems = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert stems == ["中国共产党第一次全国代表大会在哪里召开？", "单选题1"]

    # Imported by mistake: deleted after the browser's own confirmation.
    page.goto(f"{live_server}/admin/banks/{bank.id}")
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.click(".bank-actions button.danger")
    assert messages == ["确定删除题库「测试题库」及其全部 2 道题吗？此操作无法恢复。"]
    assert "已删除题库「测试题库」及其全部题目。" in page.locator(".notice-success").inner_text()
    assert page.url.endswith("/admin/banks")
