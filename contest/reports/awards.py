"""Prize tiers and the 优秀组织奖 rule, set per contest in `Contest.awards`.

    {"tiers": [{"name": "一等奖", "top": 10}, {"name": "二等奖", "top": 30},
               {"name": "优胜奖", "min_score": 80, "draw": 50, "seed": "2026-07-01"}],
     "org_award": {"min_participants": 5, "top": 10, "top_share": null,
                   "weights": {"coverage": 0.6, "scores": 0.3, "activity": 0.1} | null}}

Tiers are given in order, each to those not yet awarded, in rank order: `top` N takes the
next N (at or above `min_score` if set); `min_score` alone takes everyone left at or above
it; `draw` N draws N by lot among those left at or above `min_score`. The draw is
repeatable by anyone: each eligible entrant's ticket is SHA-256 of "<seed>:<entrant id>" in
hex, and the N smallest tickets win. The seed and every ticket are written in the workbook.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.orm import Session

from contest.errors import BadInput
from contest.models import Contest

WEIGHT_PARTS = {"coverage": "参与率", "scores": "平均最高分", "activity": "人均答题次数"}
ORG_AWARD_NAME = "优秀组织奖"


@dataclass
class Tier:
    name: str
    top: int | None = None
    min_score: float | None = None
    draw: int | None = None
    seed: str | None = None

    def to_json(self) -> dict:
        body = {"name": self.name}
        for key in ("top", "min_score", "draw", "seed"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body

    def describe(self) -> str:
        bound = f"得分不低于 {self.min_score:g} 分" if self.min_score is not None else ""
        if self.draw is not None:
            return f"{self.name}：在{bound or '其余参与者'}的人中抽签 {self.draw} 名（种子 {self.seed}）"
        if self.top is not None:
            return f"{self.name}：依次取 {self.top} 名" + (f"（须{bound}）" if bound else "")
        return f"{self.name}：其余{bound}者"


@dataclass
class OrgRule:
    min_participants: int = 1
    top: int | None = None
    top_share: float | None = None
    weights: dict[str, float] | None = None

    def to_json(self) -> dict:
        return {"min_participants": self.min_participants, "top": self.top, "top_share": self.top_share,
                "weights": self.weights}

    def count(self, eligible: int) -> int:
        """How many units are awarded among `eligible` (a share rounds up)."""
        if self.top is not None:
            return min(self.top, eligible)
        return min(eligible, math.ceil(eligible * (self.top_share or 0) - 1e-9))

    def describe(self) -> str:
        how = f"前 {self.top} 名" if self.top is not None else f"前 {self.top_share:.0%}（向上取整）"
        basis = "参与率" if not self.weights else "综合得分（" + "、".join(
            f"{WEIGHT_PARTS[k]}×{v:g}" for k, v in self.weights.items()) + "）"
        return f"参与人数不少于 {self.min_participants} 人的单位按{basis}排名，{how}获{ORG_AWARD_NAME}"


@dataclass
class AwardRules:
    tiers: list[Tier] = field(default_factory=list)
    org: OrgRule | None = None

    def to_json(self) -> dict:
        return {"tiers": [t.to_json() for t in self.tiers], "org_award": self.org.to_json() if self.org else None}


def _number(raw: object, label: str, field_name: str, *, whole: bool, minimum: float) -> float | int | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadInput(f"{label}应为数字。", field=field_name) from None
    if math.isnan(value) or math.isinf(value) or value < minimum or (whole and not value.is_integer()):
        kind = "整数" if whole else "数"
        raise BadInput(f"{label}应为不小于 {minimum:g} 的{kind}。", field=field_name)
    return int(value) if whole else value


def parse_rules(raw: dict | None) -> AwardRules:
    """Validate the JSON (from the contest, a form or the CLI); faults name the tier in Chinese."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise BadInput("奖项设置应为 JSON 对象。", field="awards")
    tiers, names = [], set()
    for number, item in enumerate(raw.get("tiers") or [], start=1):
        where = f"第 {number} 个奖项"
        if not isinstance(item, dict):
            raise BadInput(f"{where}的格式不对。", field="tiers")
        name = str(item.get("name") or "").strip()
        if not name:
            raise BadInput(f"{where}缺少名称。", field="tiers")
        if name in names:
            raise BadInput(f"奖项名称「{name}」重复。", field="tiers")
        names.add(name)
        tier = Tier(name=name,
                    top=_number(item.get("top"), f"{where}的名额", "tiers", whole=True, minimum=1),
                    min_score=_number(item.get("min_score"), f"{where}的最低分", "tiers", whole=False, minimum=0),
                    draw=_number(item.get("draw"), f"{where}的抽签名额", "tiers", whole=True, minimum=1),
                    seed=str(item["seed"]).strip() if item.get("seed") not in (None, "") else None)
        if tier.top is not None and tier.draw is not None:
            raise BadInput(f"{where}「{name}」不能同时按名次和抽签评定。", field="tiers")
        if tier.top is None and tier.draw is None and tier.min_score is None:
            raise BadInput(f"{where}「{name}」需设置名额、最低分或抽签名额。", field="tiers")
        tiers.append(tier)
    return AwardRules(tiers=tiers, org=_parse_org(raw.get("org_award")))


