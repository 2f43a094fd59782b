"""Host side of a node's world socket: what tests, the live view and the capture use."""

from __future__ import annotations

import json
import socket
import time
from collections import deque
from typing import Any

from cuenode.emulator.world import Frame, Reader, WorldError, pack_json, unpack_frame

__all__ = ["WorldClient", "WorldError"]


class WorldClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = Reader()
        self.frames: deque[Frame] = deque()
        self.events: deque[dict[str, Any]] = deque()
        self.next_id = 1
        self.max_frames = 100_000
        self.received = 0  # frames received so far (the deque may drop old ones)

    @classmethod
    def connect(cls, path: str, timeout: float = 10.0) -> WorldClient:
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock)
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise WorldError(f"node world socket {path} is not answering") from None
                time.sleep(0.02)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WorldClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- messages -----------------------------------------------------------------------
    def _pump(self, timeout: float | None) -> list[tuple[bytes, bytes]]:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except TimeoutError:
            return []
        if not data:
            raise WorldError("node closed its world socket (reset or power cut)")
        out = []
        for kind, payload in self.reader.feed(data):
            if kind == b"D":
                self.frames.append(unpack_frame(payload))
                self.received += 1
                if len(self.frames) > self.max_frames:
                    self.frames.popleft()
            else:
                out.append((kind, payload))
        return out

    def request(self, op: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(pack_json(dict(args, op=op, id=rid)))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorldError(f"node did not answer {op!r} within {timeout:.0f} s")
            for _kind, payload in self._pump(left):
                msg = json.loads(payload)
                if msg.get("id") == rid:
                    if not msg.get("ok", False):
                        raise WorldError(msg.get("error", "failed"))
                    return msg
                self.events.append(msg)

    def request_frame(self) -> Frame | None:
        """The node's most recent DMX frame (None before its first). With DMX streaming on,
        streamed frames arrive in between: a `state` request after `last_frame` marks the end
        of its answer, and the newest frame received up to then is the node's current one (a
        streamed frame that came first is older, and was once returned by mistake)."""
        before = self.received
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(pack_json({"op": "last_frame", "id": rid}))
        self.request("state")
        new = min(self.received - before, len(self.frames))
        if new == 0:
            return None  # the node answered {"frame": null}: no frame sent yet
        return max(list(self.frames)[-new:], key=lambda f: f.t_us)

    # -- conveniences -------------------------------------------------------------------
    def advance(self, ms: int = 0, us: int = 0) -> int:
        return int(self.request("advance", ms=ms, us=us)["now_us"])

    def state(self) -> dict[str, Any]:
        return self.request("state")

    def drive(self, gpio: int, level: int | None) -> None:
        self.request("drive", gpio=gpio, level=level)

    def subscribe(self, dmx: bool | None = None, pins: bool | None = None) -> None:
        args: dict[str, Any] = {}
        if dmx is not None:
            args["dmx"] = dmx
        if pins is not None:
            args["pins"] = pins
        self.request("subscribe", **args)

    def collect(self, seconds: float) -> None:
        """Read streamed frames/events for `seconds` of wall time (real-time nodes)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for _, payload in self._pump(left):
                self.events.append(json.loads(payload))
