"""Live games for the tests: a game over a small bank, Socket.IO test clients as phones and hosts."""

from __future__ import annotations

import json

from contest.play import game_live, games
from contest.play.live import NAMESPACE
from tests.play_support import make_bank, make_units

SECRET_FIELDS = {"correct_answer", "answer", "explanation", "is_correct", "correct"}


def make_game(rt, count=3, bank=None, **changes):
    """A game over a (fresh) bank playing `count` questions: single, judge, multiple, single, ..."""
    if bank is None:
        from contest.models import Bank
        bank = make_bank(rt.session, singles=4, multiples=2, judges=2, fills=1,
                         name=f"测试题库{rt.session.query(Bank).count()}")
    by_type = {}
    for q in bank.questions:
        by_type.setdefault(q.type, []).append(q.id)
    order = [by_type["single"][0], by_type["judge"][0], by_type["multiple"][0], by_type["single"][1],
             by_type["single"][2]][:count]
    settings = games.GameSettings(bank_id=bank.id, question_ids=order, **{"seconds": 20, **changes})
    game, host_token = games.create_game(rt, settings)
    return game, host_token


RIGHT = {"single": ["B"], "judge": True, "multiple": ["A", "C"]}
WRONG = {"single": ["A"], "judge": False, "multiple": ["A"]}


class Phone:
    """One player: a Socket.IO test client with its seat."""

    def __init__(self, app, pin: str):
        self.app, self.pin = app, pin
        self.sio = app.extensions["jd.socketio"].test_client(app, namespace=NAMESPACE)
        self.frames: list[dict] = []
        self.token = None
        self.player_id = None

    def emit(self, event: str, body: dict):
        return self.sio.emit(event, body, namespace=NAMESPACE, callback=True)

    def join(self, name: str, unit_id=None) -> dict:
        ack = self.emit("game_join", {"pin": self.pin, "name": name, "unit_id": unit_id})
        if "token" in ack:
            self.token, self.player_id = ack["token"], ack["player_id"]
        return ack

    def answer(self, index: int, answer) -> dict:
        return self.emit("game_answer", {"pin": self.pin, "token": self.token, "index": index, "answer": answer})

    def buzz(self, index: int) -> dict:
        return self.emit("game_buzz", {"pin": self.pin, "token": self.token, "index": index})

    def rejoin(self) -> dict:
        return self.emit("game_rejoin", {"pin": self.pin, "token": self.token})

    def received(self) -> list[dict]:
        """Every frame so far (kept), as {"name", "body"}."""
        self.frames += [{"name": f["name"], "body": f["args"][0]} for f in self.sio.get_received(NAMESPACE)]
        return self.frames

    def last(self, event: str) -> dict | None:
        bodies = [f["body"] for f in self.received() if f["name"] == event]
        return bodies[-1] if bodies else None


class Host(Phone):
    def __init__(self, app, pin: str, host_token: str):
        super().__init__(app, pin)
        self.host_token = host_token

    def act(self, action: str, **extra) -> dict:
        return self.emit("game_host", {"pin": self.pin, "host_token": self.host_token, "action": action, **extra})


def secret_fields(value) -> set[str]:
    """Field names anywhere in a frame that could carry the key."""
    found = set()
    if isinstance(value, dict):
        found |= SECRET_FIELDS & set(value)
        for item in value.values():
            found |= secret_fields(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_fields(item)
    return found


def close_due(app) -> int:
    return game_live.close_due_once(app)


def dumps(frames) -> str:
    return json.dumps(frames, ensure_ascii=False)


__all__ = ["Host", "Phone", "RIGHT", "WRONG", "make_game", "make_units", "secret_fields", "close_due", "dumps"]
