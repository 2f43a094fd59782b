"""The node side of its USB serial: a byte stream from the supervisor's pty bridge.

Incoming bytes go either to the REPL (when the node sits at a prompt) or into the stdin
buffer the running code reads (firmware or code executed from the REPL). The keyboard
interrupt character (Ctrl-C unless `micropython.kbd_intr` changed it) never reaches stdin
while code runs: it raises KeyboardInterrupt, as on a board.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from cuenode.emulator import vasyncio


class SerialPort:
    def __init__(self, sock: socket.socket, loop: Any) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.loop = loop
        self.rx = bytearray()
        self.rx_event = vasyncio.Event()  # set whenever stdin has bytes (StreamReader waits)
        self.to_repl: Callable[[bytes], None] | None = None  # set while at a prompt
        self.intr_char: Callable[[], int] = lambda: 3
        self.disconnected = False
        self.received = 0  # bytes that came in on the line (tests wait for a byte to land)
        self.stdin = _Stdin(self)
        self.stdout = _Stdout(self)
        loop.add_reader(sock, self._on_readable)

    # -- receive ------------------------------------------------------------------------
    def _recv(self) -> bytes:
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self.disconnected = True
            self.loop.remove_reader(self.sock)
            raise SystemExit(0)  # the supervisor has gone: the node powers down
        self.received += len(data)
        return data

    def _on_readable(self) -> None:
        self.route(self._recv())

    def route(self, data: bytes) -> None:
        if self.to_repl is not None:
            self.to_repl(data)
            return
        intr = self.intr_char()
        if intr >= 0 and intr in data:
            cut = data.index(intr)
            self.rx += data[:cut]
            del self.rx[:]  # MicroPython clears its stdin buffer on a keyboard interrupt
            self.loop.interrupt = KeyboardInterrupt()
            rest = data[cut + 1 :]
            if rest:
                self.loop.call_soon(lambda: self.route(rest))
            return
        self.rx += data
        if self.rx:
            self.rx_event.set()

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """While code runs synchronously (REPL input, main.py), look at the line every 50 ms
        for the interrupt character, so even a loop that never yields can be stopped."""
        previous = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, previous)

    def _on_alarm(self, signum: int, frame: object) -> None:
        intr = self.intr_char()
        if intr < 0 or self.disconnected:
            return
        try:
            peek = self.sock.recv(4096, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            return
        if intr in peek:
            self.sock.recv(peek.index(intr) + 1)  # consume through the interrupt
            del self.rx[:]
            self.loop.interrupt = None
            raise KeyboardInterrupt()

    def take_rx(self) -> bytes:
        data, self.rx = bytes(self.rx), bytearray()
        return data

    def wait_readable(self, timeout_ms: int) -> bool:
        """Block (really) up to timeout_ms for input; -1 = forever. For select.poll."""
        if self.rx:
            return True
        if timeout_ms == 0 and self.loop.depth > 0:
            return False  # firmware under the loop: the loop itself reads the socket
        if timeout_ms == 0:
            self._drain_nonblocking()
            return bool(self.rx)
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        while not self.rx:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                self.route(self._recv())
                self._raise_pending_interrupt()
            elif deadline is not None:
                return False
        return True

    def _drain_nonblocking(self) -> None:
        ready, _, _ = select.select([self.sock], [], [], 0)
        if ready:
            self.route(self._recv())
            self._raise_pending_interrupt()

    def _raise_pending_interrupt(self) -> None:
        if self.loop.interrupt is not None:
            exc, self.loop.interrupt = self.loop.interrupt, None
            raise exc

    def read_blocking(self, n: int) -> bytes:
        while len(self.rx) < n:
            self.wait_readable(-1)
        data = bytes(self.rx[:n])
        del self.rx[:n]
        return data

    def input(self, prompt: str = "") -> str:
        self.stdout.write(prompt)
        line = self.stdin.readline()
        return line.rstrip("\r\n")

    # -- transmit -----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.disconnected or not data:
            return
        view = memoryview(data)
        while view:
            try:
                sent = self.sock.send(view)
                view = view[sent:]
            except BlockingIOError:
                select.select([], [self.sock], [], 1.0)
            except OSError:
                self.disconnected = True
                return


class StreamReader:
    """asyncio.StreamReader(stream) on the node's stdin: read() sleeps until the serial has
    bytes, then reads through `stream` as MicroPython's asyncio.Stream does, so
    `StreamReader(sys.stdin)` gives text (and UnicodeError on bytes that are not UTF-8, as on
    the rp2/esp32 ports) and `StreamReader(sys.stdin.buffer)` gives bytes."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.port: SerialPort = stream.port

    async def read(self, n: int = -1) -> Any:
        port = self.port
        while not port.rx:
            port.rx_event.clear()
            await port.rx_event.wait()
        return self.stream.read(len(port.rx) if n < 0 else n)

    async def readinto(self, buf: Any) -> int:
        data = await self.read(len(buf))
        memoryview(buf)[: len(data)] = data
        return len(data)

    async def readexactly(self, n: int) -> Any:
        out = await self.read(n)
        while len(out) < n:
            out += await self.read(n - len(out))
        return out

    async def readline(self) -> Any:
        out = await self.read(1)
        while not out.endswith("\n" if isinstance(out, str) else b"\n"):
            out += await self.read(1)
        return out


