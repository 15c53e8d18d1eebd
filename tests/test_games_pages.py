"""Pages of live games: the admin creates one, the host screen carries a QR code, the phone page."""

from __future__ import annotations

import re

from tests.admin_support import csrf_from, make_admin, sign_in
from tests.game_support import Host
from tests.play_support import make_bank, make_units


def test_admin_creates_a_game_and_gets_the_host_link(app, client, rt):
    bank = make_bank(rt.session)
    make_admin(app)
    sign_in(client)
    page = client.get("/admin/games")
    assert page.status_code == 200 and "新建现场竞赛" in page.get_data(as_text=True)
    token = csrf_from(client, "/admin/games")
    bad = client.post("/admin/games", data={"csrf_token": token, "bank_id": bank.id, "count": "500", "seconds": "20"})
    assert bad.status_code == 400 and "可用于现场竞赛" in bad.get_data(as_text=True)
    made = client.post("/admin/games", data={"csrf_token": token, "bank_id": bank.id, "count": "3", "seconds": "20",
                                             "title": "决赛", "buzzer": "3", "doubled": "2"})
    assert made.status_code == 302
    detail = client.get(made.headers["Location"]).get_data(as_text=True)
    pin, host_token = re.search(r"/screen/game/(\d{6})#([\w-]+)", detail).groups()
    assert "<svg" in detail
    snap = Host(app, pin, host_token).act("watch")
    assert snap["state"] == "lobby" and snap["title"] == "决赛" and snap["count"] == 3
    assert client.get("/admin/games").get_data(as_text=True).count(pin) == 1
    by_rules = client.post("/admin/games", data={"csrf_token": token, "bank_id": bank.id, "count": "10",
                                                 "rules": "judge=2,single=1", "seconds": "20"})
    assert by_rules.status_code == 302
    pin, host_token = re.search(r"/screen/game/(\d{6})#([\w-]+)", client.get(by_rules.headers["Location"])
                                .get_data(as_text=True)).groups()
    assert Host(app, pin, host_token).act("watch")["count"] == 3
    bad = client.post("/admin/games", data={"csrf_token": token, "bank_id": bank.id, "rules": "judge=99",
                                            "seconds": "20"})
    assert bad.status_code == 400 and "判断题只有" in bad.get_data(as_text=True)


def test_staff_cannot_create_games(app, client, rt):
    make_bank(rt.session)
    make_admin(app, "staff1", role="staff")
    sign_in(client, "staff1")
    token = csrf_from(client, "/admin/games")
    assert client.post("/admin/games", data={"csrf_token": token}).status_code == 403


def test_host_screen_and_phone_page(client, rt):
    make_units(rt.session)
    screen = client.get("/screen/game/123456")
    html = screen.get_data(as_text=True)
    assert screen.status_code == 200 and "<svg" in html and "/g/123456" in html
    assert "socket.io.min.js" in html
    assert client.get("/screen/game/12x456").status_code == 404
    phone = client.get("/g/123456").get_data(as_text=True)
    assert 'value="123456"' in phone and "测试单位0" in phone
    assert client.get("/g").status_code == 200
    assert client.get("/static/vendor/socket.io/socket.io.min.js").status_code == 200
