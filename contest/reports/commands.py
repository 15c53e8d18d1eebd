"""`contest export` and `contest set-awards`: thin wrappers over the reports services."""

from __future__ import annotations

import copy

import click

from contest.errors import BadInput

TIER_KEYS = {"top": "top", "min": "min_score", "min_score": "min_score", "draw": "draw", "seed": "seed"}


def parse_tier(spec: str) -> dict:
    """"一等奖:top=10", "优胜奖:min=80", "优胜奖:min=80,draw=50,seed=abc" → a tier's JSON."""
    name, _, rest = spec.partition(":")
    tier: dict = {"name": name.strip()}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in TIER_KEYS:
            raise BadInput(f"奖项「{spec}」看不懂：应写成 名称:top=10 或 名称:min=80,draw=50。", field="tier")
        tier[TIER_KEYS[key.strip()]] = value.strip()
    return tier


def parse_weights(text: str) -> dict:
    weights = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise BadInput("权重应写成 coverage=0.6,scores=0.3,activity=0.1。", field="org_weights")
        weights[key.strip()] = value.strip()
    return weights


def merged_awards(current: dict | None, tiers: tuple[str, ...], clear_tiers: bool, seed: str | None,
                  org: dict, no_org: bool) -> dict:
    """The contest's award JSON with the flags given applied (what is not mentioned stays)."""
    awards = copy.deepcopy(current or {})
    if clear_tiers:
        awards["tiers"] = []
    if tiers:
        awards["tiers"] = [parse_tier(spec) for spec in tiers]
    if seed:
        for tier in awards.get("tiers") or []:
            if tier.get("draw") not in (None, ""):
                tier["seed"] = seed
    if no_org:
        awards["org_award"] = None
    elif any(value is not None for value in org.values()):
        rule = dict(awards.get("org_award") or {})
        if org.get("top") is not None:
            rule["top_share"] = None
        if org.get("top_share") is not None:
            rule["top"] = None
        rule.update({key: value for key, value in org.items() if value is not None})
        awards["org_award"] = rule
    return awards


@click.command("export", help="Write the staff workbook (.xlsx) of a contest.")
@click.argument("cid", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="the .xlsx file to write")
def export_cmd(cid: int, output: str) -> None:
    from contest.cli import app_runtime, fail
    from contest.errors import ContestError
    from contest.reports.export import export_contest

    with app_runtime() as (_app, rt):
        try:
            export_contest(rt, cid, output, via="cli")
        except ContestError as error:
            rt.session.rollback()
            fail([error.message])
        except OSError as error:
            rt.session.rollback()
            fail([f"无法写入 {output}：{error.strerror or error}"])
        click.echo(f"竞赛 {cid} 的统计表已导出到 {output}。")


@click.command("set-awards", help="Set a contest's prize tiers, lottery seed and 优秀组织奖 rule.")
@click.argument("cid", type=int)
@click.option("--tier", "tiers", multiple=True, metavar="SPEC",
              help='in order, e.g. --tier 一等奖:top=10 --tier 二等奖:top=30 --tier "优胜奖:min=80,draw=50"; replaces the tiers')
@click.option("--clear-tiers", is_flag=True, help="remove every prize tier")
@click.option("--seed", help="the lottery seed of the draw tiers (default: a random one, recorded)")
@click.option("--org-min", type=int, help="优秀组织奖: at least this many participants in a unit")
@click.option("--org-top", type=int, help="优秀组织奖: the top K units")
@click.option("--org-top-share", type=float, help="优秀组织奖: the top share of eligible units, e.g. 0.1")
@click.option("--org-weights", help="composite score instead of plain 参与率, e.g. coverage=0.6,scores=0.3,activity=0.1")
@click.option("--org-plain", is_flag=True, help="rank units by plain 参与率 again (drop the weights)")
@click.option("--no-org-award", is_flag=True, help="no 优秀组织奖")
def set_awards_cmd(cid, tiers, clear_tiers, seed, org_min, org_top, org_top_share, org_weights, org_plain,
                   no_org_award) -> None:
    from contest.cli import app_runtime, echo_json, fail
    from contest.errors import ContestError
    from contest.play.contests import get_contest
    from contest.reports.awards import set_awards

    with app_runtime() as (_app, rt):
        try:
            contest = get_contest(rt.session, cid)
            org = {"min_participants": org_min, "top": org_top, "top_share": org_top_share,
                   "weights": parse_weights(org_weights) if org_weights else None}
            raw = merged_awards(contest.awards, tiers, clear_tiers, seed, org, no_org_award)
            if org_plain and raw.get("org_award"):
                raw["org_award"]["weights"] = None
            rules = set_awards(rt.session, contest, raw)
        except ContestError as error:
            rt.session.rollback()
            fail([error.message])
        echo_json(rules.to_json())


@click.command("export-game", help="Write a live game's workbook (.xlsx): players, units, questions.")
@click.argument("gid", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True))
def export_game_cmd(gid: int, output: str) -> None:
    from contest.cli import app_runtime, fail
    from contest.errors import ContestError
    from contest.reports.game_book import find_game, write_game_workbook

    with app_runtime() as (_app, rt):
        try:
            write_game_workbook(rt.session, find_game(rt.session, gid), output, rt.clock.now())
        except ContestError as error:
            fail([error.message])
        except OSError as error:
            fail([f"无法写入 {output}：{error.strerror or error}"])
        click.echo(f"现场竞赛 {gid} 的统计表已导出到 {output}。")
