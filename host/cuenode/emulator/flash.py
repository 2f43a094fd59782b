"""A node's flash: a host directory seen through MicroPython's `os`/`open` API.

Every path the node (firmware or REPL) uses is resolved against the node's own directory;
`..` stops at the root and symlinks are refused, so no path can leave it. Writes go straight
to disk (no host buffering), so a SIGKILL leaves exactly what a power cut would. Each mutating
call (write, rename, remove, mkdir, rmdir) counts as one flash write; the fault injector can
cut the power at the k-th one (the write is torn: half of its bytes land).
"""

from __future__ import annotations

import errno
import os
import posixpath
import signal
from collections.abc import Callable
from typing import Any

S_IFDIR = 0x4000
S_IFREG = 0x8000


def _oserror(code: int) -> OSError:
    return OSError(code)


class FlashFS:
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        os.makedirs(self.root, exist_ok=True)
        self.cwd = "/"
        self.writes = 0
        self.cut_at_write: int | None = None
        self.before_cut: Callable[[], None] | None = None

    # -- path confinement ---------------------------------------------------------------
    def node_path(self, path: Any) -> str:
        if isinstance(path, bytes):
            path = path.decode()
        if not isinstance(path, str):
            raise TypeError("path must be str")
        joined = posixpath.normpath(posixpath.join(self.cwd, path or "."))
        # normpath keeps a leading "//" and leaves ".." at the root as "/..": clamp to "/"
        parts = [p for p in joined.split("/") if p not in ("", ".", "..")]
        return "/" + "/".join(parts)

    def host_path(self, path: Any) -> str:
        node = self.node_path(path)
        host = self.root
        for part in node.split("/")[1:]:
            if not part:
                continue
            host = os.path.join(host, part)
            if os.path.islink(host):
                raise _oserror(errno.ENOENT)
        return host

    # -- write accounting ---------------------------------------------------------------
    def count_write(self) -> bool:
        """Count one flash write; True if the power is cut during this write."""
        self.writes += 1
        return self.cut_at_write is not None and self.writes >= self.cut_at_write

    def power_cut(self) -> None:
        if self.before_cut is not None:
            self.before_cut()
        os.kill(os.getpid(), signal.SIGKILL)

    # -- the os module API --------------------------------------------------------------
    def listdir(self, path: str = "") -> list[str]:
        return [entry[0] for entry in self.ilistdir(path)]

    def ilistdir(self, path: str = "") -> Any:
        host = self.host_path(path or self.cwd)
        try:
            names = sorted(os.listdir(host))
        except OSError as exc:
            raise _oserror(exc.errno or errno.EIO) from None
        out = []
        for name in names:
            full = os.path.join(host, name)
            if os.path.islink(full):
                continue
            st = os.stat(full)
            kind = S_IFDIR if os.path.isdir(full) else S_IFREG
            out.append((name, kind, 0, 0 if kind == S_IFDIR else st.st_size))
        return iter(out)

    def stat(self, path: str) -> tuple[int, ...]:
        host = self.host_path(path)
        try:
            st = os.stat(host)
        except OSError as exc:
            raise _oserror(exc.errno or errno.EIO) from None
        kind = S_IFDIR if os.path.isdir(host) else S_IFREG
        size = 0 if kind == S_IFDIR else st.st_size
        mtime = int(st.st_mtime)
        return (kind, 0, 0, 0, 0, 0, size, mtime, mtime, mtime)

    def statvfs(self, path: str = "/") -> tuple[int, ...]:
        # A 1.4 MB littlefs like the Pico's default: 4 KB blocks.
        blocks = 352
        used = sum(
            (os.path.getsize(os.path.join(d, f)) + 4095) // 4096
            for d, _, files in os.walk(self.root)
            for f in files
        )
        free = max(0, blocks - used - 2)
        return (4096, 4096, blocks, free, free, 0, 0, 0, 0, 255)

    def _mutate(self, fn: Callable[[], None]) -> None:
        cut = self.count_write()
        if cut:
            self.power_cut()
        try:
            fn()
        except OSError as exc:
            raise _oserror(exc.errno or errno.EIO) from None

    def remove(self, path: str) -> None:
        host = self.host_path(path)
        if os.path.isdir(host):
            raise _oserror(errno.EISDIR)
        self._mutate(lambda: os.remove(host))

    def rename(self, old: str, new: str) -> None:
        src, dst = self.host_path(old), self.host_path(new)
        if not os.path.exists(src):
            raise _oserror(errno.ENOENT)
        self._mutate(lambda: os.replace(src, dst))

    def mkdir(self, path: str) -> None:
        host = self.host_path(path)
        self._mutate(lambda: os.mkdir(host))

    def rmdir(self, path: str) -> None:
        host = self.host_path(path)
        self._mutate(lambda: os.rmdir(host))

    def getcwd(self) -> str:
        return self.cwd

    def chdir(self, path: str) -> None:
        node = self.node_path(path)
        if not os.path.isdir(self.host_path(node)):
            raise _oserror(errno.ENOENT)
        self.cwd = node

    def sync(self) -> None:
        pass

    def open(self, path: Any, mode: str = "r", *args: Any, **kw: Any) -> FlashFile:
        host = self.host_path(path)
        if os.path.isdir(host):
            raise _oserror(errno.EISDIR)
        raw_mode = mode.replace("t", "")
        if "b" not in raw_mode:
            raw_mode += "b"
        try:
            raw = open(host, raw_mode, buffering=0)  # noqa: SIM115 - wrapped, closed by caller
        except OSError as exc:
            raise _oserror(exc.errno or errno.EIO) from None
        return FlashFile(self, raw, binary="b" in mode)


class FlashFile:
    """MicroPython file object semantics over an unbuffered host file."""

    def __init__(self, fs: FlashFS, raw: Any, binary: bool) -> None:
        self.fs, self.raw, self.binary = fs, raw, binary

    def _out(self, data: bytes) -> Any:
        return data if self.binary else data.decode()

    def read(self, n: int = -1) -> Any:
        if self.binary:
            return self.raw.read(n) if n >= 0 else self.raw.readall()
        # text: n counts characters; UTF-8 may need more bytes
        data = self.raw.readall() if n < 0 else self.raw.read(n)
        return data.decode(errors="replace")

    def readinto(self, buf: Any, n: int | None = None) -> int:
        mv = memoryview(buf).cast("B")
        if n is not None:
            mv = mv[:n]
        return self.raw.readinto(mv) or 0

    def readline(self) -> Any:
        out = bytearray()
        while True:
            ch = self.raw.read(1)
            if not ch:
                break
            out += ch
            if ch == b"\n":
                break
        return self._out(bytes(out))

    def readlines(self) -> list[Any]:
        lines: list[Any] = []
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)

    def __iter__(self) -> FlashFile:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def write(self, data: Any) -> int:
        if isinstance(data, str):
            data = data.encode()
        data = bytes(memoryview(data).cast("B"))
        if self.fs.count_write():
            self.raw.write(data[: len(data) // 2])  # torn write, then the lights go out
            os.fsync(self.raw.fileno())
            self.fs.power_cut()
        return self.raw.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> FlashFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
