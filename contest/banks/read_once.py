"""A kept bank upload read once, and in a child process when the server is cooperative.

The preview, its "faults only" view and the confirm each read the file again: about 1.7 s of
CPU each for 10,000 questions, during which a gevent server answered nobody. Now the first
of them reads it (in a child process under gevent, see contest/offload.py) and keeps the
result beside the file; the others load that.

    python -m contest.banks.read_once FOLDER FILENAME     (reads FOLDER/data, writes FOLDER/read.pickle)
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

from contest.banks.questions import LoadResult
from contest.banks.reader import BankFileError, read_bank
from contest.offload import cooperative, run_child

RESULT = "read.pickle"
TIMEOUT_S = 300
log = logging.getLogger(__name__)


def read_kept(folder: Path, filename: str) -> LoadResult:
    """The upload kept in `folder` read as `filename`; BankFileError if the file is refused."""
    kept = _kept(folder)
    if kept is None:
        if cooperative():
            _read_in_child(folder, filename)
        else:
            _read_and_keep(folder, filename)
        kept = _kept(folder)
    if isinstance(kept, str):
        raise BankFileError(kept)
    if kept is None:
        raise BankFileError("读取文件失败，请用 Excel 打开后重新保存再上传。")
    return kept


def _read_in_child(folder: Path, filename: str) -> None:
    try:
        done = run_child("contest.banks.read_once", [str(folder), filename], TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BankFileError("读取文件超时，请拆分后再上传。") from None
    if done.returncode != 0:
        log.error("reading a bank upload failed: %s", (done.stderr or "")[-2000:])


def _read_and_keep(folder: Path, filename: str) -> None:
    try:
        outcome: LoadResult | str = read_bank((folder / "data").read_bytes(), filename)
    except BankFileError as error:
        outcome = error.message
    partial = folder / f"{RESULT}.part"
    partial.write_bytes(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    partial.replace(folder / RESULT)  # whole or absent for a reader in another process


def _kept(folder: Path) -> LoadResult | str | None:
    # Written only by this server into its own instance folder, so unpickling it is safe.
    try:
        return pickle.loads((folder / RESULT).read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # written by another version of the code: read the file again
        log.warning("a kept bank read in %s could not be loaded; reading the file again", folder)
        return None


def main(argv: list[str]) -> int:
    folder, filename = argv
    _read_and_keep(Path(folder), filename)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
