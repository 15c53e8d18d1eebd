"""The admin dashboard: what is there, and where to go next."""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import func, select

from contest.models import Bank, Contest, Question
from contest.runtime import current as current_runtime
from contest.web.admin import bp

# Sections of the back office; one shows as a link once some page serves its path.
SECTIONS = [
    ("题库", "/admin/banks", "导入题库、查看题目"),
    ("竞赛", "/admin/contests", "创建竞赛、设置试卷和时间"),
    ("现场竞赛", "/admin/games", "PIN 码现场抢答，大屏展示"),
    ("导出", "/admin/exports", "导出成绩与统计工作簿"),
]


def _served(path: str) -> bool:
    return any(rule.rule == path or rule.rule.startswith(path + "/") for rule in current_app.url_map.iter_rules())


@bp.get("/")
def home():
    session = current_runtime().session
    counts = {
        "banks": session.scalar(select(func.count()).select_from(Bank)) or 0,
        "questions": session.scalar(select(func.count()).select_from(Question)) or 0,
        "contests": session.scalar(select(func.count()).select_from(Contest)) or 0,
    }
    sections = [
        {"title": title, "path": path, "note": note, "ready": _served(path)} for title, path, note in SECTIONS
    ]
    return render_template("admin/home.html", counts=counts, sections=sections)
