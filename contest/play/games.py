"""Live games (现场竞赛): create a game from a bank, seat players by PIN, take answers and buzzes.

The server's deadline owns the clock. An answer is taken by one Redis script (open question,
before the deadline, once per player), written to SQL, and only then acknowledged. Host
actions and closing live in `game_flow`; what the room sees in `game_views`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
import threading
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contest.clock import iso, to_ms
from contest.errors import BadInput, Conflict, Forbidden, NotFound, TooMany, Unauthorized
from contest.models import Bank, Game, GameAnswer, GamePlayer, GameRosterEntry, Unit
from contest.numbers import whole_number
from contest.play import game_record, game_roster, game_store, game_views, papers, scoring
from contest.play.entry import hash_token
from contest.play.game_views import Emit, Outcome
from contest.play.roster import RosterRow
from contest.runtime import Runtime
from contest.state.games import CLOSED, NOT_BUILT, REPEATED, WRONG_KIND

PLAYABLE = ("single", "multiple", "judge")  # phones show options only, so no fill-in questions
MAX_NAME = 20
MAX_QUESTIONS = 100
SCORING = ("speed", "plain")
_rng = random.SystemRandom()

# Joins: (limit, window_s). Wrong PINs per address stop walking the PIN space (300 guesses among a
# million PINs with a handful of live games: about one chance in a thousand per address and window);
# the allowances are sized for a hall of workers behind one NAT address typing a PIN at once.
JOIN_ALLOWANCES = {"bad_pin": (300, 600), "join_addr": (5000, 600), "join_pin": (6000, 600)}


@dataclass
class GameSettings:
    bank_id: int
    seconds: int = 20
    count: int | None = None                 # draw this many playable questions at random ...
    question_ids: list[int] | None = None    # ... or play these, in this order ...
    rules: list[papers.PaperRule] | None = None  # ... or draw by rules (single=5,judge=3, with 分类)
    scoring: str = "speed"
    streak_bonus: bool = False
    unit_ranking: str = "avg"
    title: str = "现场竞赛"
    doubled: set[int] = field(default_factory=set)   # 1-based positions worth double points
    buzzer: set[int] = field(default_factory=set)    # 1-based positions played as buzzer rounds
    mask_names: bool = True
    max_players: int = 5000
    created_by: int | None = None
    roster: list[RosterRow] | None = None  # people who may join (roster-only game); None: anyone with the PIN


def _pick(rt: Runtime, settings: GameSettings) -> list[int]:
    bank = papers.BANKS.questions(rt.session, settings.bank_id)
    playable = sorted(q.id for q in bank.values() if q.type in PLAYABLE)
    if settings.question_ids:
        for qid in settings.question_ids:
            if qid not in bank:
                raise BadInput(f"题目 {qid} 不在所选题库中。", field="questions")
            if bank[qid].type not in PLAYABLE:
                raise BadInput(f"题目 {qid} 是填空题，现场竞赛只能用选择题和判断题。", field="questions")
        return list(settings.question_ids)
    if settings.rules:
        for rule in settings.rules:
            if rule.type not in PLAYABLE:
                raise BadInput("现场竞赛只能用单选、多选和判断题（不能抽填空题）。", field="rules")
        drawn = papers.draw(bank, settings.rules, shuffle_questions=True, shuffle_options=False, rng=_rng)
        return [item["qid"] for item in drawn]
    count = settings.count or 0
    if count < 1:
        raise BadInput("请填写题数（至少 1 道）。", field="questions")
    if count > len(playable):
        raise BadInput(f"题库中可用于现场竞赛的选择题和判断题只有 {len(playable)} 道。", field="questions")
    return _rng.sample(playable, count)


def host_token_for(secret: str, game: Game) -> str:
    """The game's host token, derived from the app's secret so the admin pages can show it again
    (only its hash is stored)."""
    digest = hmac.new(secret.encode(), f"jd-game-host:{game.id}:{game.pin}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def create_game(rt: Runtime, settings: GameSettings, secret: str | None = None) -> tuple[Game, str]:
    """A new game in the lobby, its PIN reserved among live games; returns (game, host_token).

    With the app's secret the host token can be derived again later; without, it is random.
    """
    if rt.session.get(Bank, settings.bank_id) is None:
        raise BadInput("所选题库不存在。", field="bank")
    if not 5 <= settings.seconds <= 600:
        raise BadInput("每题时间应在 5 到 600 秒之间。", field="seconds")
    if settings.scoring not in SCORING:
        raise BadInput("计分方式应为 speed（按速度）或 plain（只计对错）。", field="scoring")
    if settings.unit_ranking not in ("avg", "sum"):
        raise BadInput("单位排名方式应为 avg（平均分）或 sum（总分）。", field="unit_ranking")
    if settings.roster and not settings.mask_names:
        # Listed players sit under the list's real names: unmasked, the big screen and every
        # phone would show them in full.
        raise BadInput("设定参赛名单的场次按名单上的真实姓名入座，大屏只能显示姓氏（如 张*）："
                       "请不要同时选择「选手填写昵称」。", field="nicknames")
    qids = _pick(rt, settings)
    if len(qids) > MAX_QUESTIONS:
        raise BadInput(f"一场现场竞赛最多 {MAX_QUESTIONS} 道题。", field="questions")
    for label, positions in (("翻倍题", settings.doubled), ("抢答题", settings.buzzer)):
        if any(not 1 <= p <= len(qids) for p in positions):
            raise BadInput(f"{label}题号应在 1 到 {len(qids)} 之间。", field="doubled" if label == "翻倍题" else "buzzer")
    questions = [{"qid": qid, "points": 2 if i + 1 in settings.doubled else 1, "buzzer": i + 1 in settings.buzzer}
                 for i, qid in enumerate(qids)]
    title = " ".join((settings.title or "").split())[:200] or "现场竞赛"
    game = Game(pin="------", title=title, bank_id=settings.bank_id, questions=questions, seconds=settings.seconds,
                scoring=settings.scoring, streak_bonus=settings.streak_bonus, unit_ranking=settings.unit_ranking,
                max_players=settings.max_players, mask_names=settings.mask_names,
                host_token_hash="-", created_by=settings.created_by)
    rt.session.add(game)
    rt.session.flush()
    if settings.roster:
        game_roster.store(rt.session, game.id, settings.roster)
    for _ in range(200):
        pin = f"{_rng.randrange(10**6):06d}"
        if rt.state.games.claim_pin(pin, game.id):
            break
    else:
        raise Conflict("暂时无法分配 PIN 码，请稍后再试。", code="no_pin")
    game.pin = pin
    host_token = host_token_for(secret, game) if secret else secrets.token_urlsafe(24)
    game.host_token_hash = hash_token(host_token)
    rt.session.commit()
    game_record.rebuild(rt, game)
    return game, host_token


# Finding games and players -------------------------------------------------------------------

def _pin_text(pin: object) -> str:
    text = str(pin or "").strip()
    if len(text) != 6 or not text.isdigit():
        raise BadInput("PIN 码应为 6 位数字。", code="bad_pin", field="pin")
    return text


def find_game(rt: Runtime, pin: object) -> Game:
    """The live game behind a PIN (its Redis state rebuilt from SQL if lost), or 404."""
    pin = _pin_text(pin)
    gid = rt.state.games.game_for_pin(pin)
    game = rt.session.get(Game, gid) if gid else None
    if game is None:
        game = rt.session.scalar(select(Game).where(Game.pin == pin, Game.state != "over").order_by(Game.id.desc()))
    if game is None:
        raise NotFound("没有找到这个 PIN 码对应的现场竞赛。", code="game_not_found")
    ensure_built(rt, game)
    return game


def ensure_built(rt: Runtime, game: Game | GameFacts) -> dict:
    info = rt.state.games.info(game.id)
    if not info:  # Redis lost the game: every request that notices waits for one rebuild
        with rt.state.games.rebuild_lock(game.id):
            info = rt.state.games.info(game.id)
            if not info:
                game_record.rebuild(rt, rt.session.get(Game, game.id))
                info = rt.state.games.info(game.id)
    return info


@dataclass(frozen=True)
class GameFacts:
    """What never changes once a game is made: safe to keep per process, read on every answer."""

    id: int
    pin: str
    title: str
    bank_id: int
    questions: list
    seconds: int
    scoring: str
    streak_bonus: bool
    unit_ranking: str
    mask_names: bool
    made: str  # the game's fingerprint, also in its Redis hash: a cached entry of another game never matches


class _FactsCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[int, GameFacts] = {}

    def get(self, rt: Runtime, gid: int, made: str | None = None) -> GameFacts | None:
        """The facts of game `gid`; read again from SQL when `made` (from Redis) names another game
        (ids are reused by a new database, as in tests, or after restoring a backup)."""
        with self._lock:
            facts = self._facts.get(gid)
        if facts is None or (made is not None and facts.made != made):
            game = rt.session.get(Game, gid)
            if game is None:
                return None
            facts = GameFacts(game.id, game.pin, game.title, game.bank_id, game.questions, game.seconds,
                              game.scoring, game.streak_bonus, game.unit_ranking, game.mask_names,
                              game_record.fingerprint(game))
            with self._lock:
                if len(self._facts) > 1000:
                    self._facts.clear()
                self._facts[gid] = facts
        return facts


FACTS = _FactsCache()


def seat_fast(rt: Runtime, pin: object, token: object) -> tuple[GameFacts, int, dict]:
    """(facts, player id, game hash) in two Redis round trips and no SQL: the path of every answer."""
    pin = _pin_text(pin)
    if not isinstance(token, str) or not token:
        raise Unauthorized("请先加入游戏。", code="no_token")
    gid = rt.state.games.game_for_pin(pin)
    facts = FACTS.get(rt, gid) if gid else None
    if facts is None:  # Redis lost the PIN: find the game in SQL (and rebuild its state)
        try:
            gid = find_game(rt, pin).id
        except NotFound:  # answered as a bad seat, so only game_join (rate-limited) tells which PINs exist
            raise _no_seat() from None
        facts = FACTS.get(rt, gid)
    info, pid = rt.state.games.info_and_player(gid, hash_token(token))
    if not info:
        info = ensure_built(rt, facts)
        pid = rt.state.games.player_for_token(gid, hash_token(token))
    if info.get("made") != facts.made:
        facts = FACTS.get(rt, gid, info.get("made", ""))
    if pid is None or facts is None:
        raise _no_seat()
    return facts, pid, info


def _no_seat() -> Unauthorized:
    return Unauthorized("座位已失效（可能已被主持人移出或比赛已结束），请重新加入。", code="bad_token")


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadInput("请填写姓名。", field="name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise BadInput(f"姓名不能超过 {MAX_NAME} 个字。", field="name")
    return name


def _take(rt: Runtime, scope: str, subject: str) -> bool:
    limit, window = JOIN_ALLOWANCES[scope]
    return rt.state.limits.take([(f"game_{scope}", subject)], limit, window)


def join(rt: Runtime, pin: object, name: object, unit_id: object, address: str | None = None,
         phone: object = None) -> Outcome:
    """A seat: {"player_id", "token"}; the host screens see a new player arrive.

    In a roster-only game the phone must be on the list with this name; the seat takes the list's
    name and unit, and the same phone joining again takes back its seat with a new token.
    """
    address = address or "-"
    # Only wrong PINs count (checked before, counted after), so a hall joining at once is not refused.
    if rt.state.limits.tries("game_bad_pin", address) >= JOIN_ALLOWANCES["bad_pin"][0]:
        raise TooMany("PIN 码错误次数过多，请稍后再试。", code="rate_limited")
    try:
        game = find_game(rt, pin)
    except NotFound:
        _take(rt, "bad_pin", address)
        raise
    if not (_take(rt, "join_addr", address) and _take(rt, "join_pin", game.pin)):
        raise TooMany("加入过于频繁，请稍后再试。", code="rate_limited")
    if game.state == "over":
        raise Forbidden("本场现场竞赛已结束。", code="game_over")
    name = _clean_name(name)
    listed = game_roster.find(rt.session, game.id, name, phone)
    if listed is None:
        return _seat_new(rt, game, name, _unit(rt, unit_id), address)
    with rt.state.games.seat_lock(game.id, listed.id):
        rt.session.refresh(listed)  # another join of this phone may have taken the seat while we waited
        if listed.player_id is not None:
            return _reseat(rt, game, listed.player_id)
        unit = rt.session.get(Unit, listed.unit_id) if listed.unit_id else None
        return _seat_new(rt, game, listed.name, unit, address, listed)


def _seat_new(rt: Runtime, game: Game, name: str, unit: Unit | None, address: str,
              listed: GameRosterEntry | None = None) -> Outcome:
    ensure_built(rt, game)
    if not rt.state.games.reserve_seat(game.id, game.max_players):
        raise Forbidden("本场人数已满。", code="game_full")
    try:
        token = secrets.token_urlsafe(24)
        player = GamePlayer(game_id=game.id, name=name, unit_id=unit.id if unit else None,
                            token_hash=hash_token(token), joined_at=rt.clock.now(), client_address=address[:64])
        player.unit = unit
        rt.session.add(player)
        rt.session.flush()
        if listed is not None and not game_roster.claim(rt.session, listed, player.id):
            raise Conflict("该手机号正在另一台设备上加入，请稍后再试。", code="seat_busy")  # the lock makes this rare
        rt.session.commit()
    except BaseException:
        rt.session.rollback()
        rt.state.games.release_seat(game.id)
        raise
    public = game_record.public_player(game, player)
    count = rt.state.games.add_player(game.id, player.id, player.token_hash, public)
    joined = {"player_id": player.id, "name": public["name"], "unit": public["unit"], "count": count}
    return Outcome({"player_id": player.id, "token": token},
                   [Emit("game_player_joined", joined, game_views.host_room(game.id))], game.id)


def _unit(rt: Runtime, unit_id: object) -> Unit | None:
    if unit_id in (None, ""):
        return None
    number = whole_number(unit_id)
    unit = rt.session.get(Unit, number) if number is not None and 0 < number < 2**31 else None
    if unit is None:
        raise BadInput("所选单位不存在。", field="unit_id")
    return unit


def _reseat(rt: Runtime, game: Game, pid: int) -> Outcome:
    """A listed phone back from another device: its seat with a new token; the old one stops working."""
    player = rt.session.get(GamePlayer, pid)
    if player.removed:
        raise Forbidden("您已被主持人移出本场。", code="player_removed")
    token = secrets.token_urlsafe(24)
    old, player.token_hash = player.token_hash, hash_token(token)
    rt.session.commit()
    ensure_built(rt, game)
    rt.state.games.move_token(game.id, pid, old, player.token_hash)
    return Outcome({"player_id": pid, "token": token}, [], game.id)


def seat(rt: Runtime, pin: object, token: object) -> tuple[GameFacts, int]:
    """(game facts, player id) for a PIN and a player token, or an error."""
    facts, pid, _ = seat_fast(rt, pin, token)
    return facts, pid


def snapshot(rt: Runtime, game: Game | GameFacts, pid: int | None) -> dict:
    """Where the game stands, for a player rejoining (pid) or a host screen (None)."""
    info = ensure_built(rt, game)
    state, index = info["state"], int(info["index"])
    body: dict = {"state": state, "index": index, "count": len(game.questions), "title": game.title,
                  "server_time": iso(rt.clock.now()), "players": int(info.get("players", 0)),
                  "answered": False, "score": 0}
    buzzer = state == "question" and bool(game.questions[index].get("buzzer"))
    if pid is not None:
        public = rt.state.games.player(game.id, pid) or {}
        body.update(player_id=pid, name=public.get("name"), unit=public.get("unit"),
                    score=rt.state.games.score(game.id, pid), rank=rt.state.games.rank(game.id, pid))
        if state == "question":
            if buzzer:
                body["answered"] = pid in rt.state.games.buzz_order(game.id, index)
            else:
                body["answered"] = rt.state.games.answer_of(game.id, index, pid) is not None
    if state == "question":
        question = game_views.question_body(rt, game, index, info)
        body.update(question=question, deadline=question["deadline"], paused=question["paused"],
                    left_ms=game_views.left_ms(rt, info), answer_count=rt.state.games.answer_count(game.id, index))
        if buzzer:
            body["buzz"] = game_views.buzz_rows(rt, game.id, index)
    elif state == "result" and index >= 0:
        body["result"] = game_views.result_body(rt, game, index)
    elif state == "over":
        body["over"] = game_views.over_body(rt, game)
    return body


def _points(game: GameFacts, index: int, right: bool, left_ms: int, streak: int) -> int:
    if not right:
        return 0
    multiplier = int(game.questions[index].get("points", 1))
    if game.scoring == "plain":
        points = game_views.FULL * multiplier
    else:
        total = game.seconds * 1000
        points = round(multiplier * (game_views.HALF + game_views.HALF * min(left_ms, total) / total))
    if game.streak_bonus:
        points += 100 * min(streak, 5)  # Kahoot-like: +100 per answer in a row before this one, up to 500
    return points


def _refusal(code: int) -> Conflict:
    if code == REPEATED:
        return Conflict("本题已作答，不能重复提交。", code="already_answered")
    if code == WRONG_KIND:
        return Conflict("本题为抢答题，请按抢答按钮。", code="wrong_kind")
    return Conflict("本题作答时间已过。", code="deadline_passed")


def _index(value: object) -> int:
    """A question's position as the phone sent it; not 1e999, 0.9 or true."""
    index = whole_number(value)
    if index is None:
        raise BadInput("请指明题号。", field="index")
    return index


