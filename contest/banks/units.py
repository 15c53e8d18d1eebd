"""Units (单位) with their headcount: read from xlsx/csv, stored by name (a re-import updates)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.banks import notation
from contest.banks.questions import Fault
from contest.banks.tables import Sheet, TableFileError, read_tables
from contest.models import Unit
from contest.numbers import whole_number

_ROLES = {
    "name": ("单位名称", "单位", "名称", "单位全称", "基层单位"),
    "headcount": ("职工人数", "人数", "职工数", "在职职工人数", "职工总数", "会员人数"),
    "parent": ("上级单位", "上级", "主管单位", "所属单位", "上级工会"),
}
_NAMES = {notation.fold(alias): role for role, aliases in _ROLES.items() for alias in aliases}
MAX_NAME = 200


@dataclass
class UnitRow:
    name: str
    headcount: int
    parent_name: str | None = None
    row: int | None = None


def find_columns(sheet: Sheet, names: dict[str, str], required: tuple[str, ...]) -> tuple[int, dict[str, int]] | None:
    """The header row (index) among the first rows and the column of each role it names."""
    for index, (_number, cells) in enumerate(sheet.rows[:20]):
        columns: dict[str, int] = {}
        for column, cell in enumerate(cells):
            role = names.get(notation.fold(cell.split("（")[0].split("(")[0]))
            if role and role not in columns:
                columns[role] = column
        if all(role in columns for role in required):
            return index, columns
    return None


def cell(cells: list[str], columns: dict[str, int], role: str) -> str:
    column = columns.get(role)
    return cells[column] if column is not None and column < len(cells) else ""


def read_units(data: bytes, filename: str) -> tuple[list[UnitRow], list[Fault]]:
    """Every unit in the file and every fault (第N行); raises TableFileError for a refused file."""
    sheets = read_tables(data, filename)
    for sheet in sheets:
        found = find_columns(sheet, _NAMES, ("name", "headcount"))
        if found:
            break
    else:
        raise TableFileError("找不到表头：需要「单位名称」和「职工人数」两列（「上级单位」可选）。")
    index, columns = found
    units: list[UnitRow] = []
    faults: list[Fault] = []
    seen: dict[str, int] = {}
    for number, cells in sheet.rows[index + 1:]:
        name = cell(cells, columns, "name")
        raw = cell(cells, columns, "headcount").replace(",", "")
        problems = []
        if not name:
            problems.append("单位名称为空")
        elif len(name) > MAX_NAME:
            problems.append(f"单位名称超过 {MAX_NAME} 字")
        elif name in seen:
            problems.append(f"单位「{name}」与第{seen[name]}行重复")
        headcount = whole_number(raw)
        if headcount is None:
            problems.append(f"职工人数「{raw}」应为 0 或正整数")
        if problems:
            faults.extend(Fault(number, problem) for problem in problems)
            continue
        seen[name] = number
        units.append(UnitRow(name, headcount, cell(cells, columns, "parent") or None, number))
    if not units and not faults:
        raise TableFileError("文件中没有单位。")
    return units, faults


def store_units(session: Session, units: list[UnitRow]) -> tuple[int, int]:
    """Add new units and update the headcount of known ones; returns (added, updated)."""
    known = {unit.name: unit for unit in session.scalars(select(Unit))}
    added = updated = 0
    for row in units:
        unit = known.get(row.name)
        if unit is None:
            session.add(Unit(name=row.name, headcount=row.headcount, parent_name=row.parent_name))
            added += 1
        elif (unit.headcount, unit.parent_name) != (row.headcount, row.parent_name or unit.parent_name):
            unit.headcount = row.headcount
            unit.parent_name = row.parent_name or unit.parent_name
            updated += 1
    session.commit()
    return added, updated
