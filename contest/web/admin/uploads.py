"""Uploaded bank files kept on disk between the preview and the confirm (an hour at most).

The bytes stay on the server (never in the cookie); a random token names them, and only
the admin who uploaded may use it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from contest.clock import Clock

KEEP_S = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class PendingUpload:
    token: str
    filename: str
    admin_id: int
    bank_id: int | None  # add to this bank, or
    bank_name: str  # the new bank's name (the existing bank's name when bank_id is set)
    folder: Path  # where the file is kept (as `data`), with what was read of it


class PendingUploads:
    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self.clock = clock

    def keep(self, data: bytes, filename: str, admin_id: int, bank_id: int | None, bank_name: str) -> str:
        """Store an upload and return its token; older uploads past their hour are removed."""
        self.sweep()
        token = secrets.token_urlsafe(24)
        place = self.folder / token
        place.mkdir(parents=True, mode=0o700)
        (place / "data").write_bytes(data)
        meta = {"filename": filename, "admin_id": admin_id, "bank_id": bank_id,
                "bank_name": bank_name, "saved_at": self._now()}
        (place / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
        return token

    def get(self, token: str, admin_id: int) -> PendingUpload | None:
        """The upload behind `token` if it is this admin's and not yet expired."""
        meta = self._meta(token)
        if meta is None or meta["admin_id"] != admin_id:
            return None
        if self._now() - meta["saved_at"] > KEEP_S:
            self.drop(token)
            return None
        place = self.folder / token
        return PendingUpload(token, meta["filename"], meta["admin_id"], meta["bank_id"], meta["bank_name"], place)

    def drop(self, token: str) -> None:
        if _TOKEN.fullmatch(token):
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def sweep(self) -> None:
        if not self.folder.is_dir():
            return
        for place in self.folder.iterdir():
            meta = self._meta(place.name)
            if meta is None or self._now() - meta["saved_at"] > KEEP_S:
                shutil.rmtree(place, ignore_errors=True)

    def _meta(self, token: str) -> dict | None:
        if not _TOKEN.fullmatch(token):
            return None
        try:
            return json.loads((self.folder / token / "meta.json").read_text())
        except (OSError, ValueError):
            return None

    def _now(self) -> float:
        return self.clock.now().timestamp()