def _parse_org(raw: dict | None) -> OrgRule | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise BadInput("优秀组织奖设置的格式不对。", field="org_award")
    rule = OrgRule(
        min_participants=_number(raw.get("min_participants"), "优秀组织奖的最少参与人数", "org_min",
                                 whole=True, minimum=0) or 0,
        top=_number(raw.get("top"), "优秀组织奖的名额", "org_top", whole=True, minimum=1),
        top_share=_number(raw.get("top_share"), "优秀组织奖的比例", "org_top_share", whole=False, minimum=0),
    )
    if rule.top is not None and rule.top_share is not None:
        raise BadInput("优秀组织奖的名额和比例只能设置一个。", field="org_top")
    if rule.top is None and rule.top_share is None:
        raise BadInput("请设置优秀组织奖的名额或比例。", field="org_top")
    if rule.top_share is not None and not 0 < rule.top_share <= 1:
        raise BadInput("优秀组织奖的比例应在 0 到 1 之间（如 0.1 表示前 10%）。", field="org_top_share")
    weights = raw.get("weights")
    if weights:
        if not isinstance(weights, dict) or set(weights) - set(WEIGHT_PARTS):
            raise BadInput("权重只能包含 coverage（参与率）、scores（平均最高分）、activity（人均答题次数）。",
                           field="org_weights")
        rule.weights = {k: _number(v, f"权重 {k}", "org_weights", whole=False, minimum=0) or 0.0
                        for k, v in weights.items()}
        if sum(rule.weights.values()) <= 0:
            raise BadInput("权重之和应大于 0。", field="org_weights")
    return rule


def set_awards(session: Session, contest: Contest, raw: dict) -> AwardRules:
    """Validate and store the rules; a draw without a seed gets a fresh one, recorded from now on."""
    rules = parse_rules(raw)
    for tier in rules.tiers:
        if tier.draw is not None and not tier.seed:
            tier.seed = secrets.token_hex(8)
    contest.awards = rules.to_json()
    session.commit()
    return rules


def rules_of(contest: Contest) -> AwardRules:
    rules = parse_rules(contest.awards)
    for tier in rules.tiers:
        if tier.draw is not None and not tier.seed:
            tier.seed = f"contest-{contest.id}"  # stored JSON without a seed: still repeatable
    return rules


def ticket(seed: str, entrant_id: int) -> str:
    """An entrant's lottery ticket: anyone can recompute it with any SHA-256 tool."""
    return hashlib.sha256(f"{seed}:{entrant_id}".encode()).hexdigest()


@dataclass
class Draw:
    tier: Tier
    eligible: pd.DataFrame  # standings rows + ticket, won; in rank order


def assign_tiers(ranked: pd.DataFrame, rules: AwardRules) -> tuple[pd.Series, list[Draw]]:
    """The award of each standing row (index-aligned, "" if none) and the record of each draw."""
    award = pd.Series("", index=ranked.index, dtype="object")
    draws = []
    for tier in rules.tiers:
        left = ranked[award == ""]
        if tier.min_score is not None:
            left = left[left["score"] >= tier.min_score - 1e-9]
        if tier.draw is not None:
            eligible = left.assign(ticket=[ticket(tier.seed, int(e)) for e in left["entrant_id"]])
            winners = eligible.sort_values("ticket", kind="mergesort").head(tier.draw).index
            eligible["won"] = eligible.index.isin(winners)
            draws.append(Draw(tier=tier, eligible=eligible))
        elif tier.top is not None:
            winners = left.head(tier.top).index
        else:
            winners = left.index
        award[winners] = tier.name
    return award, draws


def org_ranking(unit_rows: pd.DataFrame, rule: OrgRule | None) -> pd.DataFrame:
    """Units with enough participants, ranked; `awarded` marks the 优秀组织奖."""
    if rule is None:
        return unit_rows.iloc[0:0].assign(awarded=pd.Series(dtype=bool))
    frame = unit_rows[(unit_rows["participants"] >= rule.min_participants) & (unit_rows["participants"] > 0)].copy()
    keys, ascending = ["rate", "avg_best", "attempts_per_person"], [False, False, False]
    if rule.weights:
        frame["coverage"] = frame["rate"].clip(upper=1.0)
        frame["scores"] = _relative(frame["avg_best"])
        frame["activity"] = _relative(frame["attempts_per_person"])
        total = sum(rule.weights.values())
        frame["composite"] = sum(frame[part] * weight for part, weight in rule.weights.items()) / total
        keys, ascending = ["composite", *keys], [False, *ascending]
    frame = frame.sort_values([*keys, "unit_id"], ascending=[*ascending, True], kind="mergesort")
    frame["org_rank"] = range(1, len(frame) + 1)
    frame["awarded"] = frame["org_rank"] <= rule.count(len(frame))
    return frame.reset_index(drop=True)


def _relative(values: pd.Series) -> pd.Series:
    """Each unit's value over the best unit's, 0..1 (nothing to compare: all 0)."""
    best = values.max() if len(values) else 0
    return values / best if best and best > 0 else values * 0.0
