"""WebSocket compression for the live channel: each broadcast frame is compressed once, not once per socket.

Browsers offer permessage-deflate (RFC 7692) and simple-websocket, under engine.io, accepts it
with context takeover: every socket keeps a zlib compressor of its own (about 200 kB each) and
compresses every frame again. The board and stats pushed to 1,000 watchers three times a second
were 6,000 cache-cold compressions a second: a quarter of a core, and twice the API's p99
(README, tenth session: 87 % of a core with deflating watchers, 60 % without).

Here the server declares server_no_context_takeover, which RFC 7692 lets it do whatever the
client offered: each message is then compressed on its own, so the same frame compresses to
the same bytes on every socket, and the few most recent frames are kept and reused. A stats
frame of 4.4 kB goes out as 0.7 kB, a board of 1.7 kB as 0.3 kB: a phone watching at the peak
gets ~1.6 kB/s (20 kB/s plain; ~0.25 kB/s with context takeover, which is what one compression
per socket bought).
"""

from __future__ import annotations

import threading

import simple_websocket.ws
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

RECENT_FRAMES = 32  # a room's burst is one frame; a few rooms and games push at once


class SharedDeflate(PerMessageDeflate):
    """permessage-deflate whose server side compresses each message alone and reuses recent results."""

    # One per process, shared by its sockets; the oldest frame goes first. The lock is for the
    # threading server (under gevent it never waits: nothing in it yields).
    _recent: dict[tuple[int, bytes], bytes] = {}
    _lock = threading.Lock()

    def __init__(self, **params) -> None:
        params.setdefault("server_no_context_takeover", True)
        super().__init__(**params)

    def frame_outbound(self, proto, opcode, rsv, data, fin):
        whole = fin and opcode in (Opcode.TEXT, Opcode.BINARY)
        if proto.client or not whole or not self.server_no_context_takeover:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        key = (self.server_max_window_bits, bytes(data))
        compressed = self._recent.get(key)
        if compressed is None:
            compressed = super().frame_outbound(proto, opcode, rsv, data, fin)[1]
            with self._lock:
                self._recent[key] = compressed
                if len(self._recent) > RECENT_FRAMES:
                    del self._recent[next(iter(self._recent))]
        return RsvBits(True, rsv[1], rsv[2]), compressed


def install() -> None:
    """Make simple-websocket accept connections with SharedDeflate (it names PerMessageDeflate itself)."""
    simple_websocket.ws.PerMessageDeflate = SharedDeflate
