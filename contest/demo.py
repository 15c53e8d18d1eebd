"""What `make run` prepares on an empty instance: an admin account, sample data, a demo contest."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from contest.accounts import create_admin
from contest.config import PROJECT_ROOT
from contest.models import AdminUser, Bank, Contest, Unit
from contest.runtime import Runtime

DEMO_ADMIN = "admin"
SAMPLE_BANK = PROJECT_ROOT / "question_banks" / "党史知识题库.xlsx"
SAMPLE_BANK_JSON = PROJECT_ROOT / "question_banks" / "党史知识题库.json"
SAMPLE_UNITS = PROJECT_ROOT / "question_banks" / "示例单位.csv"
DEMO_PAPER = "single=5,multiple=2,judge=2,fill=1"
DEMO_AWARDS = {
    "tiers": [{"name": "一等奖", "top": 3}, {"name": "二等奖", "top": 5}, {"name": "三等奖", "top": 10},
              {"name": "优胜奖", "min_score": 6, "draw": 20, "seed": "jingda-demo"}],
    "org_award": {"min_participants": 1, "top": 5},
}


def _count(rt: Runtime, model) -> int:
    return rt.session.scalar(select(func.count()).select_from(model)) or 0


def setup_demo(rt: Runtime, instance_path: str, base_url: str) -> Iterator[str]:
    """Prepare what is missing and say where to go; safe to run on every start."""
    from contest import banks
    from contest.play import papers
    from contest.play.contests import ContestSettings, create_contest
    from contest.reports import awards

    password_file = Path(instance_path) / "admin_password.txt"
    if not _count(rt, AdminUser):
        password = secrets.token_urlsafe(9)
        create_admin(rt.session, DEMO_ADMIN, password)
        password_file.write_text(password)
        password_file.chmod(0o600)
        yield f"已创建管理员账号 {DEMO_ADMIN}。"
    if not _count(rt, Unit) and SAMPLE_UNITS.exists():
        units, faults = banks.read_units(SAMPLE_UNITS.read_bytes(), SAMPLE_UNITS.name)
        if not faults:
            banks.store_units(rt.session, units)
            yield f"已导入示例单位 {len(units)} 个。"
    if not _count(rt, Bank):
        source = SAMPLE_BANK if SAMPLE_BANK.exists() else SAMPLE_BANK_JSON
        if source.exists():
            result = banks.read_bank(source.read_bytes(), source.name)
            bank = banks.store_bank(rt.session, result, "党史知识题库（示例）", source_file=source.name)
            yield f"已导入示例题库：{len(result.questions)} 道题。"
            if not _count(rt, Contest):
                now = rt.clock.now()
                contest = create_contest(rt.session, ContestSettings(
                    title="党史知识竞赛（演示）",
                    description="学党史、悟思想、办实事、开新局。每人每天可答 3 次，取最好成绩排名。",
                    bank_id=bank.id, paper=papers.parse_rules(DEMO_PAPER), time_limit_s=300,
                    starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=30),
                ))
                # Prizes set, so the demo's workbook fills 获奖名单, 优秀组织奖 and 抽奖记录 once people play.
                awards.set_awards(rt.session, contest, DEMO_AWARDS)
                yield "已创建演示竞赛（奖项：一、二、三等奖按名次，优胜奖抽签，优秀组织奖前 5 个单位）。"
    yield ""
    yield f"选手入口 (worker):  {base_url}/"
    yield f"管理后台 (admin):   {base_url}/admin"
    if password_file.exists():
        yield f"管理员登录 (admin login):  {DEMO_ADMIN} / {password_file.read_text().strip()}"
