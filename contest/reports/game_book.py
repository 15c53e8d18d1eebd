"""A live game's workbook (现场竞赛): players, units and questions, from the SQL record.

Player totals are `GamePlayer.score` / `correct` (sums of the settled answer rows); equal
scores share a place, as on the big screen. Buzzer answers (`{"buzz": n}`) count as
answered but have no chosen option.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import IO

import pandas as pd
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.errors import NotFound
from contest.models import Game, GameAnswer, GamePlayer, GameRosterEntry, Question, Unit
from contest.reports.safe_cells import clean_text, text_cell
from contest.reports.workbook import (
    CENTER,
    DECIMAL,
    LEFT,
    MOMENT,
    PERCENT,
    TYPE_NAMES,
    _cell,
    _filter,
    _sheet,
    answer_label,
    excel_moment,
)

STATES = {"lobby": "等待开始", "question": "答题中", "result": "公布答案", "over": "已结束"}


def players_frame(session: Session, gid: int) -> pd.DataFrame:
    """Seated players in place order: score, then correct answers, then who joined first."""
    rows = session.execute(
        select(GamePlayer.id, GamePlayer.name, Unit.name, GamePlayer.unit_id, GamePlayer.score, GamePlayer.correct,
               GamePlayer.joined_at, GameRosterEntry.phone)
        .outerjoin(Unit, GamePlayer.unit_id == Unit.id)
        .outerjoin(GameRosterEntry, GameRosterEntry.player_id == GamePlayer.id)
        .where(GamePlayer.game_id == gid, GamePlayer.removed.is_(False))
    ).all()
    frame = pd.DataFrame.from_records(rows, columns=["player_id", "name", "unit", "unit_id", "score", "correct",
                                                     "joined_at", "phone"])
    frame = frame.sort_values(["score", "correct", "player_id"], ascending=[False, False, True], kind="mergesort")
    frame["rank"] = frame["score"].rank(method="min", ascending=False).astype("int64") if len(frame) else []
    return frame.reset_index(drop=True)


def units_frame(players: pd.DataFrame, by: str) -> pd.DataFrame:
    """Units ranked by their players' average (or total) score, as the game's podium does."""
    seated = players[players["unit_id"].notna()]
    frame = seated.groupby(["unit_id", "unit"]).agg(players=("player_id", "size"), total=("score", "sum"),
                                                    average=("score", "mean")).reset_index()
    frame["key"] = frame["average"].round(1) if by == "avg" else frame["total"]
    frame = frame.sort_values(["key", "unit"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    frame["rank"] = range(1, len(frame) + 1)
    return frame


def question_rows(session: Session, game: Game, seated: set[int]) -> list[dict]:
    answers = session.execute(
        select(GameAnswer.player_id, GameAnswer.question_index, GameAnswer.answer, GameAnswer.is_correct,
               GameAnswer.elapsed_ms).where(GameAnswer.game_id == game.id)
    ).all()
    per_index: dict[int, list] = defaultdict(list)
    for player, index, answer, right, elapsed in answers:
        if player in seated:
            per_index[index].append((answer, right, elapsed))
    ids = [item["qid"] for item in game.questions]
    bank = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(ids)))}
    rows = []
    for index, item in enumerate(game.questions):
        question, given = bank.get(item["qid"]), per_index.get(index, [])
        right = sum(1 for _, ok, _ in given if ok)
        wrong = Counter(_key(a) for a, ok, _ in given if not ok and not (isinstance(a, dict) and "buzz" in a))
        favourite = wrong.most_common(1)
        rows.append({
            "index": index + 1, "type": question.type if question else "", "stem": question.stem if question else "",
            "answer": answer_label(question.type, question.answer, question.options) if question else "",
            "answered": len(given), "right": right, "rate": right / len(given) if given else 0.0,
            "elapsed": sum(e for _, _, e in given) / len(given) / 1000 if given else None,
            "wrong": answer_label(question.type, _unkey(favourite[0][0]), question.options)
            if favourite and question else None,
            "buzzer": bool(item.get("buzzer")),
        })
    return rows


def _key(answer: object) -> object:
    return tuple(sorted(answer)) if isinstance(answer, list) else answer


def _unkey(key: object) -> object:
    return list(key) if isinstance(key, tuple) else key


def write_game_workbook(session: Session, game: Game, target: str | IO[bytes], exported_at: datetime) -> None:
    players = players_frame(session, game.id)
    units = units_frame(players, game.unit_ranking)
    wb = Workbook(write_only=True)
    wb.properties.title = clean_text(game.title)

    ws = _sheet(wb, "汇总", [("项目", 16), ("内容", 60)])
    facts = [("名称", game.title), ("PIN 码", game.pin), ("状态", STATES.get(game.state, game.state)),
             ("题目数", len(game.questions)), ("每题时间（秒）", game.seconds),
             ("计分方式", "按速度计分（答对且越快得分越高）" if game.scoring == "speed" else "答对得分"),
             ("单位排名方式", "平均分" if game.unit_ranking == "avg" else "总分"),
             ("开始时间", game.started_at), ("结束时间", game.ended_at), ("选手数", len(players)),
             ("单位数", len(units)), ("导出时间", exported_at), ("说明", "时间均为北京时间；同分同名次。")]
    for label, value in facts:
        if isinstance(value, datetime):
            cell = _cell(ws, excel_moment(value), MOMENT, align=LEFT)
        elif isinstance(value, str):
            cell = text_cell(ws, value)
        else:
            cell = _cell(ws, value, align=LEFT) if value is not None else None
        ws.append([label, cell])

    listed = roster_rows(session, game.id)
    phones = [("手机号", 14)] if listed else []  # roster-only games: the list's phone, as in contest workbooks
    ws = _sheet(wb, "选手排名", [("名次", 7), ("姓名", 14), ("单位", 30), *phones, ("得分", 10), ("答对题数", 10),
                               ("加入时间", 21)])
    for row in players.itertuples(index=False):
        phone = [text_cell(ws, row.phone)] if listed else []
        ws.append([_cell(ws, row.rank, align=CENTER), text_cell(ws, row.name), text_cell(ws, row.unit), *phone,
                   row.score, row.correct, _cell(ws, excel_moment(row.joined_at.to_pydatetime()), MOMENT)])
    _filter(ws, 6 + len(phones), len(players))

    ws = _sheet(wb, "单位排名", [("排名", 7), ("单位名称", 30), ("选手数", 10), ("总分", 10), ("平均分", 10)])
    for row in units.itertuples(index=False):
        ws.append([_cell(ws, row.rank, align=CENTER), text_cell(ws, row.unit), row.players, row.total,
                   _cell(ws, float(row.average), DECIMAL)])
    _filter(ws, 5, len(units))

    columns = [("序号", 7), ("题型", 7), ("题干", 50), ("正确答案", 20), ("作答人数", 10), ("答对人数", 10),
               ("正确率", 9), ("平均用时（秒）", 14), ("最常选错误答案", 22), ("备注", 10)]
    ws = _sheet(wb, "题目统计", columns)
    rows = question_rows(session, game, set(players["player_id"]))
    for q in rows:
        ws.append([_cell(ws, q["index"], align=CENTER), TYPE_NAMES.get(q["type"], q["type"]), text_cell(ws, q["stem"]),
                   text_cell(ws, q["answer"]), q["answered"], q["right"], _cell(ws, q["rate"], PERCENT),
                   _cell(ws, q["elapsed"], "0.0") if q["elapsed"] is not None else None, text_cell(ws, q["wrong"]),
                   "抢答题" if q["buzzer"] else None])
    _filter(ws, len(columns), len(rows))

    if listed:  # who was on the list and who came
        ws = _sheet(wb, "参赛名单", [("序号", 7), ("姓名", 14), ("手机号", 14), ("单位", 30), ("是否参加", 10)])
        for number, (name, phone, unit, seated) in enumerate(listed, 1):
            ws.append([_cell(ws, number, align=CENTER), text_cell(ws, name), text_cell(ws, phone), text_cell(ws, unit),
                       "已参加" if seated else "未参加"])
        _filter(ws, 5, len(listed))
    wb.save(target)


def roster_rows(session: Session, gid: int) -> list[tuple]:
    """(姓名, 手机号, 单位, seated) of a roster-only game's list, in import order; [] for an open game."""
    return session.execute(
        select(GameRosterEntry.name, GameRosterEntry.phone, Unit.name, GameRosterEntry.player_id.is_not(None))
        .outerjoin(Unit, GameRosterEntry.unit_id == Unit.id)
        .where(GameRosterEntry.game_id == gid).order_by(GameRosterEntry.id)
    ).all()


def find_game(session: Session, gid: int) -> Game:
    game = session.get(Game, gid)
    if game is None:
        raise NotFound("没有这场现场竞赛。", code="game_not_found")
    return game
