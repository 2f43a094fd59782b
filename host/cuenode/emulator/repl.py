"""MicroPython's REPL protocols on the node's serial: friendly, raw (Ctrl-A) and raw-paste.

Byte-for-byte what pyexec.c sends, so the real `mpremote` works unchanged: "raw REPL; CTRL-B
to exit\\r\\n>", "OK", stdout, \\x04, error text, \\x04, ">"; raw-paste answers "R\\x01" plus
a 16-bit window and sends \\x01 for every window it has consumed; Ctrl-D on an empty raw line
is a soft reset ("MPY: soft reboot").
"""

from __future__ import annotations

import struct
from typing import Any

from cuenode.emulator.mpenv import BANNER, HardReset, SoftReset

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
PASTE_WINDOW = 128


class Repl:
    """A byte-driven REPL state machine. `node` supplies exec, soft_reset and hard_reset."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.mode = "friendly"  # friendly | raw | paste | friendly_paste
        self.line = bytearray()
        self.pending = bytearray()  # friendly: compound statement being typed
        self.paste_left = PASTE_WINDOW

    @property
    def out(self) -> Any:
        return self.node.serial

    def write(self, data: bytes) -> None:
        self.out.write(data)

    # -- entering -----------------------------------------------------------------------
    def enter_friendly(self, banner: bool = True) -> None:
        self.mode = "friendly"
        self.line.clear()
        self.pending.clear()
        if banner:
            self.write((f'{BANNER}\r\nType "help()" for more information.\r\n').encode())
        self.write(b">>> ")

    def enter_raw(self) -> None:
        self.mode = "raw"
        self.line.clear()
        self.write(RAW_BANNER + b">")

    # -- feeding ------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        for i, byte in enumerate(data):
            action = self._byte(byte)
            if action is not None:
                # Code is about to run: the rest of this chunk is that code's stdin.
                self.node.serial.rx += data[i + 1 :]
                action()
                leftover = self.node.serial.take_rx()
                if leftover and self.node.serial.to_repl is not None:
                    self.feed(leftover)
                return

    def _byte(self, b: int) -> Any:
        handler = {
            "friendly": self._friendly,
            "raw": self._raw,
            "paste": self._paste,
            "friendly_paste": self._friendly_paste,
        }[self.mode]
        return handler(b)

    def _raw(self, b: int) -> Any:
        if b == 0x01:
            if len(self.line) == 2 and self.line[0] == 0x05:
                return self._start_raw_paste()
            self.enter_raw_banner_only()
        elif b == 0x02:
            self.write(b"\r\n")
            self.enter_friendly()
        elif b == 0x03:
            self.line.clear()
        elif b == 0x04:
            self.write(b"OK")
            if not self.line:
                self.write(b"\r\n")
                return lambda: self.node.soft_reset(friendly=False)
            code, self.line = bytes(self.line), bytearray()
            return lambda: self._run_raw(code)
        else:
            self.line.append(b)
        return None

    def enter_raw_banner_only(self) -> None:
        self.line.clear()
        self.write(RAW_BANNER + b">")

    def _start_raw_paste(self) -> None:
        if self.line[1] != ord("A"):
            self.line.clear()
            self.write(b"R\x00")
            return None
        self.line.clear()
        self.mode = "paste"
        self.paste_left = PASTE_WINDOW
        self.write(b"R\x01" + struct.pack("<H", PASTE_WINDOW))
        return None

    def _paste(self, b: int) -> Any:
        if b == 0x03:  # pyexec: end of input (\x04), then KeyboardInterrupt, back to raw
            self.line.clear()
            self.mode = "raw"
            self.write(b"\x04\x04KeyboardInterrupt: \r\n\x04>")
            return None
        if b == 0x04:
            self.write(b"\x04")
            code, self.line = bytes(self.line), bytearray()
            self.mode = "raw"
            return lambda: self._run_raw(code)
        self.line.append(b)
        self.paste_left -= 1
        if self.paste_left == 0:
            self.paste_left = PASTE_WINDOW
            self.write(b"\x01")
        return None

    def _run_raw(self, code: bytes) -> None:
        err = self.node.run_code(code, "exec")
        self.write(b"\x04" + err.replace("\n", "\r\n").replace("\r\r", "\r").encode() + b"\x04")
        if self.node.soft_reset_pending:  # sys.exit() / machine.soft_reset() in the code
            self.node.soft_reset_pending = False
            self.node.soft_reset(friendly=False)
        elif self.mode == "raw":
            self.write(b">")

    # -- friendly -----------------------------------------------------------------------
    def _friendly(self, b: int) -> Any:
        if b == 0x01:
            self.write(b"\r\n")
            self.enter_raw()
        elif b == 0x02:
            self.write(b"\r\n")
            self.enter_friendly()
        elif b == 0x03:
            self.line.clear()
            self.pending.clear()
            self.write(b"\r\nKeyboardInterrupt\r\n>>> ")
        elif b == 0x04:
            if not self.line and not self.pending:
                self.write(b"\r\n")
                return lambda: self.node.soft_reset(friendly=True)
        elif b == 0x05:
            self.mode = "friendly_paste"
            self.line.clear()
            self.write(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
        elif b in (0x08, 0x7F):
            if self.line:
                self.line.pop()
                self.write(b"\x08 \x08")
        elif b == 0x0D:
            return self._friendly_enter()
        elif b >= 0x20 or b == 0x09:
            self.line.append(b)
            self.write(bytes([b]))
        return None

    def _friendly_enter(self) -> Any:
        self.write(b"\r\n")
        line, self.line = bytes(self.line), bytearray()
        if self.pending:
            if line.strip():
                self.pending += line + b"\n"
                self.write(b"... ")
                return None
            code, self.pending = bytes(self.pending), bytearray()
            return lambda: self._run_friendly(code, "exec")
        if line.rstrip().endswith(b":"):
            self.pending += line + b"\n"
            self.write(b"... ")
            return None
        if not line.strip():
            self.write(b">>> ")
            return None
        return lambda: self._run_friendly(line, "single")

    def _friendly_paste(self, b: int) -> Any:
        if b == 0x03:
            self.mode = "friendly"
            self.line.clear()
            self.write(b"\r\n>>> ")
        elif b == 0x04:
            self.mode = "friendly"
            code, self.line = bytes(self.line), bytearray()
            self.write(b"\r\n")
            return lambda: self._run_friendly(code, "exec")
        elif b == 0x0D:
            self.line += b"\n"
            self.write(b"\r\n=== ")
        else:
            self.line.append(b)
            self.write(bytes([b]))
        return None

    def _run_friendly(self, code: bytes, mode: str) -> None:
        err = self.node.run_code(code, mode)
        if err:
            self.write(err.encode())
        if self.mode == "friendly":
            self.write(b">>> ")


__all__ = ["Repl", "HardReset", "SoftReset"]
