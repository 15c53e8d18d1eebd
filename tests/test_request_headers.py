"""contest/request_headers.py gives gevent's handler what `http.client.parse_headers` gave it."""

from __future__ import annotations

import io

import pytest
from gevent import pywsgi, socket

from contest.request_headers import RequestHeaders
from contest.serving import gevent_server

NAMES = ("host", "content-type", "content-length", "connection", "x-forwarded-for", "authorization",
         "transfer-encoding", "x-folded", "upgrade", "missing")

BLOCKS = [
    b"Host: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
    b"Authorization: Bearer abc.def\r\nX-Forwarded-For: 10.0.0.7\r\nConnection: \r\n\r\nbody",
    b"Host: a\nConnection: keep-alive\n\n",                            # bare LF line ends
    b"X-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\n",    # the first of a name wins
    b"X-Folded: one\r\n two\r\n\tthree\r\nHost: h\r\n\r\n",             # folded lines stay in the value
    b" leading: fold\r\nHost: h\r\n\r\n",                               # a first folded line is dropped
    b":novalue\r\nHost: h\r\n\r\n",                                     # no name: skipped
    b"Host: h\r\nnot a header line\r\nConnection: close\r\n\r\n",      # the rest is a body
    b"Bad Name: x\r\nHost: h\r\n\r\n",                                  # a space in the name
    b"Host:   spaced   \r\nUpgrade:websocket\r\n\r\n",                  # leading blanks go, trailing stay
    b"Content-Type: text/plain; charset=\xe4\xb8\xad\r\n\r\n",           # bytes above 127, as Latin-1
    b"Transfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n",
    b"Host: cut off without an end",                                    # the peer closed mid-line
    b"\r\n",
    b"",
    b"".join(b"X-N%d: v\r\n" % i for i in range(99)) + b"\r\n",         # the limit: 100 lines with the blank one
]


def _both(block: bytes):
    return pywsgi.headers_factory(io.BytesIO(block)), RequestHeaders.read(io.BytesIO(block))


@pytest.mark.parametrize("block", BLOCKS)
def test_the_same_fields_as_http_client(block):
    theirs, ours = _both(block)
    assert ours.status == theirs.status == ""
    assert list(ours.headers) == list(theirs.headers)
    for name in NAMES:
        assert ours.get(name) == theirs.get(name), name
        assert ours.get(name.upper(), "-") == theirs.get(name.upper(), "-"), name
    assert ours.typeheader == theirs.typeheader
    del ours["content-length"], theirs["content-length"]
    assert list(ours.headers) == list(theirs.headers)


def test_the_same_limits_as_http_client():
    too_long = b"X-Long: " + b"a" * 70000 + b"\r\n\r\n"
    theirs, ours = _both(too_long)
    assert theirs.status and ours.status
    too_many = b"".join(b"X-N%d: v\r\n" % i for i in range(100)) + b"\r\n"
    with pytest.raises(Exception, match="more than 100 headers"):
        pywsgi.headers_factory(io.BytesIO(too_many))
    assert RequestHeaders.read(io.BytesIO(too_many)).status  # refused with a 400, not an exception


def test_a_bare_cr_is_refused():
    # The email parser cut such a line in two, so "A: b\rB: c" became two fields.
    assert RequestHeaders.read(io.BytesIO(b"X-A: b\rHost: evil\r\n\r\n")).status
    assert not RequestHeaders.read(io.BytesIO(b"X-A: b\r\n\r\n")).status


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
        return reply


def test_the_server_reads_requests_with_it():
    seen = []

    def app(environ, start_response):
        seen.append({k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))})
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    server = gevent_server(app, "127.0.0.1", 0)
    server.start()  # serves in this thread's gevent hub, while the client below waits on gevent sockets
    try:
        port = server.server_port
        reply = _exchange(port, b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 4\r\nX-Forwarded-For: 10.0.0.7\r\nConnection: close\r\n\r\nabcd")
        assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"abcd")
        assert seen[-1] == {"HTTP_HOST": "h", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "4",
                            "HTTP_X_FORWARDED_FOR": "10.0.0.7", "HTTP_CONNECTION": "close"}
        refused = _exchange(port, b"GET /x HTTP/1.1\r\nHost: h\r\nX-A: b\rX-B: c\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 400") and len(seen) == 1
    finally:
        server.stop()
