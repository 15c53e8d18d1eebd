"""A host screen and three phones (phone viewports) play a short live game to the podium in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contest.play import games
from tests.browser_support import chromium, live_server  # noqa: F401
from tests.game_support import make_game
from tests.play_support import make_units

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
SHOTS = "/tmp/jd-game"


@pytest.fixture
def real_sockets(app):
    """Undo what a Flask-SocketIO test client did earlier in the run: it swaps the server's packet
    senders for mocks that deliver only to test clients, so a browser would never hear back."""
    server = app.extensions["jd.socketio"].server
    for name in ("_send_packet", "_send_eio_packet"):
        server.__dict__.pop(name, None)


@pytest.mark.browser
def test_host_and_three_phones_play_to_the_podium(app, rt, live_server, chromium, real_sockets):  # noqa: F811
    game, host_token = make_game(rt, 3)
    pin = game.pin
    units = make_units(rt.session)
    rt.session.close()
    host_ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    host = host_ctx.new_page()
    host.set_default_timeout(15_000)
    host.goto(f"{live_server}/screen/game/{pin}#{host_token}")
    expect(host.locator("#s-lobby")).to_be_visible()
    expect(host.locator(".qr svg")).to_be_visible()

    phones, contexts = [], []
    for i, name in enumerate(["张三丰", "李四", "<b>王五</b>"]):
        context = chromium.new_context(**PHONE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server}/g/{pin}")
        page.fill("#name", name)
        page.select_option("#unit", str(units[i % 2].id))
        page.click("#join-form button")
        expect(page.locator("#v-wait")).to_be_visible()
        phones.append(page)
        contexts.append(context)
    expect(host.locator("#count")).to_have_text("3")
    expect(host.locator("#players")).to_contain_text("<*******")  # typed markup shows as text, never as HTML
    expect(host.locator("#players b")).to_have_count(0)
    host.screenshot(path=f"{SHOTS}-1-lobby.png")

    host.click('button[data-action="start"]')
    for page in phones:
        expect(page.locator("#q-choices .choice")).to_have_count(4)
    phones[0].screenshot(path=f"{SHOTS}-2-phone-question.png")
    host.screenshot(path=f"{SHOTS}-3-host-question.png")
    for page, option in zip(phones, ["乙", "甲", "乙"], strict=True):
        page.locator("#q-choices .choice", has_text=option).click()
    expect(host.locator("#s-result")).to_be_visible()
    expect(host.locator("#r-top tr")).to_have_count(3)
    expect(phones[1].locator("#r-verdict")).to_have_text("回答错误")
    expect(phones[0].locator("#r-rank")).to_contain_text("第 1 名")
    host.screenshot(path=f"{SHOTS}-4-host-result.png")
    phones[0].screenshot(path=f"{SHOTS}-5-phone-result.png")

    # Question 2 (judge): one phone answers, reloads, and finds its answer kept.
    host.click('button[data-action="next"]')
    expect(phones[0].locator("#q-choices .choice")).to_have_count(2)
    phones[0].locator("#q-choices .choice", has_text="正确").click()
    expect(phones[0].locator("#q-done")).to_be_visible()
    phones[0].reload()
    expect(phones[0].locator("#q-done")).to_be_visible()
    phones[1].locator("#q-choices .choice", has_text="正确").click()
    phones[2].locator("#q-choices .choice", has_text="错误").click()
    expect(host.locator("#r-key")).to_have_text("正确")

    # Question 3 (multiple): pick two and submit.
    host.click('button[data-action="next"]')
    for page, picks in zip(phones, [["甲", "丙"], ["甲"], ["甲", "丙"]], strict=True):
        expect(page.locator("#q-submit")).to_be_visible()
        for option in picks:
            page.locator("#q-choices .choice", has_text=option).click()
        page.click("#q-submit")
    expect(host.locator('button[data-action="next"]')).to_have_text("查看领奖台")
    host.click('button[data-action="next"]')
    expect(host.locator("#s-over")).to_be_visible()
    expect(host.locator("#o-podium .step")).to_have_count(3)
    expect(host.locator("#o-podium .p1")).to_contain_text("张**")
    expect(host.locator("#o-units tr")).to_have_count(2)
    for page in phones:
        expect(page.locator("#v-over")).to_be_visible()
    expect(phones[0].locator("#o-mine")).to_contain_text("第 1 名")
    host.screenshot(path=f"{SHOTS}-6-host-podium.png")
    phones[2].screenshot(path=f"{SHOTS}-7-phone-over.png")
    assert games.find_game(rt, pin).state == "over"
    for context in [host_ctx, *contexts]:
        context.close()


@pytest.mark.browser
def test_phone_joins_a_roster_only_game_with_its_listed_phone(app, rt, live_server, chromium, real_sockets):  # noqa: F811
    from contest.play.roster import RosterRow

    units = make_units(rt.session)
    game, host_token = make_game(rt, 2, roster=[RosterRow("张三丰", "13800000001", units[1].id)])
    pin = game.pin
    rt.session.close()
    host_ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    host = host_ctx.new_page()
    host.set_default_timeout(15_000)
    host.goto(f"{live_server}/screen/game/{pin}#{host_token}")
    expect(host.locator("#count")).to_have_text("0 / 1")  # the lobby counts against the list
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/g/{pin}")
    expect(page.locator("#phone-row")).to_be_hidden()
    page.fill("#name", "张三丰")
    page.click("#join-form button")
    # The server says the game is roster-only: the phone field appears, the unit picker goes.
    expect(page.locator("#join-error")).to_contain_text("请填写手机号")
    expect(page.locator("#phone-row")).to_be_visible()
    expect(page.locator("#unit-row")).to_be_hidden()
    page.fill("#phone", "13900000000")
    page.click("#join-form button")
    expect(page.locator("#join-error")).to_contain_text("名单中没有")
    page.screenshot(path=f"{SHOTS}-roster-refused.png")
    page.fill("#phone", "13800000001")
    page.click("#join-form button")
    expect(page.locator("#v-wait")).to_be_visible()
    expect(page.locator("#me")).to_have_text("张** · 测试单位1")  # the list's unit, not a typed one
    page.screenshot(path=f"{SHOTS}-roster-joined.png")
    expect(host.locator("#count")).to_have_text("1 / 1")
    context.close()
    host_ctx.close()
