"""The SQL record of live games, and rebuilding a game's Redis state from it.

Every answer and buzz is a `GameAnswer` row written before it is acknowledged; points are
settled on the row when its question closes (or when the host judges a buzz). Player
totals on `GamePlayer` are sums of those rows, so Redis can always be rebuilt from SQL.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select, update

from contest.clock import to_ms
from contest.models import Game, GameAnswer, GamePlayer
from contest.play import ranking
from contest.runtime import Runtime

# An answer arriving this long after the deadline still counts (transit from the phone).
GRACE_MS = 250


def public_player(game: Game, player: GamePlayer) -> dict:
    """How a player appears in frames and on the big screen."""
    name = ranking.mask_name(player.name) if game.mask_names else player.name
    return {"name": name, "unit": player.unit.name if player.unit else "", "unit_id": player.unit_id}


def fingerprint(game: Game) -> str:
    """Tells this game from another with the same id (a per-process cache checks it against Redis)."""
    return game.host_token_hash[:16]


def fields(game: Game, players: int) -> dict:
    """The game hash for the game's SQL row."""
    values = {"made": fingerprint(game), "state": game.state, "index": game.current_index, "count": len(game.questions),
              "players": players, "buzzer": 0}
    if game.state == "question":
        values["deadline_ms"] = to_ms(game.deadline)
        values["buzzer"] = 1 if game.questions[game.current_index].get("buzzer") else 0
        if game.paused_left_ms is not None:
            values["paused_left_ms"] = game.paused_left_ms
    return values


def rebuild(rt: Runtime, game: Game) -> None:
    """Write the game's whole live state from SQL (a new game, or Redis lost or flushed)."""
    seated = rt.session.scalars(
        select(GamePlayer).where(GamePlayer.game_id == game.id, GamePlayer.removed.is_(False))
    ).all()
    seated_ids = {p.id for p in seated}
    rows = rt.session.scalars(
        select(GameAnswer).where(GameAnswer.game_id == game.id).order_by(GameAnswer.question_index, GameAnswer.id)
    ).all()
    index = game.current_index
    open_question = game.state == "question"
    # The current question's answers and buzzes: to take more while it is open, and for its
    # distribution and buzz order while its result is shown.
    shown = game.state in ("question", "result")
    scores: dict[int, int] = dict.fromkeys(seated_ids, 0)
    runs: dict[int, tuple[int, int]] = {}
    current: dict[int, dict] = {}
    buzzes: list[tuple[int, int]] = []
    judged: dict[int, int] = {}
    for row in rows:
        if row.player_id not in seated_ids:
            continue
        if shown and row.question_index == index:
            if isinstance(row.answer, dict) and "buzz" in row.answer:
                buzzes.append((row.answer["buzz"], row.player_id))
                if row.is_correct is not None:
                    judged[row.player_id] = 1 if row.is_correct else 0
            else:
                current[row.player_id] = {"a": row.answer, "p": row.points, "c": 1 if row.is_correct else 0,
                                          "ms": row.elapsed_ms}
            if open_question:  # only a verdict is on the board yet; the answers' points come at the close
                if row.player_id in judged:
                    scores[row.player_id] += row.points
                continue
        scores[row.player_id] += row.points
        if row.is_correct and not (isinstance(row.answer, dict) and "buzz" in row.answer):
            run, last = runs.get(row.player_id, (0, -2))
            runs[row.player_id] = (run + 1 if last == row.question_index - 1 else 1, row.question_index)
    due = to_ms(game.deadline) + GRACE_MS if open_question and game.deadline else None
    rt.state.games.load(
        game.id, len(game.questions), fields(game, len(seated)),
        players={p.id: public_player(game, p) for p in seated},
        tokens={p.token_hash: p.id for p in seated},
        scores=scores,
        streaks={pid: f"{run}:{last}" for pid, (run, last) in runs.items()},
        answers=current, index=index, deadline_ms=due,
        buzzes=sorted(buzzes), judged=judged,
    )
    if game.state != "over":
        rt.state.games.claim_pin(game.pin, game.id)
    else:  # rebuilt for a late look at the podium: gone again as an over game's state goes
        rt.state.games.forget_later(game.id, game.pin, len(game.questions))


def void_question(rt: Runtime, game: Game, index: int) -> None:
    """A skipped question earns nothing."""
    rt.session.execute(
        update(GameAnswer).where(GameAnswer.game_id == game.id, GameAnswer.question_index == index)
        .values(points=0)
    )


def settle_totals(rt: Runtime, game: Game) -> None:
    """Player totals (points, right answers) from their answer rows."""
    sums = rt.session.execute(
        select(GameAnswer.player_id, func.coalesce(func.sum(GameAnswer.points), 0),
               func.count().filter(GameAnswer.is_correct.is_(True)))
        .where(GameAnswer.game_id == game.id).group_by(GameAnswer.player_id)
    ).all()
    totals = defaultdict(lambda: (0, 0), {pid: (int(points), int(right)) for pid, points, right in sums})
    players = rt.session.scalars(select(GamePlayer).where(GamePlayer.game_id == game.id)).all()
    for player in players:
        player.score, player.correct = totals[player.id]
