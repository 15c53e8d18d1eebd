"""公平性核查: impossible speed and many entrants on one device or address are flagged in the
workbook (never dropped from the ranking); the figures equal a pandas recomputation."""

from __future__ import annotations

import random
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.sql import null

from contest.clock import contest_day
from contest.models import Answer, Attempt, Entrant, EntryOrigin, Question, Unit
from contest.play import origins, privacy
from contest.reports import fairness
from tests.play_support import make_bank, make_contest, make_units, right_answer
from tests.reports_support import add_entrant, export_bytes, open_book, question_ids, read_frames

SHEET = "公平性核查"
DEVICE = "dev-AAAAAAAAAAAAAAAAAAAA"


def _timed_attempt(s, contest, entrant, started, answers: list[tuple[int, float, bool]], score: float | None = None):
    """A finished attempt whose answers arrive `seconds` after the previous one (the first after the start)."""
    # A paper never repeats a question (answers are unique per attempt and question).
    assert len({qid for qid, _, _ in answers}) == len(answers), "a question twice in one paper"
    used = s.scalar(select(func.count()).select_from(Attempt).where(Attempt.entrant_id == entrant.id)) or 0
    at = started
    moments = []
    for _, seconds, _ in answers:
        at = at + timedelta(seconds=seconds)
        moments.append(at)
    finished = at + timedelta(seconds=1)
    correct = sum(1 for *_, ok in answers if ok)
    attempt = Attempt(contest_id=contest.id, entrant_id=entrant.id, day=contest_day(started), slot=used + 1,
                      open_marker=null(), status="finished", paper_bank=contest.bank_id,
                      paper=[{"qid": qid, "perm": [0, 1, 2, 3]} for qid, _, _ in answers],
                      started_at=started, deadline=started + timedelta(minutes=10), finished_at=finished,
                      score=float(correct if score is None else score), max_score=float(len(answers)),
                      correct=correct, duration_ms=round((finished - started).total_seconds() * 1000))
    s.add(attempt)
    s.flush()
    # Stored out of arrival order on purpose: the flags must order by arrival time, not by id.
    for (qid, _, ok), when in reversed(list(zip(answers, moments, strict=True))):
        s.add(Answer(attempt_id=attempt.id, question_id=qid, answer=["B"], received_at=when, is_correct=ok,
                     points=1.0 if ok else 0.0))
    s.flush()
    return attempt


@pytest.fixture
def seeded(rt):
    s = rt.session
    bank = make_bank(s)
    long_stem = Question(bank_id=bank.id, type="single", stem="长" * 100, stem_key="long", options=["甲", "乙", "丙", "丁"],
                         answer=["B"], score=1, category="党史")
    s.add(long_stem)
    s.commit()
    units = make_units(s, 2)
    contest = make_contest(rt, bank)
    short = [qid for qid in question_ids(s, bank, "single") if qid != long_stem.id]
    return {"s": s, "bank": bank, "units": units, "contest": contest, "long": long_stem.id,
            "singles": short, "start": rt.clock.now() - timedelta(hours=1)}


def test_reading_floor_grows_with_the_question():
    assert fairness.reading_floor_ms("单选题0", ["甲", "乙", "丙", "丁"]) == pytest.approx(1000 * (1 + 8 / 25))
    assert fairness.reading_floor_ms("长" * 100, ["甲", "乙", "丙", "丁"]) == pytest.approx(1000 * (1 + 104 / 25))
    # Whitespace is not read; judge and fill questions have no options.
    assert fairness.reading_floor_ms(" 判断 题\n", None) == pytest.approx(1000 * (1 + 3 / 25))


