"""The app's own scripts and styles, kept by phones until they change.

Every `url_for('static', …)` carries `?v=` and the first characters of the file's SHA-256. A
request naming the file's current version is answered as cacheable for a year: a phone loads
each script once, not once per page (a revalidation is a request, and each one cost the server
about as much as an answer). A changed file gets a new address, so no phone keeps an old script
beside a new page. A request without a version, or naming an old one, is answered as before:
stored, but checked again each time (ETag, 304).
"""

from __future__ import annotations

import hashlib
import os
import threading
from stat import S_ISREG

from flask import Flask, request, send_from_directory
from werkzeug.security import safe_join

YEAR_S = 365 * 24 * 3600


class Versions:
    """A file's version, recomputed when its size or modification time changes (a deploy)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._known: dict[str, tuple[int, int, str]] = {}

    def of(self, filename: str) -> str | None:
        """None for anything but a regular file inside the folder: the name may come from a
        request, and must not make the server read /dev/zero or a file elsewhere."""
        path = safe_join(self.folder, filename)
        try:
            stat = os.stat(path) if path else None
        except OSError:
            stat = None
        if stat is None or not S_ISREG(stat.st_mode):
            return None  # its URL gets no version, and the request a 404
        # Kept by the file's path, not the name asked for: "js/./a.js" and "js//a.js" are one file,
        # and names from requests must not grow the memory without bound.
        with self._lock:
            known = self._known.get(path)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        with open(path, "rb") as file:
            version = hashlib.sha256(file.read()).hexdigest()[:12]
        with self._lock:
            self._known[path] = (stat.st_mtime_ns, stat.st_size, version)
        return version


def register(app: Flask) -> None:
    versions = Versions(app.static_folder)

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = versions.of(values["filename"])
            if version:
                values["v"] = version

    def static(filename: str):
        current = request.args.get("v") is not None and request.args.get("v") == versions.of(filename)
        # max_age None: Flask's default for the rest (no-cache, so the ETag is checked each time).
        response = send_from_directory(app.static_folder, filename, max_age=YEAR_S if current else None)
        if current:
            response.cache_control.immutable = True  # not even revalidated on a reload
        return response

    app.view_functions["static"] = static
