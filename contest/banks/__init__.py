"""The question-bank loader: read (xlsx/csv/json → rows), notation, questions, store (all or nothing)."""

from contest.banks.questions import (
    TYPE_NAMES,
    TYPES,
    CanonicalQuestion,
    Fault,
    LoadResult,
    stem_key,
)
from contest.banks.reader import BankFileError, build_question, read_bank
from contest.banks.store import (
    BankRefused,
    bank_summaries,
    bank_users,
    check_against_bank,
    delete_bank,
    store_bank,
)
from contest.banks.tables import MAX_BYTES, MAX_ROWS, TableFileError
from contest.banks.template import TEMPLATE_COLUMNS, build_template, write_bank
from contest.banks.units import UnitRow, read_units, store_units

__all__ = [
    "MAX_BYTES", "MAX_ROWS", "TEMPLATE_COLUMNS", "TYPES", "TYPE_NAMES", "BankFileError", "BankRefused",
    "CanonicalQuestion", "Fault", "LoadResult", "TableFileError", "UnitRow", "bank_summaries",
    "bank_users", "build_question", "build_template", "check_against_bank", "delete_bank", "read_bank", "read_units", "stem_key",
    "store_bank", "store_units", "write_bank",
]
