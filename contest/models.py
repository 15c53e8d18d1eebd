"""SQLAlchemy models: the durable record. Redis state is rebuilt from these."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which drops the zone) and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class AdminUser(Base):
    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # organizer: everything; staff: may only view and export.
    role: Mapped[str] = mapped_column(String(16), default="organizer")
    # Bumped on password change so older sessions end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)


class Unit(Base):
    """A work unit (单位) with its headcount (职工人数)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent_name: Mapped[str | None] = mapped_column(String(200))
    headcount: Mapped[int] = mapped_column(Integer, default=0)


class Bank(Base):
    __tablename__ = "banks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source_file: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    questions: Mapped[list[Question]] = relationship(back_populates="bank", order_by="Question.id")


class Question(Base):
    """A canonical question (see API.md); answer is a letter list, a bool or accepted texts."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank_id", "stem_key", name="uq_question_stem"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # single | multiple | judge | fill
    stem: Mapped[str] = mapped_column(Text)
    # The stem folded for duplicate detection (whitespace and punctuation width removed).
    stem_key: Mapped[str] = mapped_column(String(64))
    options: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[object] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=1.0)
    category: Mapped[str] = mapped_column(String(100), default="")
    difficulty: Mapped[str] = mapped_column(String(20), default="")
    source_row: Mapped[int | None] = mapped_column(Integer)
    bank: Mapped[Bank] = relationship(back_populates="questions")


class Contest(Base):
    __tablename__ = "contests"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    # Paper rules: [{"type": "single", "count": 10, "category": null}, ...]
    paper: Mapped[list] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    attempts_per_day: Mapped[int] = mapped_column(Integer, default=3)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    roster_only: Mapped[bool] = mapped_column(Boolean, default=False)
    review_after_submit: Mapped[bool] = mapped_column(Boolean, default=True)
    # best: the entrant's best attempt counts; daily_sum: each day's best is added up.
    ranking_mode: Mapped[str] = mapped_column(String(16), default="best")
    # Multiple choice: all-or-nothing, or half credit for a correct subset.
    partial_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    # Prize tiers and the 优秀组织奖 rule (the workbook issue); free-form JSON.
    awards: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    bank: Mapped[Bank] = relationship()


class RosterEntry(Base):
    """Who may enter a roster-only contest."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("contest_id", "phone", name="uq_roster_phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class Entrant(Base):
    """A worker in one contest; the same phone in the same contest is the same entrant."""

    __tablename__ = "entrants"
    __table_args__ = (UniqueConstraint("contest_id", "phone", name="uq_entrant_phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    # Where the entrant came from, for the fairness flags in the workbook.
    client_address: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[Unit] = relationship()


class EntrantToken(Base):
    """A bearer token (stored hashed); each entry makes a new one and keeps the old."""

    __tablename__ = "entrant_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    entrant_id: Mapped[int] = mapped_column(ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)


class EntryOrigin(Base):
    """Where an entry or a new attempt came from (address, the page's device id): for the
    workbook's fairness flags. A table of its own, so existing databases gain it at start-up."""

    __tablename__ = "entry_origins"
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    client_address: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # The daily limit cannot be raced past: slot runs 1..attempts_per_day for each day.
        UniqueConstraint("entrant_id", "day", "slot", name="uq_attempt_slot"),
        # At most one open attempt per entrant: open_marker is 1 while open, NULL after.
        UniqueConstraint("entrant_id", "open_marker", name="uq_attempt_open"),
        Index("ix_attempt_contest_status", "contest_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    day: Mapped[str] = mapped_column(String(10))  # contest-local YYYY-MM-DD
    slot: Mapped[int] = mapped_column(Integer)
    open_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | finished
    # The drawn paper: [{"qid": 1, "perm": [2, 0, 1, 3]}, ...]; perm maps shown → bank option.
    paper: Mapped[list] = mapped_column(JSON)
    # The bank the paper was drawn from (a contest's bank may be changed later).
    paper_bank: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    entrant: Mapped[Entrant] = relationship()
    # Held by the attempt once loaded: start → view and finish → result read the contest once.
    contest: Mapped[Contest] = relationship()


class Answer(Base):
    """The last answer received in time for one question of one attempt."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id", name="uq_answer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    # Mapped back to the bank's option letters (canonical form), whatever order was shown.
    answer: Mapped[object] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    points: Mapped[float | None] = mapped_column(Float)


class AnswerLog(Base):
    """Every accepted answer, append-only (issue 7): who, what, when by the server clock.

    Written in the transaction that stores the answer, so an acknowledged answer always has
    its row. Ids only, no names: purging personal data leaves it whole, and the ranking can be
    recomputed from it (`contest verify-ranking`). `id` is the sequence: for one question of
    one attempt, the highest id is the answer stored.
    """

    __tablename__ = "answer_log"
    __table_args__ = (Index("ix_answer_log_contest", "contest_id", "attempt_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(Integer)
    attempt_id: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(Integer)
    # As stored in answers: mapped back to the bank's option letters.
    answer: Mapped[object] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyCorrection(Base):
    """A question's key corrected after it may have been answered (更正答案), and what re-scoring did.

    Who and when, the key before and after; the counts are of the re-scoring at correction
    time (a second pass later re-scores what other processes marked meanwhile).
    """

    __tablename__ = "key_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    old_answer: Mapped[object] = mapped_column(JSON)
    new_answer: Mapped[object] = mapped_column(JSON)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    via: Mapped[str] = mapped_column(String(16), default="admin")  # admin | cli
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    answers_regraded: Mapped[int] = mapped_column(Integer, default=0)
    attempts_changed: Mapped[int] = mapped_column(Integer, default=0)


class QuestionEdit(Base):
    """A question's text edited after import (编辑题目): who, when, and each changed field as
    [before, after]. The key and the score change only through a correction, which re-scores."""

    __tablename__ = "question_edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    changes: Mapped[dict] = mapped_column(JSON)


class ExportLog(Base):
    __tablename__ = "export_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    contest_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    via: Mapped[str] = mapped_column(String(16), default="admin")  # admin | cli


class Game(Base):
    """A live game (现场竞赛): one host, a PIN room, questions played in step on a big screen.

    Redis holds the running clock; these columns are enough to resume after a restart.
    """

    __tablename__ = "games"
    id: Mapped[int] = mapped_column(primary_key=True)
    pin: Mapped[str] = mapped_column(String(6), index=True)
    title: Mapped[str] = mapped_column(String(200), default="现场竞赛")
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    # [{"qid": 12, "points": 1 | 2, "buzzer": false}, ...] in play order; points is the multiplier.
    questions: Mapped[list] = mapped_column(JSON)
    seconds: Mapped[int] = mapped_column(Integer, default=20)
    scoring: Mapped[str] = mapped_column(String(8), default="speed")  # speed | plain
    streak_bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_ranking: Mapped[str] = mapped_column(String(8), default="avg")  # avg | sum
    max_players: Mapped[int] = mapped_column(Integer, default=5000)
    # Names on the big screen and in frames are masked (张*) unless the host turns it off (nicknames).
    mask_names: Mapped[bool] = mapped_column(Boolean, default=True)
    host_token_hash: Mapped[str] = mapped_column(String(64))
    # lobby | question | result | over
    state: Mapped[str] = mapped_column(String(12), default="lobby")
    current_index: Mapped[int] = mapped_column(Integer, default=-1)
    question_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the clock is paused: what was left of the question's time.
    paused_left_ms: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bank: Mapped[Bank] = relationship()


class GamePlayer(Base):
    """A seat in a game: the token (hashed) lets the same phone rejoin the same seat."""

    __tablename__ = "game_players"
    __table_args__ = (Index("ix_game_player_game", "game_id", "removed"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Totals settled from the answer rows at the end (Redis keeps the running board).
    score: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    client_address: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[Unit | None] = relationship()


class GameRosterEntry(Base):
    """Who may join a roster-only game (a final for named people); `player_id` is their seat once taken.

    A game with any entries is roster-only: players join with a phone on the list.
    """

    __tablename__ = "game_roster_entries"
    __table_args__ = (UniqueConstraint("game_id", "phone", name="uq_game_roster_phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    player_id: Mapped[int | None] = mapped_column(ForeignKey("game_players.id", ondelete="SET NULL"), unique=True)


class GameAnswer(Base):
    """One player's answer (or buzz) to one question of a game, with the points it earned."""

    __tablename__ = "game_answers"
    __table_args__ = (UniqueConstraint("player_id", "question_index", name="uq_game_answer"),
                      Index("ix_game_answer_game", "game_id", "question_index"))
    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    player_id: Mapped[int] = mapped_column(ForeignKey("game_players.id", ondelete="CASCADE"))
    question_index: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    # Canonical form (bank letters, true/false); for a buzzer question {"buzz": order}.
    answer: Mapped[object] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer, default=0)
