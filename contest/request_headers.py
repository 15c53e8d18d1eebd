"""A request's header block, read for gevent's WSGI handler without the email package.

gevent's handler parses headers with `http.client.parse_headers`, which hands them to the
email package's feed parser: with the handler's reads, 39 µs and 467 Python calls a request
against 16 µs and 234 here (bench/header_parse.py), 3 to 5 % of a server's time under the answer call. This reads the same lines with the same limits and
gives the same fields (compat32's rules: the first field of a name wins, folded lines are
kept in the value), with the few methods the handler uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.client import _MAXHEADERS, _MAXLINE  # the limits http.client itself enforces

_ENDS = (b"\r\n", b"\n", b"")
# A field name as the email parser accepts it: visible ASCII but the colon (may be empty).
_NAME_CHARS = frozenset(chr(c) for c in range(0o41, 0o177) if c != ord(":"))


class RequestHeaders:
    """The parsed fields; `status` is non-empty when the block was refused (the handler answers 400)."""

    __slots__ = ("_fields", "_first", "status")

    def __init__(self, fields: list[tuple[str, str]] | None = None, status: str = "") -> None:
        self._fields = fields or []
        self._first: dict[str, str] = {}  # lower-cased name → its first value, for get()
        for key, value in reversed(self._fields):
            self._first[key.lower()] = value
        self.status = status

    @classmethod
    def read(cls, fp, *_args) -> RequestHeaders:
        """Read header lines from `fp` up to the blank line, as `http.client.parse_headers` does."""
        lines: list[str] = []
        while True:
            raw = fp.readline(_MAXLINE + 1)
            if len(raw) > _MAXLINE:
                return cls(status="Line too long")
            if len(lines) + 1 > _MAXHEADERS:  # the blank line counts, as in http.client
                return cls(status="Too many headers")
            if raw in _ENDS:
                break
            lines.append(raw.decode("iso-8859-1"))
        fields: list[tuple[str, str]] = []
        current: list[str] = []  # the lines of the field being read
        for line in lines:
            if "\r" in line.removesuffix("\n").removesuffix("\r"):
                # A bare CR: the email parser would cut the line there (RFC 9112: refuse it).
                return cls(status="Bare CR in a header line")
            if line[0] in " \t":
                if current:  # a folded line belongs to the field above; a first one is ignored
                    current.append(line)
                continue
            if current:
                fields.append(_field(current))
                current = []
            colon = line.find(":")
            if colon < 0 or not _NAME_CHARS.issuperset(line[:colon]):
                break  # not a header line: the email parser takes it and the rest as a body
            if colon > 0:  # ":value" has no name: skipped
                current = [line]
        if current:
            fields.append(_field(current))
        return cls(fields)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    getheader = get

    def __delitem__(self, name: str) -> None:
        name = name.lower()
        self._fields = [(key, value) for key, value in self._fields if key.lower() != name]
        self._first.pop(name, None)

    @property
    def headers(self) -> Iterator[str]:
        """The fields as "Name: value\\r\\n" lines, which the handler turns into HTTP_* keys."""
        for key, value in self._fields:
            yield f"{key}: {value}\r\n"

    @property
    def typeheader(self) -> str | None:
        return self.get("content-type")


def _field(lines: list[str]) -> tuple[str, str]:
    name, value = lines[0].split(":", 1)
    return name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")
