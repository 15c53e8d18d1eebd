"""Drawing a paper by the contest's rules, and the public view of its questions (no key)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.errors import BadInput
from contest.models import Question

TYPES = ("single", "multiple", "judge", "fill")
TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}
# Questions of a bank change by appending, and a key by a correction (corrections.py: a second
# pass covers the copies still held elsewhere); a short cache spares a read on every start.
CACHE_SECONDS = 30


@dataclass(frozen=True)
class PaperRule:
    type: str
    count: int
    category: str | None = None

    def to_json(self) -> dict:
        return {"type": self.type, "count": self.count, "category": self.category}


def parse_rules(text: str) -> list[PaperRule]:
    """'single=10,multiple=5,judge=5' (optionally 'single:党的建设=3') into rules."""
    rules = []
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        name, _, count = part.partition("=")
        qtype, _, category = name.strip().partition(":")
        if qtype not in TYPES or not count.strip().isdigit() or int(count) < 1:
            raise BadInput(f"组卷规则“{part}”有误，应为 single=10,multiple=5 这样的形式。", field="paper")
        rules.append(PaperRule(qtype, int(count), category.strip() or None))
    if not rules:
        raise BadInput("组卷规则不能为空。", field="paper")
    return rules


def rules_from_json(raw: list[dict]) -> list[PaperRule]:
    return [PaperRule(r["type"], int(r["count"]), r.get("category")) for r in raw]


@dataclass(frozen=True)
class BankQuestion:
    id: int
    type: str
    stem: str
    options: list[str]
    answer: object
    explanation: str
    score: float
    category: str


class BankCopy(dict):
    """A cached bank's questions by id, remembering each rule's pool of question ids: every start
    draws from the same pools, and finding them scanned the whole bank (a 1,000-question bank:
    490 µs of CPU a paper with the scans, 184 µs without)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.pools: dict[PaperRule, list[int]] = {}


class BankCache:
    """Per-process copy of each bank's questions (read-only data, safe to hold per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._banks: dict[int, tuple[float, dict[int, BankQuestion]]] = {}
        self._loading: set[int] = set()

    def questions(self, session: Session, bank_id: int) -> dict[int, BankQuestion]:
        with self._lock:
            cached = self._banks.get(bank_id)
            if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
                return cached[1]
            # Expired: one request reloads, the others go on with the old copy (under load, a
            # crowd of requests all reloading at once queued for the pool every 30 s).
            if cached and bank_id in self._loading:
                return cached[1]
            self._loading.add(bank_id)
        try:
            return self._load(session, bank_id)
        finally:
            with self._lock:
                self._loading.discard(bank_id)

    def _load(self, session: Session, bank_id: int) -> dict[int, BankQuestion]:
        rows = session.execute(
            select(Question.id, Question.type, Question.stem, Question.options, Question.answer,
                   Question.explanation, Question.score, Question.category)
            .where(Question.bank_id == bank_id)
        ).all()
        questions = BankCopy((row.id, BankQuestion(*row)) for row in rows)
        with self._lock:
            self._banks[bank_id] = (time.monotonic(), questions)
        return questions

    def forget(self, bank_id: int) -> None:
        """Drop a bank's copy after its questions changed (this process; others expire)."""
        with self._lock:
            self._banks.pop(bank_id, None)


BANKS = BankCache()


def pools(questions: dict[int, BankQuestion], rule: PaperRule) -> list[int]:
    """The ids of the questions `rule` draws from, in order (not to be changed by the caller)."""
    known = questions.pools if isinstance(questions, BankCopy) else {}
    if rule not in known:
        known[rule] = sorted(
            q.id for q in questions.values()
            if q.type == rule.type and (rule.category is None or q.category == rule.category)
        )
    return known[rule]


def check_rules(questions: dict[int, BankQuestion], rules: list[PaperRule]) -> None:
    """Refuse rules the bank cannot satisfy, naming the type (and category)."""
    for rule in rules:
        have = len(pools(questions, rule))
        if have < rule.count:
            where = f"（分类：{rule.category}）" if rule.category else ""
            raise BadInput(
                f"题库中{TYPE_NAMES[rule.type]}{where}只有 {have} 道，组卷需要 {rule.count} 道。",
                field="paper",
            )


def draw(questions: dict[int, BankQuestion], rules: list[PaperRule], shuffle_questions: bool,
         shuffle_options: bool, rng: random.Random) -> list[dict]:
    """An independent paper: [{"qid", "perm"}], perm[i] = bank option shown at position i."""
    check_rules(questions, rules)
    chosen: list[int] = []
    for rule in rules:
        pool = pools(questions, rule)
        if chosen:  # rules may overlap (a type, and a category of it): no question twice
            taken = set(chosen)
            pool = [qid for qid in pool if qid not in taken]
        chosen.extend(rng.sample(pool, rule.count))
    if shuffle_questions:
        rng.shuffle(chosen)
    paper = []
    for qid in chosen:
        perm = list(range(len(questions[qid].options)))
        if shuffle_options and questions[qid].type in ("single", "multiple"):
            rng.shuffle(perm)
        paper.append({"qid": qid, "perm": perm})
    return paper


def public_question(question: BankQuestion, perm: list[int]) -> dict:
    """What a worker sees: no key, no explanation, no score."""
    return {
        "id": question.id,
        "type": question.type,
        "stem": question.stem,
        "options": [question.options[i] for i in perm],
    }
