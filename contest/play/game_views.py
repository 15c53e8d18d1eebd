"""What the room sees of a live game: the question (no key), the result, the podium, snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from contest.clock import iso, to_ms
from contest.models import Game
from contest.play import papers
from contest.runtime import Runtime

TOP = 10
JUDGE_KEYS = ("true", "false")
# A right answer is worth up to FULL points (speed mode: HALF for being right, up to HALF more for speed).
FULL, HALF = 1000, 500


@dataclass
class Emit:
    """One frame for the socket layer to send: to a room, or to a single player (their own room)."""

    event: str
    body: dict
    room: str


@dataclass
class EmitEach:
    """One event with a body of its own for each of many rooms (every phone's own rank): sent as one batch."""

    event: str
    frames: list[tuple[str, dict]]  # (room, body)


@dataclass
class Outcome:
    """An acknowledgement and the frames the call caused."""

    ack: dict
    emits: list[Emit | EmitEach] = field(default_factory=list)
    game_id: int | None = None  # the game the call was about (the socket layer joins its rooms)


def game_room(gid: int) -> str:
    return f"game:{gid}"


def host_room(gid: int) -> str:
    return f"game:{gid}:host"


def player_room(gid: int, pid: int) -> str:
    return f"game:{gid}:p:{pid}"


def bank_question(rt: Runtime, game: Game, index: int) -> papers.BankQuestion:
    return papers.BANKS.questions(rt.session, game.bank_id)[game.questions[index]["qid"]]


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def question_body(rt: Runtime, game: Game, index: int, info: dict) -> dict:
    """game_question: what every screen shows of the open question; never the key."""
    question = bank_question(rt, game, index)
    item = game.questions[index]
    body = {
        "index": index,
        "count": len(game.questions),
        "type": question.type,
        "stem": question.stem,
        "options": list(question.options) if question.type in ("single", "multiple") else [],
        "deadline": iso(_from_ms(int(info["deadline_ms"]))),
        "server_time": iso(rt.clock.now()),
        "seconds": game.seconds,
        "points": int(item.get("points", 1)),
        "buzzer": bool(item.get("buzzer")),
        "paused": "paused_left_ms" in info,
    }
    if body["paused"]:
        body["left_ms"] = int(info["paused_left_ms"])
    return body


def entry_rows(rt: Runtime, gid: int, limit: int | None = TOP) -> list[dict]:
    """The board's first rows as {rank, player_id, name, unit, score}; equal scores share a rank."""
    board = rt.state.games.board(gid)
    players = rt.state.games.players(gid)
    rows, rank, last = [], 0, None
    for place, (pid, score) in enumerate(board, start=1):
        if score != last:
            rank, last = place, score
        if limit is not None and place > limit:
            break
        public = players.get(pid, {})
        rows.append({"rank": rank, "player_id": pid, "name": public.get("name", "?"),
                     "unit": public.get("unit", ""), "score": score})
    return rows


def correct_answer(question: papers.BankQuestion) -> object:
    return question.answer


def distribution(question: papers.BankQuestion, answers: dict[int, dict]) -> dict[str, int]:
    """How many chose each option (a multiple choice counts every letter picked); judge: true/false."""
    if question.type == "judge":
        counts = dict.fromkeys(JUDGE_KEYS, 0)
        for record in answers.values():
            counts["true" if record["a"] is True else "false"] += 1
        return counts
    counts = {papers_letter: 0 for papers_letter in "ABCDEFGH"[: len(question.options)]}
    for record in answers.values():
        for letter in record["a"]:
            counts[letter] = counts.get(letter, 0) + 1
    return counts


def buzz_rows(rt: Runtime, gid: int, index: int) -> list[dict]:
    """The buzz order as everyone sees it: place, name, unit, and the host's verdict so far."""
    players = rt.state.games.players(gid)
    judged = rt.state.games.judged(gid, index)
    rows = []
    for place, pid in enumerate(rt.state.games.buzz_order(gid, index), start=1):
        public = players.get(pid, {})
        rows.append({"place": place, "player_id": pid, "name": public.get("name", "?"),
                     "unit": public.get("unit", ""), "right": judged.get(pid)})
    return rows


def result_body(rt: Runtime, game: Game, index: int, skipped: bool = False) -> dict:
    """game_result: the key, the distribution and the top 10, once the question is closed."""
    question = bank_question(rt, game, index)
    answers = rt.state.games.answers(game.id, index)
    body = {
        "index": index,
        "count": len(game.questions),
        "type": question.type,
        "stem": question.stem,
        "options": list(question.options) if question.type in ("single", "multiple") else [],
        "correct_answer": correct_answer(question),
        "explanation": question.explanation,
        "distribution": distribution(question, answers),
        "answered": len(answers),
        "players": int(rt.state.games.info(game.id).get("players", 0)),
        "top": [_public_row(r) for r in entry_rows(rt, game.id)],
        "skipped": skipped,
        "last": index == len(game.questions) - 1,
    }
    if game.questions[index].get("buzzer"):
        body["buzz"] = buzz_rows(rt, game.id, index)
    return body


def _public_row(row: dict) -> dict:
    return {"rank": row["rank"], "name": row["name"], "unit": row["unit"], "score": row["score"]}


def unit_standings(rt: Runtime, game: Game) -> list[dict]:
    """Units ranked by their players' average (or total) points; players without a unit are left out."""
    players = rt.state.games.players(game.id)
    scores = dict(rt.state.games.board(game.id))
    units: dict[int, dict] = {}
    for pid, public in players.items():
        if not public.get("unit_id"):
            continue
        unit = units.setdefault(public["unit_id"], {"unit_id": public["unit_id"], "name": public["unit"],
                                                     "players": 0, "total": 0})
        unit["players"] += 1
        unit["total"] += scores.get(pid, 0)
    rows = []
    for unit in units.values():
        unit["average"] = round(unit["total"] / unit["players"], 1)
        unit["score"] = unit["average"] if game.unit_ranking == "avg" else unit["total"]
        rows.append(unit)
    rows.sort(key=lambda u: (-u["score"], u["name"]))
    for place, unit in enumerate(rows, start=1):
        unit["rank"] = place
    return rows


def over_body(rt: Runtime, game: Game) -> dict:
    """game_over: the podium (first three places), the top 10 and the unit standings."""
    top = entry_rows(rt, game.id)
    return {
        "podium": [_public_row(r) for r in top if r["rank"] <= 3],
        "top": [_public_row(r) for r in top],
        "units": unit_standings(rt, game),
        "unit_ranking": game.unit_ranking,
    }


def personal_rows(rt: Runtime, game: Game, index: int) -> list[tuple[int, dict]]:
    """(player, game_you body) for every seated player: own rank and points after a question."""
    answers = rt.state.games.answers(game.id, index)
    judged = rt.state.games.judged(game.id, index) if game.questions[index].get("buzzer") else {}
    board = rt.state.games.board(game.id)
    rows, rank, last = [], 0, None
    for place, (pid, score) in enumerate(board, start=1):
        if score != last:
            rank, last = place, score
        record = answers.get(pid)
        body = {"index": index, "rank": rank, "score": score, "players": len(board),
                "answered": record is not None or pid in judged,
                "correct": bool(record and record["c"]) or judged.get(pid) is True,
                "points": record["p"] if record else (buzz_points(game, index) if judged.get(pid) else 0)}
        rows.append((pid, body))
    return rows


def left_ms(rt: Runtime, info: dict) -> int:
    if "paused_left_ms" in info:
        return int(info["paused_left_ms"])
    return max(0, int(info.get("deadline_ms", 0)) - to_ms(rt.clock.now()))


def buzz_points(game: Game, index: int) -> int:
    """What a right answer after a buzz earns: full points times the question's multiplier."""
    return FULL * int(game.questions[index].get("points", 1))
