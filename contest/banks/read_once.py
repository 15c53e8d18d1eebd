"""A kept bank upload read once, and in a child process when the server is cooperative.

The preview, its "faults only" view and the confirm each read the file again: about 1.7 s of
CPU each for 10,000 questions, during which a gevent server answered nobody. Now the first
of them reads it (in a child process under gevent: contest/offload.py) and keeps the result
beside the file; the others load that.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
from pathlib import Path

from contest import offload
from contest.banks.questions import LoadResult
from contest.banks.reader import BankFileError

RESULT = "read.pickle"
TIMEOUT_S = 300
log = logging.getLogger(__name__)


def read_kept(folder: Path, filename: str) -> LoadResult:
    """The upload kept in `folder` (as `data`) read as `filename`; BankFileError if refused."""
    kept = _kept(folder)
    if kept is None:
        try:
            kept = offload.call("contest.banks.reader", "read_bank", (folder / "data").read_bytes(), filename,
                                timeout_s=TIMEOUT_S)
        except BankFileError as error:
            kept = error.message
        except subprocess.TimeoutExpired:
            raise BankFileError("读取文件超时，请拆分后再上传。") from None
        partial = folder / f"{RESULT}.part"
        partial.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(folder / RESULT)  # whole or absent for a reader in another process
    if isinstance(kept, str):
        raise BankFileError(kept)
    return kept


def _kept(folder: Path) -> LoadResult | str | None:
    # Written only by this server into its own instance folder, so unpickling it is safe.
    try:
        return pickle.loads((folder / RESULT).read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # written by another version of the code: read the file again
        log.warning("a kept bank read in %s could not be loaded; reading the file again", folder)
        return None
