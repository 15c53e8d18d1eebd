"""The header block of one proxied answer call, parsed by gevent's default (http.client and the
email package) and by contest/request_headers.py: CPU time and Python function calls each.

    .venv/bin/python bench/header_parse.py
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gevent import pywsgi  # noqa: E402

from contest.request_headers import RequestHeaders  # noqa: E402

# What nginx sends for PUT /api/v1/attempts/…/answers/… from a phone (deploy/nginx.conf).
BLOCK = (b"Host: jingda.example.cn\r\nX-Forwarded-For: 10.12.7.31\r\nX-Forwarded-Proto: https\r\n"
         b"Content-Length: 16\r\nUser-Agent: Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 "
         b"(KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36\r\nContent-Type: application/json\r\n"
         b"Authorization: Bearer 3f9c1e7a5b2d4c6e8f0a1b3c5d7e9f11\r\nAccept: */*\r\n"
         b"Origin: https://jingda.example.cn\r\nReferer: https://jingda.example.cn/c/1/play\r\n"
         b"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: zh-CN,zh;q=0.9\r\n\r\n")


def as_the_handler_uses_it(parse) -> None:
    """Parse, then read what gevent's handler reads of every request."""
    headers = parse(io.BytesIO(BLOCK))
    headers.get("transfer-encoding", "")
    headers.get("content-length")
    headers.get("Connection", "")
    headers.get("Connection", "")
    headers.get("Upgrade", "")
    headers.getheader("content-length")
    headers.typeheader  # noqa: B018
    list(headers.headers)


def main() -> None:
    for name, parse in (("http.client + email", pywsgi.headers_factory), ("request_headers", RequestHeaders.read)):
        number = 20_000
        seconds = min(timeit.repeat(lambda p=parse: as_the_handler_uses_it(p), number=number, repeat=3))
        profile = cProfile.Profile()
        profile.runcall(as_the_handler_uses_it, parse)
        print(f"{name:22s} {seconds / number * 1e6:6.1f} µs, {pstats.Stats(profile).total_calls:4d} function calls "
              f"per request")


if __name__ == "__main__":
    main()
