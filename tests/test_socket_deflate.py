"""WebSocket compression of the live channel: each frame compressed on its own, once for all sockets."""

from __future__ import annotations

import base64
import json
import os
import socket
import zlib

import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode, RsvBits

from contest.web.socket_deflate import SharedDeflate
from tests.play_support import make_bank, make_contest, make_units
from tests.server_process import ServerProcess

OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium sends


def _inflate_alone(payload: bytes) -> bytes:
    """Inflate one message with a fresh decompressor: only possible without the server's context takeover."""
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


class RawSocket:
    """A WebSocket client that shows the frames' bits and bytes as they came over the wire."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Extensions: {OFFER}\r\n\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        self.status = int(head.split(" ", 2)[1])
        self.headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                        for line in head.split("\r\n")[1:] if ":" in line}

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the socket"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the socket"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self) -> tuple[bool, bytes]:
        """The next frame from the server: (compressed, payload as sent)."""
        first, second = self._read(2)
        assert first & 0x80, "a whole message in one frame"
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read(8), "big")
        return bool(first & 0x40), self._read(length)

    def text(self) -> tuple[bool, bytes, str]:
        compressed, payload = self.frame()
        return compressed, payload, (_inflate_alone(payload) if compressed else payload).decode()

    def send(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        assert len(data) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(app, rt, stores, tmp_path):
    contest = make_contest(rt, make_bank(rt.session))
    make_units(rt.session)
    rt.session.commit()
    env = {"DATABASE_URL": stores["database_url"], "REDIS_URL": stores["redis_url"]}
    process = ServerProcess(tmp_path, env=env).start()
    yield process, contest.id
    process.stop()


def _join(port: int, cid: int) -> tuple[RawSocket, dict[str, tuple[bool, bytes]]]:
    """Open the live channel as a browser does and join the contest; the frames that came, by event."""
    ws = RawSocket(port)
    assert ws.status == 101
    ws.text()  # engine.io's open packet
    ws.send("40/live,")
    assert ws.text()[2].startswith("40/live,")
    ws.send(f'42/live,1["join",{{"contest":{cid}}}]')
    frames = {}
    while "ack" not in frames:
        compressed, payload, text = ws.text()
        if text.startswith("43/live,1"):
            frames["ack"] = (compressed, payload)
            assert json.loads(text[len("43/live,1"):]) == [{"joined": cid}]
        elif text.startswith("42/live,"):
            event, body = json.loads(text[len("42/live,"):])
            frames[event] = (compressed, payload)
            assert body  # inflated alone, it is the whole frame
    return ws, frames


def test_frames_are_compressed_each_on_its_own(server):
    process, cid = server
    first, frames = _join(process.port, cid)
    second, again = _join(process.port, cid)
    try:
        extensions = first.headers["sec-websocket-extensions"]
        assert extensions.startswith("permessage-deflate") and "server_no_context_takeover" in extensions
        compressed, payload = frames["stats"]
        assert compressed
        # The same frame is the same bytes on every socket, so one compression serves them all.
        assert again["stats"] == (True, payload)
    finally:
        first.close()
        second.close()


def _server_side(offer: str = OFFER) -> tuple[SharedDeflate, FrameProtocol]:
    deflate = SharedDeflate()
    assert deflate.accept(offer) is not None
    return deflate, FrameProtocol(client=False, extensions=[deflate])


def test_the_same_message_is_compressed_once_for_all_sockets():
    message = json.dumps({"units": [{"name": f"单位{i}", "participants": i} for i in range(20)]}).encode()
    (a, proto_a), (b, proto_b) = _server_side(), _server_side()
    rsv = RsvBits(False, False, False)
    sent_a = a.frame_outbound(proto_a, Opcode.TEXT, rsv, message, True)
    sent_b = b.frame_outbound(proto_b, Opcode.TEXT, rsv, message, True)
    assert sent_a[0].rsv1 and sent_b[0].rsv1
    assert sent_b[1] is sent_a[1]
    assert _inflate_alone(sent_a[1]) == message
    other = message.replace(b"19", b"91")
    assert _inflate_alone(a.frame_outbound(proto_a, Opcode.TEXT, rsv, other, True)[1]) == other


def test_a_smaller_window_the_client_asks_for_is_kept():
    message = b"x" * 5000
    (wide, proto_wide), (narrow, proto_narrow) = _server_side(), _server_side(OFFER + "; server_max_window_bits=9")
    rsv = RsvBits(False, False, False)
    assert narrow.server_max_window_bits == 9
    sent_wide = wide.frame_outbound(proto_wide, Opcode.TEXT, rsv, message, True)[1]
    sent_narrow = narrow.frame_outbound(proto_narrow, Opcode.TEXT, rsv, message, True)[1]
    assert sent_narrow is not sent_wide
    assert zlib.decompressobj(-9).decompress(sent_narrow + b"\x00\x00\xff\xff") == message