def answer(rt: Runtime, pin: object, token: object, index: object, given: object) -> tuple[Outcome, bool]:
    """{"accepted": true} once per player and question before the deadline; (outcome, all answered)."""
    game, pid, info = seat_fast(rt, pin, token)
    index = _index(index)
    if info.get("state") != "question" or int(info["index"]) != index:
        raise _refusal(CLOSED)
    question = game_views.bank_question(rt, game, index)
    canonical = scoring.check_shape(question.type, len(question.options), given)
    right, _ = scoring.mark(question.type, question.answer, canonical, 1, False)
    now = rt.clock.now()
    left = game_views.left_ms(rt, info)
    streak = rt.state.games.streak(game.id, pid, index) if game.streak_bonus else 0
    points = _points(game, index, right, left, streak)
    elapsed = max(0, game.seconds * 1000 - left)
    record = {"a": canonical, "p": points, "c": 1 if right else 0, "ms": elapsed}
    taken = rt.state.games.accept(game.id, index, pid, record, to_ms(now), game_record.GRACE_MS)
    if taken == NOT_BUILT:
        game_record.rebuild(rt, rt.session.get(Game, game.id))
        taken = rt.state.games.accept(game.id, index, pid, record, to_ms(now), game_record.GRACE_MS)
    if taken < 0:
        raise _refusal(taken)
    # In SQL before the acknowledgement; a row already there (a rebuild took it from SQL) stays: still once.
    rt.session.commit()  # the pooled connection goes back before waiting on the writer (see attempts)
    game_store.store(rt.session.get_bind(), {
        "game_id": game.id, "player_id": pid, "question_index": index, "question_id": question.id,
        "answer": canonical, "received_at": now, "elapsed_ms": elapsed, "is_correct": right, "points": points})
    players = int(info.get("players", 0))
    emits = []
    if taken == players or taken % max(1, players // 50) == 0:  # a few dozen progress frames per question
        emits.append(Emit("game_progress", {"index": index, "answered": taken, "players": players},
                          game_views.host_room(game.id)))
    return Outcome({"accepted": True}, emits), taken >= players


def buzz(rt: Runtime, pin: object, token: object, index: object) -> Outcome:
    """A buzz on a buzzer question: the place is fixed at arrival and the order shown to all."""
    game, pid, info = seat_fast(rt, pin, token)
    index = _index(index)
    now = rt.clock.now()
    place = rt.state.games.buzz(game.id, index, pid, to_ms(now), game_record.GRACE_MS)
    if place == WRONG_KIND:
        raise Conflict("本题不是抢答题。", code="wrong_kind")
    if place == REPEATED:
        raise Conflict("您已抢答，请等待。", code="already_buzzed")
    if place < 0:
        raise _refusal(CLOSED)
    started = int(info.get("deadline_ms", to_ms(now))) - game.seconds * 1000  # (a pause shifts it; fine for a record)
    question = game_views.bank_question(rt, game, index)
    rt.session.add(GameAnswer(game_id=game.id, player_id=pid, question_index=index, question_id=question.id,
                              answer={"buzz": place + 1}, received_at=now, elapsed_ms=max(0, to_ms(now) - started),
                              is_correct=None, points=0))
    try:
        rt.session.commit()
    except IntegrityError:
        rt.session.rollback()
    order = {"index": index, "order": game_views.buzz_rows(rt, game.id, index)}
    return Outcome({"accepted": True, "place": place + 1}, [Emit("game_buzz", order, game_views.game_room(game.id))])
