"""The `contest` command: thin wrappers over the services (see shared/API.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from contest.runtime import Runtime


@contextmanager
def app_runtime(**overrides) -> Iterator[tuple[object, Runtime]]:
    """An app and a Runtime for one command, cleaned up afterwards."""
    from contest import create_app
    from contest.runtime import current

    app = create_app(overrides or None)
    with app.app_context():
        yield app, current()


def echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@click.group(help="竞答: question banks, timed contests, live games and staff workbooks.")
def main() -> None:
    pass


@main.command("init-db", help="Create the schema (safe to repeat).")
def init_db() -> None:
    with app_runtime():
        click.echo("数据库已就绪。")


@main.command("create-admin", help="Create an admin account, or reset its password and role.")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["organizer", "staff"]), default="organizer")
def create_admin_cmd(username: str, password: str, role: str) -> None:
    from contest.accounts import create_admin
    from contest.errors import ContestError

    with app_runtime() as (_app, rt):
        try:
            create_admin(rt.session, username, password, role)
        except ContestError as error:
            fail([error.message])
        click.echo(f"管理员 {username}（{role}）已保存。")


@main.command("setup-demo", help="On an empty instance: an admin, the sample bank and units, a demo contest.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def setup_demo(host: str, port: int) -> None:
    from contest.demo import setup_demo as run_setup

    with app_runtime() as (app, rt):
        for line in run_setup(rt, app.instance_path, f"http://{host}:{port}"):
            click.echo(line)


def _parse_time(value: str | None, field: str):
    from datetime import datetime

    from contest.clock import CONTEST_TZ

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value} 不是 ISO 8601 时间（如 2026-07-01T09:00+08:00）。", param_hint=field) from None
    return when if when.tzinfo else when.replace(tzinfo=CONTEST_TZ)


@main.command("create-contest", help="Create a timed contest over a bank.")
@click.option("--title", required=True)
@click.option("--bank", "bank_id", required=True, type=int)
@click.option("--paper", required=True, help="e.g. single=10,multiple=5,judge=5 (type:分类=N for a category)")
@click.option("--time-limit", "time_limit", required=True, type=int, help="seconds per attempt")
@click.option("--attempts-per-day", default=3, type=int, show_default=True)
@click.option("--starts", help="ISO 8601; default now")
@click.option("--ends", help="ISO 8601; default a week after the start")
@click.option("--description", default="")
@click.option("--ranking-mode", type=click.Choice(["best", "daily_sum"]), default="best", show_default=True)
@click.option("--partial-credit/--all-or-nothing", default=False, help="half credit for a correct subset of a multiple choice")
@click.option("--shuffle/--no-shuffle", default=True, help="shuffle questions and options per attempt")
@click.option("--review/--no-review", default=True, help="show answers and explanations after submit")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False), help="xlsx/csv of 姓名, 手机号, 单位: entry limited to it")
@click.option("--json", "as_json", is_flag=True)
def create_contest_cmd(title, bank_id, paper, time_limit, attempts_per_day, starts, ends, description,
                       ranking_mode, partial_credit, shuffle, review, roster, as_json) -> None:
    from datetime import timedelta

    from contest.errors import ContestError
    from contest.play import papers
    from contest.play.contests import ContestSettings, create_contest

    with app_runtime() as (_app, rt):
        starts_at = _parse_time(starts, "--starts") or rt.clock.now()
        ends_at = _parse_time(ends, "--ends") or starts_at + timedelta(days=7)
        try:
            settings = ContestSettings(
                title=title, bank_id=bank_id, paper=papers.parse_rules(paper), time_limit_s=time_limit,
                starts_at=starts_at, ends_at=ends_at, description=description,
                attempts_per_day=attempts_per_day, shuffle_questions=shuffle, shuffle_options=shuffle,
                roster_only=bool(roster), review_after_submit=review, ranking_mode=ranking_mode,
                partial_credit=partial_credit,
            )
            contest = create_contest(rt.session, settings)
            if roster:
                from contest.play.roster import import_roster

                with open(roster, "rb") as handle:
                    count = import_roster(rt.session, contest.id, handle.read(), roster)
                click.echo(f"名单 {count} 人已导入。", err=as_json)
        except ContestError as error:
            rt.session.rollback()
            fail([error.message])
        if as_json:
            echo_json({"id": contest.id})
        else:
            click.echo(f"竞赛 {contest.id}「{contest.title}」已创建。")


@main.command("rebuild-state", help="Rebuild a contest's live state in Redis from the SQL record.")
@click.argument("cid", type=int)
def rebuild_state(cid: int) -> None:
    from contest.errors import ContestError
    from contest.play import attempts, ranking
    from contest.play.contests import get_contest

    with app_runtime() as (_app, rt):
        try:
            contest = get_contest(rt.session, cid)
        except ContestError as error:
            fail([error.message])
        ranking.rebuild(rt, contest)
        reopened = attempts.reschedule_open(rt)
        stats = rt.state.boards.stats(cid)
        click.echo(f"已从数据库重建：参与 {stats['participants']} 人，答卷 {stats['attempts']} 份，未完成答卷 {reopened} 份。")


@main.command("serve", help="Start the web server: pages, /admin, the API and the live channel.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
def serve(host: str, port: int) -> None:
    from contest.play.live import start_background_tasks

    with app_runtime() as (app, _rt):
        socketio = app.extensions["jd.socketio"]
        start_background_tasks(app)
        click.echo(f"竞答 running on http://{host}:{port}/  (admin: http://{host}:{port}/admin)")
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)


if __name__ == "__main__":
    main()