def test_speed_flags_exactly_the_expected_attempts(rt, seeded):
    s, c, unit, q, start = seeded["s"], seeded["contest"], seeded["units"][0], seeded["singles"], seeded["start"]
    # Short singles: floor 1.32 s. The long question: floor 1 + 104/25 = 5.16 s.
    names = ["机器", "三快", "两快", "错快", "正常", "长题", "补发"]
    people = {name: add_entrant(s, c, unit, name=name) for name in names}
    bot = _timed_attempt(s, c, people["机器"], start, [(qid, 0.4, True) for qid in q[:6]])
    # Three quick answers, but 21.9 s in all for 6.6 s of reading: a quick reader, not listed.
    _timed_attempt(s, c, people["三快"], start, [(q[0], 1.2, True), (q[1], 8, True), (q[2], 1.3, True),
                                                (q[3], 9, False), (q[4], 1.0, True), (q[5], 1.4, True)])
    _timed_attempt(s, c, people["两快"], start, [(q[0], 0.2, True), (q[1], 0.2, True), (q[2], 40, True)])
    _timed_attempt(s, c, people["错快"], start, [(qid, 0.3, False) for qid in q[:6]])  # fast but wrong: guessing
    _timed_attempt(s, c, people["正常"], start, [(qid, 6, True) for qid in q[:6]])
    # Offline for the last four: they arrive together on reconnect, after a human pace overall.
    _timed_attempt(s, c, people["补发"], start, [(q[0], 7, True), (q[1], 6, True), (q[2], 30, True), (q[3], 0, True),
                                                (q[4], 0, True), (q[5], 0, True)])
    # The long question (5.16 s) and three short ones (1.32 s each): 9.12 s of reading, done in 8 s.
    long = _timed_attempt(s, c, people["长题"], start, [(seeded["long"], 3, True), (q[0], 3, True), (q[1], 1.0, True),
                                                         (q[2], 1.0, True)])
    s.commit()

    flags = fairness.load(s, c.id, pd.DataFrame({"attempt_id": [bot.id, long.id],
                                                 "entrant_id": [people["机器"].id, people["长题"].id]}))
    got = {(row.attempt_id, row.fast_answers, row.fastest_ms) for row in flags.fast.itertuples()}
    # 3 s on the long question is too fast; 3 s on a short one is not.
    assert got == {(bot.id, 6, 400), (long.id, 3, 1000)}

    frames = read_frames(export_bytes(rt, c.id))
    sheet = frames[SHEET]
    assert sheet["核查类型"].tolist() == ["答题过快"] * 2
    assert sheet["姓名"].tolist() == ["机器", "长题"]  # fastest first, then by attempt
    assert sheet["答卷编号"].tolist() == [bot.id, long.id]
    assert sheet["过快题数"].tolist() == [6, 3]
    assert sheet["最短间隔（秒）"].tolist() == pytest.approx([0.4, 1.0])
    assert sheet["说明"].str.contains("读题所需").all()
    assert sheet["设备标识或地址"].isna().all() and sheet["同设备或地址人数"].isna().all()  # blank, not 0 or "nan"
    # Flagged, never dropped: every entrant with a finished attempt is ranked.
    assert sorted(frames["成绩排名"]["姓名"]) == sorted(people)


def test_answers_of_one_millisecond_are_timed_in_the_order_stored(rt, seeded):
    # Four answers arrive together 2 s in (less than the 3.96 s their reading needs): the first
    # one stored gets the 2 s, the others no time at all. _timed_attempt stores the list's last answer first.
    s, c, unit, q, start = seeded["s"], seeded["contest"], seeded["units"][0], seeded["singles"], seeded["start"]
    wrong_first = _timed_attempt(s, c, add_entrant(s, c, unit), start, [
        (q[0], 2, True), (q[1], 0, True), (q[2], 0, True), (q[3], 0, False)])
    right_first = _timed_attempt(s, c, add_entrant(s, c, unit), start, [
        (q[3], 2, False), (q[0], 0, True), (q[1], 0, True), (q[2], 0, True)])
    s.commit()
    flags = fairness.load(s, c.id, pd.DataFrame({"attempt_id": [wrong_first.id, right_first.id],
                                                 "entrant_id": [wrong_first.entrant_id, right_first.entrant_id]}))
    assert flags.fast[["attempt_id", "fast_answers", "fastest_ms"]].values.tolist() == [[wrong_first.id, 3, 0]]


def test_speed_through_the_api_with_the_injected_clock(client, rt, clock):
    bank = make_bank(rt.session)
    unit = make_units(rt.session, 1)[0]
    contest = make_contest(rt, bank)

    def play(phone: str, seconds: float) -> int:
        token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                            json={"name": "答题人", "phone": phone, "unit_id": unit.id}).get_json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=auth).get_json()
        for shown in attempt["questions"]:
            clock.advance(seconds)
            r = client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{shown['id']}", headers=auth,
                           json={"answer": right_answer(rt.session, shown)})
            assert r.status_code == 200, r.get_json()
        assert client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=auth).status_code == 200
        return attempt["attempt_id"]

    hurried = play("13900000001", 0.25)
    play("13900000002", 8)  # a quick but human pace
    sheet = read_frames(export_bytes(rt, contest.id))[SHEET]
    assert sheet["答卷编号"].tolist() == [hurried]
    assert sheet["过快题数"].tolist() == [6] and sheet["最短间隔（秒）"].tolist() == [0.25]


