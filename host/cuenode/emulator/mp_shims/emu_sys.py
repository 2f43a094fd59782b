# sys for the firmware under the MicroPython WebAssembly runtime (mpnode.mjs installs it as
# sys.modules['sys']): the port's own sys, with the USB serial modelled as the rp2/esp32 ports
# have it. sys.stdin is a text stream (read(n) gives str; UnicodeError on bytes that are not
# UTF-8) and sys.stdin.buffer the binary one, both over the Node.js host's receive queue
# (emu_js); sys.stdout.buffer writes bytes to the serial. A read never blocks here (the JS
# event loop cannot wait inside Python): it returns what has arrived; the firmware reads only
# after select.poll (emu_select) or asyncio.StreamReader (below) said bytes are there.
import sys as _port_sys
from sys import *  # noqa: F403 - everything else is the port's own

import emu_js

_rx = [b"", 0]  # bytes fetched from the host's queue, and how many of them were read


def _reset():
    """A soft reset: bytes not yet read are gone (mpnode.mjs clears its queue too)."""
    _rx[0], _rx[1] = b"", 0


def _unread():
    """The bytes fetched from the host's queue that the firmware has not read (hex), taken:
    when the firmware hands the port to the REPL they are the REPL's (mpnode.mjs toRepl)."""
    data, pos = _rx
    _rx[0], _rx[1] = b"", 0
    return "".join("%02x" % b for b in data[pos:])  # noqa: UP031 - MicroPython; a str for JS


def _any():
    left = len(_rx[0]) - _rx[1]
    if left:
        return left
    got = emu_js.serial_any()  # one call into JS for everything that arrived, not one a byte
    if got:
        _rx[0], _rx[1] = bytes.fromhex(emu_js.serial_read(got)), 0
    return got


def _take(n):
    got = _any()
    if n < 0 or n > got:
        n = got
    data, pos = _rx
    _rx[1] = pos + n
    return data[pos : pos + n]


def _utf8_length(lead):
    if lead >= 0xF0:
        return 4
    if lead >= 0xE0:
        return 3
    return 2 if lead >= 0xC0 else 1


class _StdinBuffer:
    def any(self):
        return _any()

    def read(self, n=-1):
        return _take(n)

    def readinto(self, buf, n=-1):
        data = _take(len(buf) if n < 0 else n)
        buf[: len(data)] = data
        return len(data)


class _Stdin:
    def __init__(self):
        self.buffer = _StdinBuffer()

    def any(self):
        return _any()

    def read(self, n=-1):
        if n < 0:
            return _take(-1).decode()
        raw = b""
        for _ in range(n):
            first = _take(1)
            if not first:
                break
            raw += first + _take(_utf8_length(first[0]) - 1)
        return raw.decode()  # UnicodeError on a byte that is not UTF-8, as on the ports


class _StdoutBuffer:
    def write(self, buf):
        emu_js.serial_write(bytes(buf).hex())
        return len(buf)


class _Stdout:
    def __init__(self):
        self.buffer = _StdoutBuffer()

    def write(self, text):
        return _port_sys.stdout.write(text)


stdin = _Stdin()
stdout = _Stdout()


class StreamReader:
    """asyncio.StreamReader(stream) over this stdin (text or .buffer), woken by the host's
    receive interrupt; read(n) then reads through `stream`, as MicroPython's asyncio.Stream."""

    def __init__(self, stream):
        import asyncio

        self.s = stream
        self.ev = asyncio.Event()
        emu_js.serial_irq(self.ev.set)

    async def read(self, n=-1):
        while not _any():
            self.ev.clear()
            await self.ev.wait()
        return self.s.read(n)
