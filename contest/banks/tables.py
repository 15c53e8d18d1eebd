"""Uploaded files → plain tables of text, with the row numbers Excel shows; refuses unsafe files.

Every cell becomes the text it shows: a number typed into Excel as 1921 is "1921", never
"1921.0". Nothing here knows about questions; the bank, unit and roster readers share it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

import openpyxl
import openpyxl.xml

from contest.banks.notation import printable

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 40
# An xlsx is a zip: refuse one that unpacks to more than this, or that is mostly air. A bank of
# MAX_ROWS questions unpacks to about 20 MB; parsing takes about a second per 3 MB.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200
MAX_ZIP_ENTRIES = 1000
# Rows read, blank ones too, per row allowed: a sheet of a million blank rows (or of cells past
# MAX_COLUMNS) counts no row towards the limit and would be parsed to its end.
SCANNED_PER_ROW = 5

# openpyxl parses with defusedxml when it is installed; the loader refuses to run without it.
if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - guarded by setup.cfg's dependency
    raise ImportError("defusedxml must be installed: xlsx files are parsed with it")

_ENTITY_TRICK = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class TableFileError(Exception):
    """The whole file is refused; `message` is one Chinese line for the organizer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    name: str
    # (row number as Excel shows it, cells as trimmed text), blank rows left out.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


Progress = Callable[[int], None]


def read_tables(data: bytes, filename: str, progress: Progress | None = None, max_rows: int = MAX_ROWS) -> list[Sheet]:
    """Read an .xlsx or .csv upload into sheets of text rows (at most `max_rows` of them, blank
    rows not counted), refusing unsafe or oversized files."""
    suffix = PurePath(filename or "").suffix.lower()
    if len(data) > MAX_BYTES:
        raise TableFileError(f"文件有 {len(data) / 1024 / 1024:.1f} MB，超过 10 MB 的上限，请拆分后再上传。")
    if not data.strip():
        raise TableFileError("文件是空的。")
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableFileError("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 格式后再上传。")
    if suffix in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, progress, max_rows)
    if suffix in (".csv", ".txt", ""):
        return [_read_csv(data, PurePath(filename or "表格").stem, max_rows)]
    raise TableFileError(f"不支持的文件类型「{suffix}」，请上传 .xlsx、.csv 或 .json 文件。")


def cell_text(value: object) -> str:
    """The text a cell shows, trimmed; line breaks inside are kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, date | time):
        return value.isoformat()
    text = printable(str(value)).replace("\r\n", "\n").replace("\r", "\n").replace("_x000D_", "")
    return "\n".join(line.strip() for line in text.strip().split("\n"))


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TableFileError("文件不是有效的 Excel 工作簿（.xlsx），可能已损坏，或只是改了扩展名。") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise TableFileError("文件内部条目过多，不像正常的 Excel 工作簿，已拒绝。")
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_RATIO:
        raise TableFileError(
            f"文件解压后有 {unpacked / 1024 / 1024:.0f} MB，压缩比异常（疑似“压缩炸弹”），已拒绝。"
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise TableFileError(f"文件解压后有 {unpacked / 1024 / 1024:.0f} MB，超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB "
                             "的上限，请删除多余的内容（如图片、格式），或拆分后再上传。")
    if "xl/workbook.xml" not in archive.namelist():
        raise TableFileError("文件不是有效的 Excel 工作簿（.xlsx），找不到其中的工作表。")
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels")):
            with archive.open(entry) as part:
                if _ENTITY_TRICK.search(part.read(4096)):
                    raise TableFileError("文件含有 XML 实体定义（DOCTYPE/ENTITY），出于安全原因已拒绝。")
    return archive


def _read_xlsx(data: bytes, progress: Progress | None, max_rows: int) -> list[Sheet]:
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise TableFileError(f"无法读取这个 Excel 文件（{type(error).__name__}），请用 Excel 打开后重新保存再上传。") from None
    sheets: list[Sheet] = []
    total = 0
    try:
        for worksheet in workbook.worksheets:
            if getattr(worksheet, "sheet_state", "visible") != "visible":
                continue
            worksheet.reset_dimensions()  # some writers record a wrong size; read what is there
            sheet = Sheet(str(worksheet.title).strip())
            for number, values in enumerate(worksheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
                if number > SCANNED_PER_ROW * max_rows:
                    raise TableFileError(f"工作表「{sheet.name}」超过 {SCANNED_PER_ROW * max_rows} 行（含空行），"
                                         "请删除多余的行，或拆分后再上传。")
                cells = [cell_text(value) for value in values]
                if not any(cells):
                    continue
                total += 1
                if total > max_rows:
                    raise TableFileError(f"文件超过 {max_rows} 行的上限，请拆分后再上传。")
                sheet.rows.append((number, cells))
                if progress and total % 500 == 0:
                    progress(total)
            sheets.append(sheet)
    finally:
        workbook.close()
    return sheets


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:  # a UTF-16 mark on a file cut short or not text at all
            raise TableFileError("无法识别 CSV 的文字编码，请另存为“CSV UTF-8”或 GB18030 编码后再上传。") from None
    if b"\x00" in data:
        raise TableFileError("文件不是文本格式的 CSV，请上传 .xlsx，或在 Excel 中另存为 CSV。")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # what Excel on Chinese Windows saves
    except UnicodeDecodeError:
        raise TableFileError("无法识别 CSV 的文字编码，请另存为“CSV UTF-8”或 GB18030 编码后再上传。") from None


def _read_csv(data: bytes, name: str, max_rows: int) -> Sheet:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    sheet = Sheet(name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, 1):  # Excel shows one row per record
            cells = [cell_text(value) for value in record[:MAX_COLUMNS]]
            if not any(cells):
                continue
            if len(sheet.rows) >= max_rows:
                raise TableFileError(f"文件超过 {max_rows} 行的上限，请拆分后再上传。")
            sheet.rows.append((number, cells))
    except csv.Error as error:
        why = "有单元格超过 128 KB" if "field limit" in str(error) else "无法按 CSV 读取"
        raise TableFileError(f"CSV 格式有误（第{reader.line_num}行）：{why}，请用 Excel 打开后另存为 CSV 再上传。") from None
    return sheet
