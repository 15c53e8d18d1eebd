"""Who may enter a roster-only contest: 姓名, 手机号, 单位 from xlsx or csv."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from contest import offload
from contest.banks import notation
from contest.banks.tables import TableFileError, read_tables
from contest.banks.units import cell, find_columns
from contest.errors import BadInput
from contest.models import RosterEntry, Unit
from contest.play.phones import PHONE, normalized

# A city's roster: its 22,484 entrants came from a larger workforce (a bank's 20,000 rows is too few).
MAX_ROSTER_ROWS = 100_000

_ROLES = {
    "name": ("姓名", "名字", "职工姓名"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "unit": ("单位", "单位名称", "所在单位", "工作单位"),
}
_NAMES = {notation.fold(alias): role for role, aliases in _ROLES.items() for alias in aliases}
MAX_FAULT_LINES = 50


@dataclass
class RosterRow:
    name: str
    phone: str
    unit_id: int | None


class RosterRefused(BadInput):
    """The roster file has faults; `lines` names each row (第N行)."""

    def __init__(self, lines: list[str]) -> None:
        shown = lines[:MAX_FAULT_LINES] + ([f"……另有 {len(lines) - MAX_FAULT_LINES} 处"] if len(lines) > MAX_FAULT_LINES else [])
        super().__init__("名单有误，未导入：\n" + "\n".join(shown), code="roster_refused", field="roster")
        self.lines = lines

    def __reduce__(self):  # as it was made, when it comes back from a child process (contest/offload.py)
        return (RosterRefused, (self.lines,))


def read_roster(session: Session, data: bytes, filename: str) -> list[RosterRow]:
    """Every person on the roster, or RosterRefused naming each faulty row. Under gevent a child
    process reads it: 100,000 people are seconds of CPU."""
    units = {name: unit_id for unit_id, name in session.execute(select(Unit.id, Unit.name))}
    return offload.call("contest.play.roster", "rows_from_file", data, filename, units)


def rows_from_file(data: bytes, filename: str, units: dict[str, int]) -> list[RosterRow]:
    """read_roster's work, given the units by name."""
    try:
        sheets = read_tables(data, filename, max_rows=MAX_ROSTER_ROWS)
    except TableFileError as error:
        raise RosterRefused([error.message]) from None
    for sheet in sheets:
        found = find_columns(sheet, _NAMES, ("name", "phone"))
        if found:
            break
    else:
        raise RosterRefused(["找不到表头：需要「姓名」和「手机号」两列（「单位」可选）。"])
    index, columns = found
    rows: list[RosterRow] = []
    faults: list[str] = []
    seen: dict[str, int] = {}
    for number, cells in sheet.rows[index + 1:]:
        name, phone = cell(cells, columns, "name"), normalized(cell(cells, columns, "phone"))
        unit_name = cell(cells, columns, "unit")
        if not name:
            faults.append(f"第{number}行：姓名为空")
        if not PHONE.fullmatch(phone):
            faults.append(f"第{number}行：手机号「{phone}」应为以 1 开头的 11 位数字")
        elif phone in seen:
            faults.append(f"第{number}行：手机号与第{seen[phone]}行重复")
        else:
            seen[phone] = number
        if unit_name and unit_name not in units:
            faults.append(f"第{number}行：单位「{unit_name}」不在单位列表中，请先导入单位")
        rows.append(RosterRow(name[:64], phone, units.get(unit_name)))
    if faults:
        raise RosterRefused(faults)
    if not rows:
        raise RosterRefused(["名单中没有人。"])
    return rows


def store_roster(session: Session, contest_id: int, rows: list[RosterRow]) -> int:
    """Replace the contest's roster with these people."""
    session.execute(delete(RosterEntry).where(RosterEntry.contest_id == contest_id))
    # One executemany, not an object per person: 25,000 ORM objects took seconds.
    session.execute(insert(RosterEntry), [{"contest_id": contest_id, "name": row.name, "phone": row.phone,
                                           "unit_id": row.unit_id} for row in rows])
    session.commit()
    return len(rows)


def import_roster(session: Session, contest_id: int, data: bytes, filename: str) -> int:
    return store_roster(session, contest_id, read_roster(session, data, filename))
