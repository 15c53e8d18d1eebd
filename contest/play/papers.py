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
from contest.numbers import whole_number

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
        number = whole_number(count)
        if qtype not in TYPES or number is None or number < 1:
            raise BadInput(f"组卷规则“{part}”有误，应为 single=10,multiple=5 这样的形式。", field="paper")
        rules.append(PaperRule(qtype, number, category.strip() or None))
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
    """Refuse rules the bank cannot satisfy, naming the type (and category). A paper never holds a
    question twice, and a question has one category: a category's rules together need that many
    questions of it, and all of a type's rules together that many of the type."""
    needed: dict[tuple[str, str | None], list[int]] = {}
    for rule in rules:
        for key in [(rule.type, rule.category)] + ([(rule.type, None)] if rule.category else []):
            needed.setdefault(key, []).append(rule.count)
    for (qtype, category), counts in needed.items():
        have = len(pools(questions, PaperRule(qtype, 1, category)))
        if have < sum(counts):
            where = f"（分类：{category}）" if category else ""
            need = f"组卷需要 {counts[0]} 道" if len(counts) == 1 else f"组卷的几条规则合计需要 {sum(counts)} 道"
            raise BadInput(f"题库中{TYPE_NAMES[qtype]}{where}只有 {have} 道，{need}。", field="paper")


def draw(questions: dict[int, BankQuestion], rules: list[PaperRule], shuffle_questions: bool,
         shuffle_options: bool, rng: random.Random) -> list[dict]:
    """An independent paper: [{"qid", "perm"}], perm[i] = bank option shown at position i."""
    check_rules(questions, rules)
    drawn: list[list[int]] = [[] for _ in rules]
    taken: dict[str, set[int]] = {}  # by type: rules overlap only within a type
    # A category's rules draw before its type's general ones, which take from what is left: the
    # other way round, a general rule could take the questions a category's rule needs.
    for index in sorted(range(len(rules)), key=lambda i: rules[i].category is None):
        rule = rules[index]
        pool, used = pools(questions, rule), taken.setdefault(rule.type, set())
        # A random order's first questions, skipping those already on the paper: uniform over the
        # rest, without copying a pool of thousands to leave them out.
        picked = rng.sample(pool, min(len(pool), rule.count + len(used)))
        drawn[index] = [qid for qid in picked if qid not in used][:rule.count]
        used.update(drawn[index])
    chosen = [qid for group in drawn for qid in group]  # in the rules' order
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
