"""In a real browser: the organizer downloads the template, fills in questions, uploads, previews, confirms."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook

from tests.admin_support import PASSWORD, make_admin
from tests.browser_support import browser_page, chromium, live_server  # noqa: F401

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("JD_SCREENSHOTS")  # a folder to keep screenshots in, when looking at the pages


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_organizer_imports_a_bank_from_the_template(app, live_server, browser_page, tmp_path):  # noqa: F811
    make_admin(app)
    page = browser_page
    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/admin/banks")
    with page.expect_download() as download_info:
        page.click("a[href$='/admin/banks/template']")
    template = tmp_path / "题库导入模板.xlsx"
    download_info.value.save_as(template)

    workbook = load_workbook(template)
    sheet = workbook["题库"]
    sheet.append(["单选", "中国共产党第一次全国代表大会在哪一年召开？", "A. 1919年", "B. 1921年", "C. 1927年",
                  "D. 1949年", None, None, "B", "1921年7月23日在上海开幕。", 2, "易", "党史"])
    sheet.append(["判断", "遵义会议在1935年召开。", None, None, None, None, None, None, "√"])
    sheet.append(["多选", "下列属于中国革命“三大法宝”的有", "统一战线", "武装斗争", "党的建设", "土地革命", None, None,
                  "Z"])
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
    sheet.append(["多选", "下列属于中国革命“三大法宝”的有", "统一战线", "武装斗争", "党的建设", "土地革命", None, None, "ABC"])
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
