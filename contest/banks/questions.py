"""The canonical question, a fault that names its row, and the result of reading a bank file."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field

TYPES = ("single", "multiple", "judge", "fill")
TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}


@dataclass
class CanonicalQuestion:
    """A question as API.md defines it; `row` is where it came from (Excel's row number)."""

    type: str
    stem: str
    options: list[str]
    answer: list[str] | bool
    explanation: str = ""
    score: float = 1.0
    category: str = ""
    difficulty: str = ""
    row: int | None = None

    def canonical(self) -> dict:
        body = asdict(self)
        body.pop("row")
        if isinstance(self.score, float) and self.score.is_integer():
            body["score"] = int(self.score)
        return body

    @property
    def stem_key(self) -> str:
        return stem_key(self.stem)


@dataclass(frozen=True)
class Fault:
    row: int
    message: str
    sheet: str = ""  # named only when the file has several sheets of questions
    unit: str = "行"  # JSON files count questions, not rows

    def __str__(self) -> str:
        where = f"「{self.sheet}」表" if self.sheet else ""
        return f"{where}第{self.row}{self.unit}：{self.message}"


@dataclass
class LoadResult:
    """All questions read, every fault found, and each data row for the preview."""

    questions: list[CanonicalQuestion] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # [{"row", "sheet", "question": CanonicalQuestion | None, "faults": [Fault]}]
    rows: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults and bool(self.questions)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(TYPES, 0)
        for question in self.questions:
            counts[question.type] += 1
        return counts


_PUNCTUATION_OR_SPACE = re.compile(r"[\s\W_]+", re.UNICODE)


def stem_key(stem: str) -> str:
    """A stem folded for duplicate detection: width, case, spaces and punctuation do not count."""
    folded = _PUNCTUATION_OR_SPACE.sub("", unicodedata.normalize("NFKC", stem)).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()
