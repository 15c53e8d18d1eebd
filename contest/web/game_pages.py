"""Pages of live games: the phone page (/g, /g/<pin>) and the host's big screen (/screen/game/<pin>).

Neither page looks the PIN up: the host screen proves itself with the host token (kept in the
URL fragment, never sent to the server in a request line) and the phone with game_join, both
over the /live channel where joins are rate-limited, so these pages tell nothing about which
PINs exist.
"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from contest import runtime
from contest.models import Unit

bp = Blueprint("game_pages", __name__)


def _pin(pin: str) -> str:
    if len(pin) != 6 or not pin.isdigit():
        abort(404)
    return pin


def join_url(pin: str) -> str:
    return f"{request.host_url.rstrip('/')}/g/{pin}"


def qr_svg(url: str) -> Markup:
    """The join link as an inline SVG QR code, made here so the screen needs no outside service."""
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff", omitsize=True)
    return Markup(svg)  # noqa: S704  (segno's own SVG of a URL we built)


@bp.get("/g")
@bp.get("/g/<pin>")
def play(pin: str | None = None):
    pin = pin if pin and len(pin) == 6 and pin.isdigit() else ""
    rows = runtime.current().session.execute(select(Unit.id, Unit.name).order_by(Unit.name))
    units = [{"id": row.id, "name": row.name} for row in rows]
    return render_template("play/game.html", pin=pin, units=units)


@bp.get("/screen/game/<pin>")
def host_screen(pin: str):
    pin = _pin(pin)
    url = join_url(pin)
    return render_template("screen/game_host.html", pin=pin, join_url=url, qr=qr_svg(url))
