"""Fuzzing the bank loader: whatever an organizer uploads, read_bank answers a LoadResult or
refuses the file with BankFileError (a Chinese message) and never raises anything else."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from contest.banks import BankFileError, LoadResult, read_bank
from tests.bank_files import HEADER, one_sheet

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = [".csv", ".xlsx", ".json", ".txt", ".xls", "", ".CSV"]
# Values organizers type, and values that trip parsers.
WORDS = ["单选", "多选", "判断", "填空", "单选题", "A", "B", "AB", "A,C", "A、C", "ABCDEFGH", "Z", "对", "错", "正确",
         "错误", "√", "×", "上海|上海市", "|", ",", "1", "0", "-1", "1.5", "1e400", "nan", "inf", "-inf", "１",
         "=1+1", "@SUM(A1)", "序号", "题目", "选项", "答案", "必填：", "说明：", " ", "\n", "\t", "\"", "'",
         "\u200b", "\ufeff", "x" * 3000]
cell_text = st.one_of(st.sampled_from(WORDS), st.text(max_size=30))


def _loaded(data: bytes, filename: str) -> None:
    try:
        result = read_bank(data, filename)
    except BankFileError as error:
        assert error.message and isinstance(error.message, str)
        return
    assert isinstance(result, LoadResult)
    for fault in result.faults:
        assert str(fault)


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix):
    _loaded(data, "bank" + suffix)


@FUZZ
@given(data=st.binary(max_size=512), prefix=st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04",
                                                              b"{", b"[", b"\xd0\xcf\x11\xe0"]))
def test_random_bytes_behind_a_telling_prefix(data, prefix):
    for suffix in (".csv", ".xlsx", ".json"):
        _loaded(prefix + data, "bank" + suffix)


@FUZZ
@given(text=st.text(max_size=1024), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_random_csv_text(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be saved in any file
    _loaded(data, "bank.csv")


rows = st.lists(st.lists(cell_text, max_size=len(HEADER) + 2), min_size=1, max_size=8)


@FUZZ
@given(rows=rows, header=st.one_of(st.just(HEADER), st.lists(cell_text, min_size=1, max_size=12)),
       delimiter=st.sampled_from([",", "\t"]))
def test_random_cells_under_a_header_in_csv(rows, header, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        data = buffer.getvalue().encode("utf-8")
    except UnicodeEncodeError:
        return
    _loaded(data, "bank.csv")


xlsx_cell = st.one_of(
    st.none(), cell_text, st.integers(min_value=-(10**18), max_value=10**18), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(xlsx_cell, max_size=len(HEADER) + 2), min_size=1, max_size=6))
def test_random_cell_values_in_xlsx(rows):
    try:
        data = one_sheet(rows)
    except IllegalCharacterError:
        return  # openpyxl cannot write control characters: Excel cannot hold them either
    _loaded(data, "bank.xlsx")


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), cell_text)
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(cell_text, inner,
                                                                                                    max_size=4),
                          max_leaves=12)
json_question = st.fixed_dictionaries({}, optional={
    key: json_value for key in ("type", "stem", "options", "answer", "explanation", "score", "category", "difficulty")})


@FUZZ
@given(body=st.one_of(json_value, st.lists(json_question, max_size=5),
                      st.fixed_dictionaries({"questions": st.lists(json_question, max_size=5)})))
def test_random_json(body):
    try:
        data = json.dumps(body, ensure_ascii=False, allow_nan=True).encode("utf-8")
    except UnicodeEncodeError:
        return
    _loaded(data, "bank.json")


def test_json_with_nan_and_infinity_scores_is_read_not_crashed():
    body = [{"type": "判断", "stem": "题目", "answer": True, "score": math.nan},
            {"type": "判断", "stem": "题目二", "answer": True, "score": math.inf}]
    _loaded(json.dumps(body).encode(), "bank.json")


def test_truncated_utf16_csv_is_refused_with_a_message():
    """Found by the fuzzer: a UTF-16 byte-order mark before an odd number of bytes raised UnicodeDecodeError."""
    for data in (b"\xff\xfe\x00\x00\x00\x00\x00", b"\xfe\xff\x00"):
        try:
            read_bank(data, "bank.csv")
        except BankFileError as error:
            assert "编码" in error.message
        else:
            raise AssertionError("a truncated UTF-16 file was read")