def _enter(client, cid, unit_id, phone, device=None, address="10.0.0.1"):
    headers = {"X-Device-Id": device} if device is not None else {}
    response = client.post(f"/api/v1/contests/{cid}/entrants", headers=headers,
                           environ_base={"REMOTE_ADDR": address},
                           json={"name": f"人{phone[-2:]}", "phone": phone, "unit_id": unit_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_entrants_sharing_a_device_are_flagged_and_outside_clients_need_no_header(client, rt, seeded):
    cid, units = seeded["contest"].id, seeded["units"]
    shared = [_enter(client, cid, units[i % 2].id, f"1370000000{i}", device=DEVICE) for i in range(3)]
    pair = [_enter(client, cid, units[0].id, f"1371000000{i}", device="pair-BBBBBBBBBBBBBBBBBB") for i in range(2)]
    _enter(client, cid, units[0].id, "13720000000")  # no header: an outside client
    _enter(client, cid, units[0].id, "13720000001", device="=1+1 not an id")  # malformed: ignored
    # A pair member starts an attempt on the shared device, from another network: the attempt's
    # own device and address are recorded with it (not copied from the entry).
    r = client.post(f"/api/v1/contests/{cid}/attempts", environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers={
        "Authorization": f"Bearer {pair[0]['token']}", "X-Device-Id": DEVICE})
    assert r.status_code == 201
    recorded = rt.session.execute(select(EntryOrigin.entrant_id, EntryOrigin.attempt_id, EntryOrigin.device_id,
                                        EntryOrigin.client_address)).all()
    assert len(recorded) == 8
    assert [(o.attempt_id, o.device_id, o.client_address) for o in recorded if o.attempt_id] == [
        (r.get_json()["attempt_id"], DEVICE, "10.0.0.2")]
    assert {o.client_address for o in recorded if not o.attempt_id} == {"10.0.0.1"}
    assert sum(1 for o in recorded if o.device_id is None) == 2

    sheet = read_frames(export_bytes(rt, cid))[SHEET]
    assert set(sheet["核查类型"]) == {"同一设备多人"}
    flagged = {e["entrant_id"] for e in shared} | {pair[0]["entrant_id"]}
    names = dict(rt.session.execute(select(Entrant.id, Entrant.name)).all())
    assert sorted(sheet["姓名"]) == sorted(names[e] for e in flagged)
    assert (sheet["设备标识或地址"] == DEVICE).all() and (sheet["同设备或地址人数"] == 4).all()
    assert sheet["说明"].iloc[0] == "同一设备共 4 人报名或答题（2 个单位）"
    assert sheet[["答卷编号", "得分", "答卷用时", "过快题数", "最短间隔（秒）"]].isna().all().all()


def test_address_far_above_the_typical_count_is_flagged(rt, seeded):
    s, c, unit = seeded["s"], seeded["contest"], seeded["units"][0]
    # 100 entrants each on an address of their own (typical 1, so the limit is the floor, 60),
    # a workshop of 40 on one address (normal), and 61 on another (flagged).
    groups = [(f"10.1.0.{i}", 1) for i in range(100)] + [("10.2.0.1", 40), ("=HYPERLINK(\"x\")", 61)]
    for address, size in groups:
        for _ in range(size):
            entrant = add_entrant(s, c, unit)
            s.add(EntryOrigin(contest_id=c.id, entrant_id=entrant.id, client_address=address, seen_at=seeded["start"]))
    s.commit()
    data = export_bytes(rt, c.id)
    sheet = read_frames(data)[SHEET]
    assert len(sheet) == 61 and set(sheet["核查类型"]) == {"同一地址多人"}
    assert set(sheet["设备标识或地址"]) == {"=HYPERLINK(\"x\")"} and (sheet["同设备或地址人数"] == 61).all()
    assert "超过本竞赛上限 60 人" in sheet["说明"].iloc[0]
    cell = open_book(data)[SHEET]["J2"]
    assert cell.data_type == "s" and cell.quotePrefix  # an address is text, never a formula


def test_names_units_and_device_ids_stay_text(rt, seeded):
    s, c, start = seeded["s"], seeded["contest"], seeded["start"]
    unit = Unit(name="=HYPERLINK(\"http://x\",\"单位\")", headcount=10)
    s.add(unit)
    s.flush()
    device = "-AAAAAAAAAAAAAAAAAAAAA"  # well formed (URL-safe base64 may begin with "-"), yet risky in a cell
    assert origins.clean_device_id(device) == device
    for name in ["@SUM(1)", "+1", "\t=1+1"]:
        entrant = add_entrant(s, c, unit, name=name)
        s.add(EntryOrigin(contest_id=c.id, entrant_id=entrant.id, device_id=device, seen_at=start))
    s.commit()
    data = export_bytes(rt, c.id)
    sheet = open_book(data)[SHEET]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 3
    for row in rows:
        for cell in (row[1], row[3], row[9]):  # 姓名, 单位, 设备标识或地址
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    assert {row[9].value for row in rows} == {device} and {row[3].value for row in rows} == {unit.name}
    assert sorted(row[1].value for row in rows) == sorted(["@SUM(1)", "+1", "\t=1+1"])


def test_typical_sharing_raises_the_address_limit():
    # 200 entrants in workshops of 20: a 101-entrant address is far above that; 100 is not.
    sizes = pd.Series([20] * 10 + [101, 100])
    typical = fairness.typical_sharing(sizes)
    assert typical == 20 and fairness.address_limit(typical) == 100
    assert fairness.address_limit(fairness.typical_sharing(pd.Series([], dtype="int64"))) == 60


def test_a_few_big_addresses_do_not_raise_the_limit():
    # 300 workers on phones (an address each) and two factories' Wi-Fi holding more entrants
    # than all the phones together: the typical address still has one entrant, the limit
    # stays at the floor, and both factories are listed for staff to look at.
    sizes = pd.Series([1] * 300 + [400, 500])
    typical = fairness.typical_sharing(sizes)
    assert typical == 1 and fairness.address_limit(typical) == 60


def test_winners_with_a_flag_are_marked_and_keep_their_prize(rt, seeded, client):
    s, c, unit, q, start = seeded["s"], seeded["contest"], seeded["units"][0], seeded["singles"], seeded["start"]
    c.awards = {"tiers": [{"name": "一等奖", "top": 2}]}
    fast, calm, third = (add_entrant(s, c, unit, name=n) for n in ["快手", "稳健", "第三"])
    _timed_attempt(s, c, fast, start, [(qid, 0.5, True) for qid in q[:6]], score=6)
    _timed_attempt(s, c, calm, start, [(qid, 10, True) for qid in q[:5]], score=5)
    _timed_attempt(s, c, third, start, [(qid, 10, True) for qid in q[:4]], score=4)
    for entrant in (fast, calm, third):
        s.add(EntryOrigin(contest_id=c.id, entrant_id=entrant.id, device_id=DEVICE, seen_at=start))
    s.commit()
    data = export_bytes(rt, c.id)
    book = open_book(data)
    winners = book["获奖名单"]
    assert [cell.value for cell in winners[1]][-2:] == ["奖项", "核查"]
    rows = [[cell.value for cell in row] for row in winners.iter_rows(min_row=2)]
    assert [(r[1], r[7], r[8]) for r in rows] == [("快手", "一等奖", "答题过快、同一设备多人"),
                                                  ("稳健", "一等奖", "同一设备多人")]
    frames = read_frames(data)
    assert frames["成绩排名"]["姓名"].tolist() == ["快手", "稳健", "第三"]
    summary = dict(zip(frames["汇总"]["项目"], frames["汇总"]["内容"], strict=False))
    assert summary["公平性核查"].startswith("答题过快 1 份答卷（1 人）；同一设备多人 1 台设备（3 人）；同一地址多人 0 个地址（0 人）。")
    assert "25 字/秒" in summary["核查规则"] and "3 道及以上" in summary["核查规则"]


def test_a_contest_without_flags_has_the_sheet_with_zero_rows(rt, seeded):
    s, c, unit, q = seeded["s"], seeded["contest"], seeded["units"][0], seeded["singles"]
    _timed_attempt(s, c, add_entrant(s, c, unit), seeded["start"], [(qid, 12, True) for qid in q[:6]])
    s.commit()
    frames = read_frames(export_bytes(rt, c.id))
    assert frames[SHEET].empty and len(frames[SHEET].columns) == len(
        __import__("contest.reports.workbook", fromlist=["FAIRNESS_COLUMNS"]).FAIRNESS_COLUMNS)
    assert frames["获奖名单"].columns[-1] == "核查"
    summary = dict(zip(frames["汇总"]["项目"], frames["汇总"]["内容"], strict=False))
    assert summary["公平性核查"].startswith("答题过快 0 份答卷（0 人）；同一设备多人 0 台设备（0 人）")


def test_empty_contest_has_the_sheet_too(rt):
    contest = make_contest(rt, make_bank(rt.session))
    frames = read_frames(export_bytes(rt, contest.id))
    assert frames[SHEET].empty and "核查类型" in frames[SHEET].columns


def test_speed_flags_equal_a_pandas_recomputation(rt, seeded):
    s, c, units, start = seeded["s"], seeded["contest"], seeded["units"], seeded["start"]
    rng = random.Random(11)
    qids = seeded["singles"] + [seeded["long"]] + question_ids(s, seeded["bank"], "judge")
    for i in range(60):
        entrant = add_entrant(s, c, units[i % 2], name=f"职工{i:02d}")
        for _ in range(rng.randint(1, 2)):
            pace = rng.choice([0.3, 1.0, 2.5, 6.0])
            answers = [(qid, round(rng.uniform(0.2, 2) * pace, 3), rng.random() < 0.8) for qid in rng.sample(qids, 8)]
            _timed_attempt(s, c, entrant, start + timedelta(minutes=rng.randint(0, 600)), answers)
    s.commit()
    sheet = read_frames(export_bytes(rt, c.id))[SHEET]
    got = sorted(zip(sheet["答卷编号"], sheet["过快题数"], (sheet["最短间隔（秒）"] * 1000).round().astype(int),
                     strict=True))

    connection = s.connection()
    answers = pd.read_sql(text("SELECT an.attempt_id, an.question_id, an.received_at, an.is_correct, at.started_at "
                               "FROM answers an JOIN attempts at ON at.id = an.attempt_id WHERE at.contest_id = :cid"),
                          connection, params={"cid": c.id})
    questions = pd.read_sql(text("SELECT id, stem, options FROM questions"), connection)
    for column in ("received_at", "started_at"):
        answers[column] = pd.to_datetime(answers[column], utc=True, format="mixed")
    answers = answers.sort_values(["attempt_id", "received_at"])
    previous = answers.groupby("attempt_id")["received_at"].shift().fillna(answers["started_at"])
    answers["gap_ms"] = ((answers["received_at"] - previous) / pd.Timedelta(milliseconds=1)).round()
    options = questions["options"].map(lambda o: __import__("json").loads(o) if isinstance(o, str) else o)
    chars = questions["stem"].str.len() + options.map(lambda o: sum(map(len, o or [])))
    floor = pd.Series((1000 * (1 + chars / 25)).to_numpy(), index=questions["id"])
    answers["floor_ms"] = answers["question_id"].map(floor).where(answers["is_correct"].astype(bool))
    answers["fast"] = answers["gap_ms"] < answers["floor_ms"]
    answers["offset_ms"] = ((answers["received_at"] - answers["started_at"]) / pd.Timedelta(milliseconds=1)).round()
    whole = answers.groupby("attempt_id").agg(answered=("offset_ms", "max"), reading=("floor_ms", "sum"))
    fast = answers[answers["fast"]].groupby("attempt_id")["gap_ms"].agg(["size", "min"]).join(whole)
    fast = fast[(fast["size"] >= 3) & (fast["answered"] < fast["reading"])]
    expected = sorted((aid, int(row["size"]), int(row["min"])) for aid, row in fast.iterrows())
    assert got == expected and 5 < len(expected) < 100  # some flagged, not everyone


def test_purge_deletes_addresses_and_device_ids(client, rt, clock, seeded):
    cid, unit = seeded["contest"].id, seeded["units"][0].id
    for i in range(3):
        _enter(client, cid, unit, f"1373000000{i}", device=DEVICE)
    assert rt.session.scalar(select(func.count()).select_from(EntryOrigin)) == 3
    clock.set(seeded["contest"].ends_at + timedelta(minutes=1))
    privacy.purge_personal_data(rt, cid)
    assert rt.session.scalar(select(func.count()).select_from(EntryOrigin)) == 0
    assert rt.session.scalar(select(func.count()).select_from(Entrant).where(Entrant.client_address.is_not(None))) == 0
    assert read_frames(export_bytes(rt, cid))[SHEET].empty