def utf8_length(lead: int) -> int:
    """Bytes in the UTF-8 character that starts with `lead` (1 for a stray byte)."""
    if lead >= 0xF0:
        return 4
    if lead >= 0xE0:
        return 3
    return 2 if lead >= 0xC0 else 1


class _Stdin:
    """sys.stdin as on the rp2/esp32 ports: a text stream. read(n) reads n characters and
    decodes them strictly (UnicodeError on a byte that is not UTF-8, e.g. a link frame's 0xDB);
    binary data goes through `.buffer`."""

    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self.buffer = _StdinBuffer(port)

    def read(self, n: int = 1) -> str:
        raw = bytearray()
        for _ in range(max(1, n)):
            first = self.port.read_blocking(1)
            raw += first + self.port.read_blocking(utf8_length(first[0]) - 1)
        return raw.decode()  # strict, as MicroPython's str from a text stream

    def readline(self) -> str:
        out = bytearray()
        while not out.endswith(b"\n"):
            out += self.port.read_blocking(1)
        return out.decode()

    def fileno(self) -> int:
        return self.port.sock.fileno()


class _StdinBuffer:
    """sys.stdin.buffer: the same serial, binary. read(n) blocks until n bytes arrived."""

    def __init__(self, port: SerialPort) -> None:
        self.port = port

    def read(self, n: int = 1) -> bytes:
        return self.port.read_blocking(max(1, n))

    def readinto(self, buf: Any, n: int | None = None) -> int:
        mv = memoryview(buf).cast("B")
        want = len(mv) if n is None else min(n, len(mv))
        mv[:want] = self.port.read_blocking(want)
        return want

    def fileno(self) -> int:
        return self.port.sock.fileno()


class _BinaryStdout:
    def __init__(self, port: SerialPort) -> None:
        self.port = port

    def write(self, data: Any, n: int | None = None) -> int:
        raw = bytes(memoryview(data).cast("B")) if not isinstance(data, bytes) else data
        if n is not None:
            raw = raw[:n]
        self.port.write(raw)
        return len(raw)

    def flush(self) -> None:
        pass


class _Stdout:
    """Text stdout: newlines are cooked to CRLF, as MicroPython's terminal output is."""

    encoding = "utf-8"

    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self.buffer = _BinaryStdout(port)

    def write(self, text: Any) -> int:
        if isinstance(text, (bytes, bytearray, memoryview)):
            return self.buffer.write(text)
        self.port.write(text.replace("\n", "\r\n").encode())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
