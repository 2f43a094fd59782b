"""In-process node for host link tests: the firmware's NodeLink and Store behind a real pty
(os.openpty), so the host side runs unchanged through pyserial. The engine is the one stand-in
(`RecordingNode`) at the nodelink interface; fault injection sits on the wire."""

from __future__ import annotations

import hashlib
import os
import random
import select
import threading
import time
import tty
from pathlib import Path

from cuefw import link
from cuefw.nodelink import NodeLink
from cuefw.store import Store
from cuenode.build import showbin


class RecordingNode:
    """Stands in for the cue engine: counts cues, records calls, keeps a small log."""

    def __init__(self, node_id: str = "stage-left") -> None:
        self.node_id = node_id
        self.board = "emulator"
        self.fw_version = "0.1.0-test"
        self.cue = -1
        self.armed = False
        self.calls: list[tuple] = []
        self.shows: list[tuple[str, bool]] = []
        self.events: list[list] = []
        self.fading = False
        self.want_repl = False
        self.info: tuple[str, bytes] | None = None

    def show_info(self):
        return self.info

    def _event(self, now: int, text: str) -> None:
        self.events.append([now, text])

    def go(self, now: int) -> dict:
        self.cue += 1
        self.calls.append(("go", now))
        self._event(now, f"GO cue {self.cue}")
        return {"cue": self.cue}

    def back(self, now: int) -> dict:
        self.cue = max(0, self.cue - 1)
        self.calls.append(("back", now))
        return {"cue": self.cue}

    def stop(self, now: int) -> None:
        self.calls.append(("stop", now))

    def goto(self, number: int, now: int) -> dict:
        self.calls.append(("goto", number))
        return {"cue_number": number}

    def arm(self, now: int) -> None:
        self.armed = True
        self.calls.append(("arm", now))

    def disarm(self, now: int) -> None:
        self.armed = False
        self.calls.append(("disarm", now))

    def status(self, now: int) -> dict:
        return {"cue": self.cue, "armed": self.armed, "uptime_ms": now}

    def log(self, since: int, limit: int):
        return self.events[since : since + limit], min(len(self.events), since + limit)

    def new_show(self, path: str, force: bool, now: int, top: bool = False) -> bool:
        self.shows.append((path, force))
        with open(path, "rb") as f:
            data = f.read()
        self.info = ("pushed", data[-32:])
        return force or not self.fading

    def repl(self) -> None:
        self.want_repl = True


class PtyNode:
    """A node handler thread on the master side of a pty; `port` is the slave's path.

    Faults on the host->node direction: `corrupt_rate` flips a byte with that probability per
    read, `drop_after_chunks` goes silent after that many PUSH_CHUNK requests (a pulled cable)."""

    def __init__(
        self,
        flash_dir: Path,
        node: RecordingNode | None = None,
        *,
        max_show: int = 1 << 20,
        chunk: int = 2048,
        window: int = 8,
        seed: int = 1,
        inflate: bool = True,
    ) -> None:
        self.node = node or RecordingNode()
        self.store = Store(
            str(flash_dir),
            hashlib.sha256,
            max_size=max_show,
            inflate="auto" if inflate else None,
        )
        self.nodelink = NodeLink(self.node, self.store, chunk, window)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.port = os.ttyname(self.slave)
        self.corrupt_rate = 0.0
        self.drop_after_chunks: int | None = None
        self.silent = False
        self.override = None  # frame -> response bytes, to play a different firmware
        self.rng = random.Random(seed)
        self.chunks_seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def __enter__(self) -> PtyNode:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self.slave)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            self._handle(data)

    def _handle(self, data: bytes) -> None:
        if self.corrupt_rate and self.rng.random() < self.corrupt_rate:
            buf = bytearray(data)
            buf[self.rng.randrange(len(buf))] ^= 1 << self.rng.randrange(8)
            data = bytes(buf)
        out = bytearray()
        now = int((time.monotonic() - self.t0) * 1000)
        for frame in self.nodelink.deframer.feed_iter(data):
            if frame.ftype == link.T_PUSH_CHUNK:
                self.chunks_seen += 1
                if self.drop_after_chunks is not None and self.chunks_seen > self.drop_after_chunks:
                    self.silent = True
            if self.silent:
                continue
            if self.override is not None:
                out += self.override(frame)
                continue
            out += self.nodelink.handle(frame, now)
        if out:
            os.write(self.master, bytes(out))


def demo_blob(node_id: str = "stage-left", n_cues: int = 40, n_params: int = 64) -> bytes:
    """A real compiled show from the host encoder (cuenode.build.showbin)."""
    cues = tuple(
        showbin.CueRec(
            number=(i + 1) * 1000,
            label=f"cue {i + 1}",
            up_ms=1000 + i,
            changes=tuple((p, (i * 7 + p) % 256) for p in range(n_params)),
        )
        for i in range(n_cues)
    )
    show = showbin.NodeShow(
        node_id=node_id,
        show_name="link test",
        params=tuple((p + 1, 0) for p in range(n_params)),
        base_look=(0,) * n_params,
        cues=cues,
    )
    return showbin.encode(show)


def sized_blob(node_id: str, size: int) -> bytes:
    """A real compiled show of about `size` bytes (more cues until it is big enough)."""
    n_params = 128
    per_cue = 32 + 4 * n_params + 8
    n_cues = max(1, size // per_cue)
    return demo_blob(node_id, n_cues, n_params)
