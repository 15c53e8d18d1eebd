"""Admin bank pages: template download, upload → preview with faults marked → confirm, the list."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import func, select

from contest.banks import read_bank, read_once
from contest.models import Bank, Question
from tests.admin_support import csrf_from, make_admin, sign_in, signed_in_on_gevent
from tests.bank_files import one_sheet

GOOD = [["单选", "一大在哪一年召开？", "1919", "1921", "", "", "B", "1921年7月", "", "党史"],
        ["判断", "遵义会议在1935年召开", "", "", "", "", "对", "", "", ""]]


def _upload(client, data: bytes, filename: str, **form):
    token = csrf_from(client, "/admin/banks")
    body = {"csrf_token": token, "target": "new", "name": "党史题库", **form, "file": (io.BytesIO(data), filename)}
    return client.post("/admin/banks/upload", data=body, content_type="multipart/form-data")


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_template_download_is_the_organizer_template(app, client):
    make_admin(app)
    sign_in(client)
    response = client.get("/admin/banks/template")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [cell.value for cell in sheet[1]][:3] == ["题型", "题目（必填）", "选项A"]


def test_upload_preview_and_confirm_stores_the_bank(app, client, rt):
    make_admin(app)
    sign_in(client)
    response = _upload(client, one_sheet(GOOD), "题库.xlsx")
    assert response.status_code == 302 and "/admin/banks/preview/" in response.headers["Location"]
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "检查通过：2 道题都可以导入" in preview and "一大在哪一年召开？" in preview
    assert _count(rt.session, Question) == 0  # nothing stored before the organizer confirms
    confirm = client.post(response.headers["Location"] + "/confirm",
                          data={"csrf_token": csrf_from(client, response.headers["Location"])})
    assert confirm.status_code == 302
    assert _count(rt.session, Question) == 2
    listing = client.get("/admin/banks").get_data(as_text=True)
    assert "党史题库" in listing and "已将 2 道题导入题库「党史题库」" in listing


def test_a_faulty_upload_is_previewed_with_rows_marked_and_cannot_be_confirmed(app, client, rt):
    make_admin(app)
    sign_in(client)
    faulty = GOOD + [["单选", "没有答案的题", "甲", "乙", "", "", "", "", "", ""]]
    location = _upload(client, one_sheet(faulty), "题库.xlsx").headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert "第4行：答案为空" in preview and "row-fault" in preview and "没有答案的题" in preview
    client.post(location + "/confirm", data={"csrf_token": csrf_from(client, location)})
    assert _count(rt.session, Question) == 0 and _count(rt.session, Bank) == 0


def test_a_file_that_is_not_a_spreadsheet_gets_one_clear_line(app, client, rt):
    make_admin(app)
    sign_in(client)
    location = _upload(client, b"%PDF-1.4 not a bank", "bank.pdf").headers["Location"]
    assert "不支持的文件类型「.pdf」" in client.get(location).get_data(as_text=True)


def test_upload_over_the_size_cap_is_413(app, client):
    make_admin(app)
    sign_in(client)
    response = _upload(client, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1), "big.csv")
    assert response.status_code == 413


def test_bank_page_lists_its_questions(app, client, rt):
    from contest.banks import store_bank

    make_admin(app)
    sign_in(client)
    bank = store_bank(rt.session, read_bank(one_sheet(GOOD), "a.xlsx"), "党史题库")
    page = client.get(f"/admin/banks/{bank.id}").get_data(as_text=True)
    assert "遵义会议在1935年召开" in page and re.search(r"正确", page)


def test_upload_needs_login_and_the_csrf_token(app, client):
    response = client.post("/admin/banks/upload", data={"file": (io.BytesIO(b"x"), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 401, 403)
    make_admin(app)
    sign_in(client)
    refused = client.post("/admin/banks/upload", data={"file": (io.BytesIO(b"x"), "a.csv"), "name": "x"},
                          content_type="multipart/form-data")
    assert refused.status_code in (400, 403)


def test_a_kept_upload_is_read_once_for_its_preview_and_confirm(app, client, rt):
    make_admin(app)
    sign_in(client)
    location = _upload(client, one_sheet(GOOD), "题库.xlsx").headers["Location"]
    assert "检查通过：2 道题都可以导入" in client.get(location).get_data(as_text=True)
    kept = Path(app.instance_path) / "uploads" / location.rsplit("/", 1)[1]
    (kept / "data").write_bytes(b"not read again")  # the later views and the confirm use what was read
    assert "检查通过：2 道题都可以导入" in client.get(location + "?show=faults").get_data(as_text=True)
    client.post(location + "/confirm", data={"csrf_token": csrf_from(client, location)})
    assert _count(rt.session, Question) == 2


def test_a_gevent_server_reads_the_upload_in_a_child(app, stores, tmp_path):
    make_admin(app)
    with signed_in_on_gevent(stores, tmp_path) as (http, token_of):
        uploaded = http.post("/admin/banks/upload", files={"file": ("题库.xlsx", one_sheet(GOOD))},
                             data={"csrf_token": token_of("/admin/banks"), "target": "new", "name": "党史题库"})
        preview = http.get(uploaded.headers["Location"]).text
    assert "检查通过：2 道题都可以导入" in preview
    assert list((tmp_path / "uploads").glob(f"*/{read_once.RESULT}"))  # read by the child, kept for the confirm
