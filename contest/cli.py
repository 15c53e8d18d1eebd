"""The `contest` command: thin wrappers over the services (see shared/API.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from contest.numbers import whole_number
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


# The staff workbook's commands live with the reports (contest/reports/commands.py).
from contest.reports.commands import export_cmd, export_game_cmd, set_awards_cmd  # noqa: E402

main.add_command(export_cmd)
main.add_command(set_awards_cmd)
main.add_command(export_game_cmd)


@main.command("init-db", help="Create the schema, or upgrade it to the newest revision (safe to repeat).")
def init_db() -> None:
    from contest import schema

    with app_runtime() as (_app, rt):
        click.echo(f"数据库已就绪（结构版本 {schema.revision(rt.session.connection())}）。")


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


def _read_file(path: str) -> bytes:
    from contest.banks import MAX_BYTES

    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)  # read no more than the cap: the loader refuses beyond it
    return data


def _progress():
    """A row counter on the terminal for long imports (nothing when output is piped)."""
    if not sys.stderr.isatty():
        return None
    return lambda rows: click.echo(f"\r已读取 {rows} 行……", nl=False, err=True)


@main.command("import-bank", help="Import a question bank (.xlsx, .csv or .json): all or nothing.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="the bank's name (default: the file name)")
@click.option("--bank", "bank_id", type=int, help="add the questions to this existing bank instead")
@click.option("--dry-run", is_flag=True, help="check the file and show the questions; store nothing")
@click.option("--json", "as_json", is_flag=True)
def import_bank(path: str, name: str | None, bank_id: int | None, dry_run: bool, as_json: bool) -> None:
    from pathlib import Path

    from contest import banks
    from contest.errors import ContestError

    with app_runtime() as (_app, rt):
        try:
            result = banks.read_bank(_read_file(path), Path(path).name, _progress())
        except banks.BankFileError as error:
            fail([error.message])
        if _progress():
            click.echo("", err=True)
        result = banks.check_against_bank(rt.session, result, bank_id)
        if result.faults:
            fail([str(fault) for fault in result.faults] + [f"共 {len(result.faults)} 处问题，未导入任何题目。"])
        stored = None
        if not dry_run:
            try:
                stored = banks.store_bank(rt.session, result, name or Path(path).stem, bank_id=bank_id,
                                          source_file=Path(path).name)
            except ContestError as error:
                fail([error.message])
        if as_json:
            echo_json({"bank_id": stored.id if stored else None,
                       "questions": [question.canonical() for question in result.questions]})
            return
        counts = "，".join(f"{banks.TYPE_NAMES[kind]} {n}" for kind, n in result.counts().items() if n)
        if stored:
            click.echo(f"已导入题库 {stored.id}「{stored.name}」：{len(result.questions)} 道题（{counts}）。")
        else:
            click.echo(f"检查通过：{len(result.questions)} 道题（{counts}），未写入（--dry-run）。")


@main.command("list-banks", help="List question banks with their question counts.")
@click.option("--json", "as_json", is_flag=True)
def list_banks(as_json: bool) -> None:
    from contest.banks import bank_summaries

    with app_runtime() as (_app, rt):
        summaries = bank_summaries(rt.session)
    if as_json:
        echo_json([{"id": b["id"], "name": b["name"], "questions": b["questions"]} for b in summaries])
        return
    for bank in summaries:
        kinds = " ".join(f"{kind}={n}" for kind, n in bank["by_type"].items())
        click.echo(f"{bank['id']:>4}  {bank['name']}  {bank['questions']} 题  ({kinds})")


@main.command("import-units", help="Import units with their headcount (单位名称, 职工人数, optional 上级单位).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def import_units(path: str, as_json: bool) -> None:
    from pathlib import Path

    from contest.banks import TableFileError, read_units, store_units

    with app_runtime() as (_app, rt):
        try:
            units, faults = read_units(_read_file(path), Path(path).name)
        except TableFileError as error:
            fail([error.message])
        if faults:
            fail([str(fault) for fault in faults] + [f"共 {len(faults)} 处问题，未导入任何单位。"])
        added, updated = store_units(rt.session, units)
    if as_json:
        echo_json({"units": len(units), "added": added, "updated": updated})
    else:
        click.echo(f"单位 {len(units)} 个：新增 {added} 个，更新 {updated} 个。")


@main.command("write-template", help="Write the blank organizer template (题库导入模板.xlsx).")
@click.argument("path", type=click.Path(dir_okay=False), default="题库导入模板.xlsx")
def write_template(path: str) -> None:
    from contest.banks import build_template

    with open(path, "wb") as handle:
        handle.write(build_template())
    click.echo(f"已写入 {path}")


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
            people = None
            if roster:  # read it first: a faulty roster creates no contest
                from contest.play.roster import read_roster, store_roster

                people = read_roster(rt.session, _read_file(roster), roster)
            contest = create_contest(rt.session, settings)
            if people:
                count = store_roster(rt.session, contest.id, people)
                click.echo(f"名单 {count} 人已导入。", err=as_json)
        except ContestError as error:
            rt.session.rollback()
            fail(error.message.splitlines())
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


@main.command("correct-key", help="Correct a question's key (更正答案) and re-score every finished attempt it marked.")
@click.argument("qid", type=int)
@click.option("--answer", "text", required=True, help="the right key as in a bank file: B, A,C, 正确/错误, 上海|上海市")
@click.option("--json", "as_json", is_flag=True)
def correct_key_cmd(qid: int, text: str, as_json: bool) -> None:
    from contest.errors import ContestError
    from contest.models import Question
    from contest.play import corrections

    with app_runtime() as (_app, rt):
        try:
            done = corrections.correct_key(rt, qid, text, via="cli")
        except ContestError as error:
            fail([error.message])
        qtype = rt.session.get(Question, qid).type
        result = {"question_id": qid, "old_answer": done.old_answer, "new_answer": done.new_answer,
                  "answers_regraded": done.answers_regraded, "attempts_changed": done.attempts_changed}
    if as_json:
        echo_json(result)
    else:
        old, new = corrections.key_text(qtype, result["old_answer"]), corrections.key_text(qtype, result["new_answer"])
        click.echo(f"第 {qid} 题答案已更正：{old} → {new}；"
                   f"重新评分 {result['answers_regraded']} 个作答，{result['attempts_changed']} 份答卷分数改变。"
                   f"{corrections.SECOND_PASS_S} 秒后服务器会再核对一次。")


@main.command("regrade", help="Re-score every finished attempt's answer to a question with its current key "
                             "and rebuild the boards of the contests concerned.")
@click.argument("qid", type=int)
def regrade_cmd(qid: int) -> None:
    from contest.errors import ContestError
    from contest.play import corrections

    with app_runtime() as (_app, rt):
        try:
            done = corrections.regrade(rt, qid, rebuild_all=True)
        except ContestError as error:
            fail([error.message])
    click.echo(f"第 {qid} 题重新评分：{done.answers} 个作答，{done.attempts_changed} 份答卷分数改变。")


@main.command("purge-personal", help="After a contest has ended: replace entrants' names and phones, delete tokens, "
                                    "roster and addresses; scores and unit figures stay.")
@click.argument("cid", type=int)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def purge_personal(cid: int, yes: bool) -> None:
    from contest.errors import ContestError
    from contest.play import privacy

    with app_runtime() as (_app, rt):
        try:
            if not privacy.purge_allowed(rt, cid):
                fail(["竞赛结束后才能删除个人信息。"])
            todo = privacy.pending(rt, cid)
            if not yes:
                click.confirm(f"将删除竞赛 {cid} 中 {todo.entrants} 名报名者的姓名和手机号、{todo.tokens} 个登录凭证、"
                              f"{todo.roster_entries} 条名单记录，且无法恢复。继续吗？", abort=True)
            done = privacy.purge_personal_data(rt, cid)
        except ContestError as error:
            fail([error.message])
        click.echo(f"已删除个人信息：{done.entrants} 名报名者，{done.tokens} 个登录凭证，{done.roster_entries} 条名单记录。"
                   "成绩与单位统计保留。")


@main.command("purge-game", help="After a live game is over: replace players' names, delete addresses and the "
                                "game's roster (names and phones); scores and places stay.")
@click.argument("gid", type=int)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def purge_game(gid: int, yes: bool) -> None:
    from contest.errors import ContestError
    from contest.play import privacy

    with app_runtime() as (_app, rt):
        try:
            if not yes:
                click.confirm(f"将删除现场竞赛 {gid} 的选手姓名、地址和参赛名单（姓名、手机号），且无法恢复。继续吗？",
                              abort=True)
            done = privacy.purge_game_personal_data(rt, gid)
        except ContestError as error:
            fail([error.message])
        click.echo(f"已删除个人信息：{done.players} 名选手的姓名，{done.roster_entries} 条名单记录。成绩与名次保留。")


@main.command("verify-ranking", help="Recompute every score and the ranking from the audit log of accepted answers "
                                    "and compare with the published ranking; exit 1 listing differences.")
@click.argument("cid", type=int)
@click.option("--json", "as_json", is_flag=True)
def verify_ranking(cid: int, as_json: bool) -> None:
    from contest.errors import ContestError
    from contest.play import audit

    with app_runtime() as (_app, rt):
        try:
            found = audit.verify(rt, cid)
        except ContestError as error:
            fail([error.message])
    if as_json:
        echo_json(found.as_dict())
    elif found.ok:
        click.echo(f"排名核对一致：由审计日志（{found.log_rows} 条）重算 {found.attempts} 份答卷、{found.participants} 人的排名，"
                   f"与公布的{'排行榜和' if found.board_checked else ''}数据库记录相同。")
    else:
        click.echo(f"排名核对发现 {len(found.differences)} 处不一致：", err=True)
        for line in found.differences[:audit.MAX_LISTED]:
            click.echo(f"  {line}", err=True)
    if not found.ok:
        sys.exit(1)


def _positions(text: str | None, option: str) -> set[int]:
    """'3,7' → {3, 7} (1-based question positions)."""
    if not text:
        return set()
    numbers = [whole_number(p) for p in text.replace("，", ",").split(",") if p.strip()]
    if None in numbers:
        raise click.BadParameter(f"“{text}”应为逗号分隔的题号，如 3,7。", param_hint=option)
    return set(numbers)


@main.command("create-game", help="Create a live game (PIN room) from a bank; prints the PIN and the host link.")
@click.option("--bank", "bank_id", required=True, type=int)
@click.option("--questions", "count", type=int, help="draw this many single/multiple/judge questions")
@click.option("--question-ids", help="or play these question ids, in this order (comma-separated)")
@click.option("--paper", help="or draw by rules, e.g. single=5,judge=3 (type:分类=N for a category)")
@click.option("--seconds", required=True, type=int, help="seconds per question")
@click.option("--scoring", type=click.Choice(["speed", "plain"]), default="speed", show_default=True)
@click.option("--streak-bonus", is_flag=True, help="+100 per right answer in a row (up to +500)")
@click.option("--double", help="positions worth double points, e.g. 5,10")
@click.option("--buzzer", help="positions played as buzzer rounds (抢答), e.g. 3")
@click.option("--unit-ranking", type=click.Choice(["avg", "sum"]), default="avg", show_default=True)
@click.option("--nicknames", is_flag=True, help="show names unmasked (players type nicknames)")
@click.option("--title", default="现场竞赛")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False),
              help="xlsx/csv of 姓名, 手机号, 单位: only these people join (with phone and name)")
@click.option("--roster-contest", type=int, help="or: only the people on this contest's roster join")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="where the server is reached")
@click.option("--json", "as_json", is_flag=True)
def create_game_cmd(bank_id, count, question_ids, paper, seconds, scoring, streak_bonus, double, buzzer, unit_ranking,
                    nicknames, title, roster, roster_contest, base_url, as_json) -> None:
    from pathlib import Path

    from contest.errors import ContestError
    from contest.play import game_roster, games, papers
    from contest.play.roster import read_roster

    if roster and roster_contest:
        fail(["--roster 与 --roster-contest 只能二选一。"])
    ids = None
    if question_ids:
        _positions(question_ids, "--question-ids")  # refuses anything but numbers
        ids = [int(p) for p in question_ids.replace("，", ",").split(",") if p.strip()]
    with app_runtime() as (app, rt):
        try:
            settings = games.GameSettings(
                bank_id=bank_id, count=count, question_ids=ids, seconds=seconds,
                rules=papers.parse_rules(paper) if paper else None, scoring=scoring,
                streak_bonus=streak_bonus, doubled=_positions(double, "--double"),
                buzzer=_positions(buzzer, "--buzzer"), unit_ranking=unit_ranking, mask_names=not nicknames,
                title=title,
            )
            if roster:  # read first: a faulty roster creates no game
                settings.roster = read_roster(rt.session, _read_file(roster), Path(roster).name)
            elif roster_contest:
                settings.roster = game_roster.from_contest(rt.session, roster_contest)
            game, host_token = games.create_game(rt, settings, app.config["SECRET_KEY"])
        except ContestError as error:
            rt.session.rollback()
            fail(error.message.splitlines())
        base = base_url.rstrip("/")
        links = {"pin": game.pin, "host_token": host_token, "host_url": f"{base}/screen/game/{game.pin}#{host_token}",
                 "join_url": f"{base}/g/{game.pin}"}
        if as_json:
            echo_json(links)
        else:
            click.echo(f"现场竞赛已创建，PIN 码 {game.pin}（{len(game.questions)} 题，每题 {seconds} 秒）。")
            click.echo(f"主持大屏：{links['host_url']}")
            click.echo(f"选手加入：{links['join_url']}")


@main.command("serve", help="Start the web server: pages, /admin, the API and the live channel.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--server", type=click.Choice(["gevent", "eventlet", "threading"]), default="gevent",
              envvar="CONTEST_SERVER", show_default=True,
              help="concurrency: gevent (production), eventlet (compared in bench/), threading (werkzeug, debugging)")
@click.option("--workers", default=1, type=click.IntRange(1, 64), show_default=True,
              help="server processes, on ports PORT..PORT+N-1 (behind a sticky proxy: deploy/nginx.conf)")
def serve(host: str, port: int, server: str, workers: int) -> None:
    from contest import serving

    if workers > 1:
        serving.serve_many(server, host, port, workers)
    else:
        serving.serve(server, host, port)


def start_background_tasks(app) -> None:
    """Every background task of a server process (contest.serving.run calls it)."""
    from contest.play import game_live, live

    live.start_background_tasks(app)
    game_live.start_background_tasks(app)


if __name__ == "__main__":
    main()
