"""Pages for workers: contest home, entry, the quiz, the result, public leaderboards."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("participant", __name__)


@bp.get("/")
def index():
    return render_template("play/index.html")
