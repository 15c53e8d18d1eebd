"""The roster card on the admin contest page: organizers import (all or nothing) and download; staff only look."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from contest.config import MAX_UPLOAD_BYTES
from contest.models import Contest, RosterEntry
from contest.play.roster import import_roster
from contest.play.roster_book import build_roster_template, write_roster
from tests.admin_support import PASSWORD, csrf_from, make_admin, sign_in
from tests.browser_support import browser_page, chromium, live_server  # noqa: F401
from tests.play_support import make_bank, make_contest, make_units

GOOD = "姓名,手机号,单位\n张三,13800000001,测试单位1\n李四,138-0000-0002,\n"
SHOTS = os.environ.get("JD_SCREENSHOTS")  # a folder to keep the card's screenshot in


def _setup(app, rt, role="organizer", **contest_changes):
    make_admin(app, "boss", role="organizer")
    if role != "organizer":
        make_admin(app, "helper", role=role)
    units = make_units(rt.session)
    contest = make_contest(rt, make_bank(rt.session), roster_only=True, **contest_changes)
    return contest, units


def _upload(client, cid, data: bytes | str, filename="名单.csv", token=None):
    token = token or csrf_from(client, f"/admin/contests/{cid}")
    body = data.encode() if isinstance(data, str) else data
    return client.post(f"/admin/contests/{cid}/roster", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(body), filename)})


def _roster(rt, cid) -> set[tuple[str, str, int | None]]:
    rt.session.expire_all()
    rows = rt.session.execute(select(RosterEntry.name, RosterEntry.phone, RosterEntry.unit_id)
                              .where(RosterEntry.contest_id == cid))
    return {tuple(row) for row in rows}


def _card_figure(page: str, name: str) -> int:
    match = re.search(rf'data-roster="{name}">(\d+)<', page)
    assert match, f"no {name} figure on the page"
    return int(match.group(1))


def _enter(client, cid, phone, unit_id):
    return client.post(f"/api/v1/contests/{cid}/entrants", json={"name": "某人", "phone": phone, "unit_id": unit_id})


def test_organizer_imports_a_roster_and_entry_follows_it(app, client, rt):
    contest, units = _setup(app, rt)
    sign_in(client, "boss")
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert "名单是空的" in page and _card_figure(page, "listed") == 0

    response = _upload(client, contest.id, GOOD)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/contests/{contest.id}#roster")
    assert _roster(rt, contest.id) == {("张三", "13800000001", units[1].id), ("李四", "13800000002", None)}
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert "已导入参赛名单：共 2 人" in page and "名单是空的" not in page
    assert _card_figure(page, "listed") == 2 and _card_figure(page, "entered") == 0
    assert "13800000001" not in page  # counts only; phones leave only in the organizer's download

    listed = _enter(client, contest.id, "13800000001", units[0].id)
    assert listed.status_code == 201
    stranger = _enter(client, contest.id, "13900000009", units[0].id)
    assert stranger.status_code == 403 and stranger.get_json()["error"] == "not_on_roster"
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert _card_figure(page, "entered") == 1

    # The download is the import's shape: uploading it again (as xlsx) gives the same roster.
    download = client.get(f"/admin/contests/{contest.id}/roster.xlsx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(download.data)).active.values)
    assert rows == [("姓名", "手机号", "单位"), ("张三", "13800000001", "测试单位1"), ("李四", "13800000002", None)]
    before = _roster(rt, contest.id)
    assert _upload(client, contest.id, download.data, "名单.xlsx").status_code == 302
    assert _roster(rt, contest.id) == before


def test_phones_typed_with_full_width_digits_are_stored_as_one_spelling(app, client, rt):
    contest, units = _setup(app, rt)
    sign_in(client, "boss")
    assert _upload(client, contest.id, "姓名,手机号,单位\n王五,１３８－００００－０００３,\n").status_code == 302
    assert _roster(rt, contest.id) == {("王五", "13800000003", None)}
    assert _enter(client, contest.id, "13800000003", units[0].id).status_code == 201
    refused = _upload(client, contest.id, "姓名,手机号,单位\n赵六,1٣٨٠٠٠٠٠٠٠٤,\n")
    assert refused.status_code == 400 and "第2行：手机号" in refused.get_data(as_text=True)
    assert _roster(rt, contest.id) == {("王五", "13800000003", None)}


def test_unit_names_in_the_blank_template_stay_text():
    book = load_workbook(io.BytesIO(build_roster_template(['=HYPERLINK("http://x","y")', "单位\x01甲"])))
    risky, odd = book["单位列表"]["A2"], book["单位列表"]["A3"]
    assert (risky.value, risky.data_type, risky.quotePrefix) == ('=HYPERLINK("http://x","y")', "s", True)
    assert odd.value == "单位甲"  # a character no xlsx can hold, dropped rather than a failed download


def test_a_roster_larger_than_a_bank_is_taken(app, rt):
    contest, _units = _setup(app, rt)
    people = "".join(f"职工{i},139{i:08d},\n" for i in range(25_000))  # a bank stops at 20,000 rows
    assert import_roster(rt.session, contest.id, ("姓名,手机号,单位\n" + people).encode(), "名单.csv") == 25_000


def test_a_new_roster_replaces_the_old_one(app, client, rt):
    contest, units = _setup(app, rt)
    sign_in(client, "boss")
    _upload(client, contest.id, GOOD)
    xlsx = write_roster([("王五", "13700000003", "测试单位2")])
    assert _upload(client, contest.id, xlsx, "新名单.xlsx").status_code == 302
    assert _roster(rt, contest.id) == {("王五", "13700000003", units[2].id)}
    assert _enter(client, contest.id, "13800000001", units[0].id).status_code == 403


def test_a_faulty_roster_names_each_row_and_keeps_the_old_one(app, client, rt):
    contest, _units = _setup(app, rt)
    sign_in(client, "boss")
    _upload(client, contest.id, GOOD)
    before = _roster(rt, contest.id)
    faulty = "姓名,手机号,单位\n王五,12345,\n赵六,13800000003,不存在的单位\n,13800000004,测试单位0\n"
    response = _upload(client, contest.id, faulty)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "第2行：手机号「12345」应为以 1 开头的 11 位数字" in page
    assert "第3行：单位「不存在的单位」不在单位列表中" in page
    assert "第4行：姓名为空" in page and "原名单保持不变" in page
    assert _roster(rt, contest.id) == before

    for data, name, said in [("姓名,手机号\n", "空.csv", "名单中没有人"),
                             ("编号,电话号码\n1,13800000001\n", "错表头.csv", "找不到表头"),
                             (b"\x00\x01not a workbook", "坏文件.xlsx", "")]:
        refused = _upload(client, contest.id, data, name)
        assert refused.status_code == 400 and said in refused.get_data(as_text=True), name
    missing = client.post(f"/admin/contests/{contest.id}/roster",
                          data={"csrf_token": csrf_from(client, f"/admin/contests/{contest.id}")})
    assert missing.status_code == 400 and "请选择名单文件" in missing.get_data(as_text=True)
    assert _roster(rt, contest.id) == before


def test_oversize_upload_is_refused(app, client, rt):
    contest, _units = _setup(app, rt)
    sign_in(client, "boss")
    _upload(client, contest.id, GOOD)
    before = _roster(rt, contest.id)
    huge = GOOD.encode() + b"x" * MAX_UPLOAD_BYTES
    response = _upload(client, contest.id, huge)
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)
    assert _roster(rt, contest.id) == before


def test_closed_contest_takes_no_roster(app, client, rt):
    now = rt.clock.now()
    contest, _units = _setup(app, rt, starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    sign_in(client, "boss")
    assert "导入名单</button>" not in client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    response = _upload(client, contest.id, GOOD)
    assert response.status_code == 400 and "竞赛已结束" in response.get_data(as_text=True)
    assert _roster(rt, contest.id) == set()


def test_staff_sees_the_counts_but_cannot_import_or_download(app, client, rt):
    contest, _units = _setup(app, rt, role="staff")
    sign_in(client, "boss")
    _upload(client, contest.id, GOOD)
    client.post("/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")})
    sign_in(client, "helper")
    page = client.get(f"/admin/contests/{contest.id}").get_data(as_text=True)
    assert "参赛名单" in page and _card_figure(page, "listed") == 2
    assert "导入名单" not in page and "roster.xlsx" not in page and "roster/template" not in page
    token = csrf_from(client, f"/admin/contests/{contest.id}")
    assert _upload(client, contest.id, "姓名,手机号\n王五,13700000003\n", token=token).status_code == 403
    assert client.get(f"/admin/contests/{contest.id}/roster.xlsx").status_code == 403
    assert client.get("/admin/roster/template.xlsx").status_code == 403
    assert len(_roster(rt, contest.id)) == 2


def test_anonymous_is_sent_to_the_login(app, client, rt):
    contest, _units = _setup(app, rt)
    for response in (client.get(f"/admin/contests/{contest.id}/roster.xlsx"),
                     client.get("/admin/roster/template.xlsx"),
                     client.post(f"/admin/contests/{contest.id}/roster", content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(GOOD.encode()), "名单.csv")})):
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert _roster(rt, contest.id) == set()


def test_blank_template_lists_units_and_imports_once_filled(app, client, rt):
    contest, units = _setup(app, rt)
    sign_in(client, "boss")
    response = client.get("/admin/roster/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert next(workbook["名单"].values) == ("姓名", "手机号", "单位")
    assert [name for (name,) in workbook["单位列表"].values][1:] == [u.name for u in units]
    workbook["名单"].append(["周七", "13600000006", units[0].name])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _upload(client, contest.id, buffer.getvalue(), "参赛名单模板.xlsx").status_code == 302
    assert _roster(rt, contest.id) == {("周七", "13600000006", units[0].id)}


def test_contest_form_points_to_the_card_and_warns_on_an_empty_roster(app, client, rt):
    contest, _units = _setup(app, rt)
    sign_in(client, "boss")
    form = client.get(f"/admin/contests/{contest.id}/edit").get_data(as_text=True)
    assert "create-contest --roster" not in form
    assert f'/admin/contests/{contest.id}#roster' in form and "目前名单为空" in form
    saved = client.post(f"/admin/contests/{contest.id}/edit", follow_redirects=True, data={
        "csrf_token": csrf_from(client, f"/admin/contests/{contest.id}/edit"), "title": contest.title,
        "bank_id": str(contest.bank_id), "count_single": "3", "time_limit_min": "5",
        "starts_at": "2020-01-01T00:00", "ends_at": "2099-01-01T00:00", "attempts_per_day": "3",
        "roster_only": "on"})
    assert saved.status_code == 200 and "导入名单前任何人都无法报名" in saved.get_data(as_text=True)
    rt.session.expire_all()
    assert rt.session.get(Contest, contest.id).roster_only

    _upload(client, contest.id, GOOD)
    form = client.get(f"/admin/contests/{contest.id}/edit").get_data(as_text=True)
    assert "现有 2 人" in form and "目前名单为空" not in form


@pytest.mark.browser
def test_the_card_in_a_browser(app, rt, live_server, browser_page, tmp_path):  # noqa: F811
    contest, _units = _setup(app, rt)
    page = browser_page
    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/admin/contests/{contest.id}#roster")
    (tmp_path / "名单.csv").write_text("姓名,手机号,单位\n王五,12345,\n", encoding="utf-8")
    page.set_input_files("#roster input[type=file]", str(tmp_path / "名单.csv"))
    page.click("#roster button[type=submit]")
    assert "第2行：手机号「12345」" in page.inner_text("#roster")
    assert page.url.endswith("#roster")  # the faults are in view, not below the monitor's charts
    assert 0 <= page.evaluate("document.getElementById('roster').getBoundingClientRect().top") < 900
    _shot(page, "#roster", "roster_card_fault.png")
    (tmp_path / "名单.csv").write_text(GOOD, encoding="utf-8")
    page.set_input_files("#roster input[type=file]", str(tmp_path / "名单.csv"))
    page.click("#roster button[type=submit]")
    page.wait_for_url(f"**/admin/contests/{contest.id}#roster")
    assert page.inner_text("#roster [data-roster=listed]") == "2"
    card = page.locator("#roster").bounding_box()
    assert card["width"] <= 1280 - 2 * 20  # inside the page, no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    _shot(page, "#roster", "roster_card.png")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "roster_monitor_page.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # a phone: still no sideways scrolling
    _shot(page, "#roster", "roster_card_phone.png")
    page.goto(f"{live_server}/admin/contests/{contest.id}/edit")
    _shot(page, "fieldset:last-of-type", "roster_form_hint.png")


def _shot(page, selector: str, name: str) -> None:
    if SHOTS:
        page.locator(selector).screenshot(path=os.path.join(SHOTS, name))
