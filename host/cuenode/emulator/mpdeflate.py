"""MicroPython's built-in `deflate` module for the emulated node (decompression, as on the rp2
and esp32 builds), on CPython's zlib. The link's compressed pushes inflate with it."""

from __future__ import annotations

import errno
import types
import zlib
from typing import Any

AUTO, RAW, ZLIB, GZIP = 0, 1, 2, 3


class DeflateIO:
    """deflate.DeflateIO(stream, format=AUTO, wbits=0, close=False): a readable stream."""

    def __init__(
        self,
        stream: Any,
        format: int = AUTO,
        wbits: int = 0,  # noqa: A002
        close: bool = False,
    ) -> None:
        window = wbits or 15  # 0: take what the header says (or the largest, for RAW)
        zbits = {RAW: -window, ZLIB: window, GZIP: 16 + window, AUTO: 32 + window}[format]
        self.stream = stream
        self.d = zlib.decompressobj(zbits)
        self.pending = bytearray()
        self.close_stream = close

    def _fill(self, n: int) -> None:
        while len(self.pending) < n and not self.d.eof:
            block = self.stream.read(256)
            try:
                self.pending += self.d.decompress(block) if block else self.d.flush()
            except zlib.error:
                raise OSError(errno.EINVAL, "invalid deflate data") from None
            if not block:
                if not self.d.eof:
                    raise OSError(errno.EINVAL, "truncated deflate data")
                break

    def read(self, n: int = -1) -> bytes:
        self._fill(n if n >= 0 else 1 << 30)
        n = len(self.pending) if n < 0 else min(n, len(self.pending))
        out = bytes(self.pending[:n])
        del self.pending[:n]
        return out

    def readinto(self, buf: Any, n: int | None = None) -> int:
        mv = memoryview(buf).cast("B")
        data = self.read(len(mv) if n is None else min(n, len(mv)))
        mv[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self.close_stream:
            self.stream.close()


def module() -> types.ModuleType:
    mod = types.ModuleType("deflate")
    mod.__dict__.update(DeflateIO=DeflateIO, AUTO=AUTO, RAW=RAW, ZLIB=ZLIB, GZIP=GZIP)
    return mod
