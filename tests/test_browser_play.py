"""A worker on a phone-sized Chromium: enter, answer, submit, see the result; the board moves live."""

from __future__ import annotations

import re
import threading

import pytest

from contest.models import Unit
from contest.play import live
from tests.browser_support import chromium, live_server  # noqa: F401
from tests.play_support import make_bank, make_contest, make_units, right_answer

pytestmark = pytest.mark.browser

PHONE_VIEW = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


@pytest.fixture
def phone(chromium):  # noqa: F811
    context = chromium.new_context(**PHONE_VIEW)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture
def watcher(chromium):  # noqa: F811
    """A second viewer (the public board or the big screen) in its own context."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def pusher(app):
    """The live pusher of a server process (start_background_tasks' loop), for this test only."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            live.push_once(app)
            stop.wait(app.config["LIVE_PUSH_INTERVAL"])

    thread = threading.Thread(target=run, name="test-pusher", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


@pytest.fixture
def contest(rt):
    """A contest over ~500 units, one of them findable by a Chinese word only it has."""
    bank = make_bank(rt.session)
    make_units(rt.session, count=500)
    rt.session.add(Unit(name="市总工会机关", headcount=40, parent_name="市总工会"))
    rt.session.commit()
    return make_contest(rt, bank, paper="single=3,multiple=1,judge=1,fill=1")


def _enter(page, base, cid, name="欧阳娜娜", phone_no="13912345678"):
    from playwright.sync_api import expect

    page.goto(f"{base}/c/{cid}")
    page.fill("#name", name)
    page.fill("#phone", phone_no)
    search = page.locator("#unit-search")
    search.click()
    expect(page.locator("#unit-hint")).to_contain_text("共 501 个单位")
    # An input method sends pinyin while composing: the list must wait for the finished word.
    search.evaluate("""el => {
        el.dispatchEvent(new CompositionEvent('compositionstart'));
        el.value = 'gong hui';
        el.dispatchEvent(new InputEvent('input', {isComposing: true}));
    }""")
    expect(page.locator("#unit-list li")).to_have_count(50)
    search.evaluate("""el => {
        el.value = '工会机关';
        el.dispatchEvent(new CompositionEvent('compositionend', {data: '工会机关'}));
    }""")
    expect(page.locator("#unit-list li")).to_have_count(1)
    page.locator("#unit-list li", has_text="市总工会机关").click()
    expect(search).to_have_value("市总工会机关")
    page.click("#enter")
    page.wait_for_url(re.compile(r"/play$"))
    expect(page.locator("#question")).to_be_visible()


def _shown_question(page) -> dict:
    box = page.locator("#question")
    return {"id": int(box.get_attribute("data-qid")), "type": box.get_attribute("data-type"),
            "options": page.locator("#q-choices .choice-text").all_text_contents()}


def _answer(page, rt, right: bool = True, wait: bool = True) -> None:
    """Answer the question on screen (rightly, or not); by default wait for the saved mark."""
    from playwright.sync_api import expect

    shown = _shown_question(page)
    answer = right_answer(rt.session, shown)
    if shown["type"] == "fill":
        page.fill(".fill-input", answer if right else "不知道")
        page.locator(".fill-input").blur()
    elif shown["type"] == "judge":
        says_true = answer if right else not answer
        page.click("#q-choices .choice >> nth=0" if says_true else "#q-choices .choice >> nth=1")
    else:
        letters = answer if right else [next(x for x in "ABCD" if x not in answer)]
        for letter in letters:
            page.click(f"#q-choices .choice:has(.letter:text-is('{letter}'))")
    if wait:
        expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def _picked(page) -> object:
    """What the question on screen shows as answered: the chosen options, or the text typed."""
    if page.locator(".fill-input").count():
        return page.locator(".fill-input").input_value()
    return page.locator("#q-choices [aria-checked=true] .choice-text").all_text_contents()


def test_worker_plays_a_whole_attempt_while_the_board_moves(phone, watcher, live_server, rt, contest,  # noqa: F811
                                                           pusher):
    from playwright.sync_api import expect

    watcher.goto(f"{live_server}/c/{contest.id}/board")
    expect(watcher.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(watcher.locator("#people-empty")).to_be_visible()
    watcher.evaluate("window.__sameDocument = true")

    _enter(phone, live_server, contest.id)
    total = int(phone.text_content("#q-total"))
    assert total == 6
    for i in range(total):
        expect(phone.locator("#q-index")).to_have_text(str(i + 1))
        _answer(phone, rt, right=i != 0)  # one wrong answer, so the review shows both
        phone.click("#next")

    expect(phone.locator("#confirm")).to_be_visible()
    expect(phone.locator("#confirm-text")).to_contain_text("已全部作答")
    phone.click("#confirm-ok")
    phone.wait_for_url(re.compile(r"/result/\d+$"))
    expect(phone.locator("#r-rank")).to_have_text("第 1 名")
    expect(phone.locator("#r-correct")).to_have_text("5 / 6 题")
    expect(phone.locator(".review-item")).to_have_count(6)
    expect(phone.locator(".review-item.is-wrong")).to_have_count(1)
    expect(phone.locator(".review-item").first).to_contain_text("正确答案")
    expect(phone.locator("#review-list")).to_contain_text("解析")

    # The board changes by itself: the pushed row appears, masked, in the same document.
    row = watcher.locator("#people li").first
    expect(row).to_contain_text("欧阳**")
    expect(row).to_contain_text("市总工会机关")
    expect(watcher.locator('[data-k="participants"]')).to_have_text("1")
    assert watcher.evaluate("window.__sameDocument") is True
    board_text = watcher.locator("body").inner_text()
    assert "欧阳娜娜" not in board_text and "13912345678" not in board_text


def test_big_screen_moves_without_reload(phone, watcher, live_server, rt, contest, pusher):  # noqa: F811
    from playwright.sync_api import expect

    watcher.set_viewport_size({"width": 1920, "height": 1080})
    frames = []  # what Chromium inflated from the socket (it offers permessage-deflate: socket_deflate.py)
    watcher.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    watcher.goto(f"{live_server}/c/{contest.id}/screen")
    expect(watcher.locator("#live-state")).to_have_attribute("data-state", "live")
    watcher.evaluate("window.__sameDocument = true")
    expect(watcher.locator('[data-k="attempts"]')).to_have_text("0")

    _enter(phone, live_server, contest.id, name="张三", phone_no="13800000002")
    phone.click("#submit")
    expect(phone.locator("#confirm-text")).to_contain_text("还有 6 道题未作答")
    phone.click("#confirm-ok")
    phone.wait_for_url(re.compile(r"/result/\d+$"))
    expect(phone.locator("#r-score")).to_have_text("0")

    expect(watcher.locator('[data-k="attempts"]')).to_have_text("1")
    expect(watcher.locator("#people li").first).to_contain_text("张*")
    expect(watcher.locator("#units li").first).to_contain_text("市总工会机关")
    assert watcher.evaluate("window.__sameDocument") is True
    pushed = [f for f in frames if isinstance(f, str) and f.startswith('42/live,["stats"')]
    assert any('"attempts":1' in f for f in pushed), frames  # the counter came over the WebSocket


def test_reload_resumes_the_same_attempt_with_saved_answers(phone, live_server, rt, clock, contest):  # noqa: F811
    from playwright.sync_api import expect

    asked: list[str] = []  # the phone's requests for its attempt (GET /api/v1/attempts/<id>)
    phone.on("request", lambda r: asked.append(r.url) if r.method == "GET" and "/api/v1/attempts/" in r.url else None)
    _enter(phone, live_server, contest.id)
    deadline = phone.get_attribute("#quiz", "data-deadline")
    aid = phone.evaluate(f"localStorage.getItem('jd.attempt.{contest.id}')")
    assert asked == []  # the quiz page took the paper the start returned
    _answer(phone, rt)
    first, first_picked = _shown_question(phone), _picked(phone)
    phone.click("#next")

    # A flaky network: the answer waits on the phone, then goes through when the network returns.
    phone.context.set_offline(True)
    shown = _shown_question(phone)
    _answer(phone, rt, wait=False)
    expect(phone.locator("#save-state")).to_have_attribute("data-state", "retry")
    expect(phone.locator("#net-state")).to_contain_text("暂存在本机")
    phone.context.set_offline(False)
    expect(phone.locator("#save-state")).to_have_attribute("data-state", "saved")
    second_picked = _picked(phone)
    assert second_picked

    clock.advance(60)  # the server's clock moves; the phone's does not: the countdown follows the server
    phone.reload()
    expect(phone.locator("#question")).to_be_visible()
    assert asked == [f"{live_server}/api/v1/attempts/{aid}"]  # a reload asks the server
    assert phone.get_attribute("#quiz", "data-deadline") == deadline
    assert phone.evaluate(f"localStorage.getItem('jd.attempt.{contest.id}')") == aid
    expect(phone.locator("#countdown")).to_have_text(re.compile(r"^0(4:00|3:5\d)$"))
    assert _shown_question(phone)["id"] == shown["id"]  # back on the question it left
    assert _picked(phone) == second_picked
    expect(phone.locator("#sheet-summary")).to_have_text("已答 2 / 6")

    phone.click("#sheet-grid .cell >> nth=0")
    assert _shown_question(phone)["id"] == first["id"]
    assert _picked(phone) == first_picked
    expect(phone.locator("#save-state")).to_have_attribute("data-state", "saved")


def test_clear_messages_for_refusals(phone, live_server, rt):  # noqa: F811
    from playwright.sync_api import expect

    bank = make_bank(rt.session)
    unit = make_units(rt.session, count=1)[0]
    roster_only = make_contest(rt, bank, roster_only=True)
    one_a_day = make_contest(rt, bank, attempts_per_day=1, title="每天一次的竞赛")

    phone.goto(f"{live_server}/c/{roster_only.id}")
    phone.fill("#name", "李四")
    phone.fill("#phone", "1380000")
    phone.click("#enter")
    expect(phone.locator('.field-error[data-for="phone"]')).to_have_text("手机号应为 1 开头的 11 位数字。")
    expect(phone.locator('.field-error[data-for="unit_id"]')).to_contain_text("请搜索并点选所在单位")
    phone.fill("#phone", "13800000003")
    phone.click("#unit-search")
    phone.locator("#unit-list li", has_text=unit.name).click()
    phone.click("#enter")
    expect(phone.locator("#notice")).to_have_text("本竞赛仅限名单内人员参加，未找到该手机号。")

    _enter_plain(phone, live_server, one_a_day.id, unit.name)
    phone.click("#submit")
    phone.click("#confirm-ok")
    phone.wait_for_url(re.compile(r"/result/\d+$"))
    phone.goto(f"{live_server}/c/{one_a_day.id}")
    expect(phone.locator("#start")).to_have_text("再答一次")
    phone.click("#start")
    expect(phone.locator("#notice")).to_contain_text("今天的 1 次答题机会已用完")


def _enter_plain(page, base, cid, unit_name):
    page.goto(f"{base}/c/{cid}")
    page.fill("#name", "李四")
    page.fill("#phone", "13800000004")
    page.click("#unit-search")
    page.locator("#unit-list li", has_text=unit_name).click()
    page.click("#enter")
    page.wait_for_url(re.compile(r"/play$"))


def test_countdown_submits_at_the_deadline(phone, live_server, rt, clock, contest):  # noqa: F811
    from playwright.sync_api import expect

    _enter(phone, live_server, contest.id)
    _answer(phone, rt)
    clock.advance(contest.time_limit_s - 2)  # two seconds left on the server's clock
    phone.reload()
    expect(phone.locator("#countdown")).to_have_text(re.compile(r"^00:0[0-2]$"))
    phone.wait_for_url(re.compile(r"/result/\d+$"))  # nobody pressed submit
    expect(phone.locator("#notice")).to_have_text("答题时间已到，系统已按截止前保存的答案自动交卷。")
    expect(phone.locator("#r-correct")).to_have_text("1 / 6 题")


def test_late_answer_is_refused_and_the_attempt_finishes(phone, live_server, rt, clock, contest):  # noqa: F811
    from playwright.sync_api import expect

    _enter(phone, live_server, contest.id)
    _answer(phone, rt)
    phone.click("#next")
    # The phone still counts minutes, but the server's time is up: its 409 ends the attempt.
    clock.advance(contest.time_limit_s + 5)
    _answer(phone, rt, wait=False)
    phone.wait_for_url(re.compile(r"/result/\d+$"))
    expect(phone.locator("#r-correct")).to_have_text("1 / 6 题")
    expect(phone.locator(".review-item:not(.is-right)")).to_have_count(5)


def test_the_review_shows_half_credit_as_partly_right(phone, live_server, rt, client):  # noqa: F811
    from playwright.sync_api import expect

    bank, units = make_bank(rt.session), make_units(rt.session)
    contest = make_contest(rt, bank, paper="multiple=1", partial_credit=True)
    entered = client.post(f"/api/v1/contests/{contest.id}/entrants",
                          json={"name": "张三", "phone": "13800000001", "unit_id": units[0].id}).get_json()
    auth = {"Authorization": f"Bearer {entered['token']}"}
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=auth).get_json()
    question = attempt["questions"][0]
    subset = right_answer(rt.session, question)[:1]  # one of the right options: half the points
    client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}", headers=auth,
               json={"answer": subset})
    assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth).get_json()["score"] > 0

    phone.goto(f"{live_server}/c/{contest.id}")  # this phone entered as the API did
    phone.evaluate("([cid, entry]) => localStorage.setItem('jd.entry.' + cid, JSON.stringify(entry))",
                   [contest.id, {"token": entered["token"], "entrant_id": entered["entrant_id"]}])
    phone.goto(f"{live_server}/c/{contest.id}/result/{attempt['attempt_id']}")
    item = phone.locator(".review-item")
    expect(item).to_have_class(re.compile(r"\bis-partial\b"))
    expect(item.locator(".verdict")).to_have_text(re.compile(r"^◐ 部分正确，得 [\d.]+ 分$"))
