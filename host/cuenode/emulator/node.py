"""One virtual node: a process that boots the firmware files from its flash directory.

Started by the supervisor (`python -m cuenode.emulator.node ...`) with the node side of its
serial bridge as an inherited socket. Power-on runs `boot.py` then `main.py` from flash, as
MicroPython does; when main.py ends or is interrupted the node sits at the REPL. Exit status
tells the supervisor why the node stopped: 3 = machine.reset(), 4 = watchdog; SIGKILL is a
power cut; 0 = the supervisor went away.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

from cuenode.emulator import vasyncio
from cuenode.emulator.flash import FlashFS
from cuenode.emulator.hardware import Hardware
from cuenode.emulator.mpenv import Environment, HardReset, SoftReset
from cuenode.emulator.repl import Repl
from cuenode.emulator.serialport import SerialPort
from cuenode.emulator.world import WorldServer

EXIT_HARD_RESET = 3
EXIT_WATCHDOG = 4


class WatchdogReset(HardReset):
    pass


class Node:
    def __init__(
        self,
        node_id: str,
        flash_dir: str,
        serial_sock: socket.socket,
        world_path: str,
        virtual: bool,
    ) -> None:
        self.node_id = node_id
        self.loop = vasyncio.Loop(vasyncio.Clock(virtual=virtual))
        vasyncio.install(self.loop)
        self.hw = Hardware(self.loop.clock.now_us)
        self.hw.schedule = self.loop.call_soon
        self.hw.call_at = self.loop.call_at
        self.fs = FlashFS(flash_dir)
        self.serial = SerialPort(serial_sock, self.loop)
        self.env = Environment(self.fs, self.hw, self.loop, self.serial, "emulator")
        self.serial.intr_char = lambda: self.env.kbd_intr_char
        self.repl = Repl(self)
        self.world = WorldServer(world_path, self)
        self.globals: dict[str, Any] = {}
        self.soft_reset_pending = False
        self.loop.on_task_error = self._task_error
        self._wdt_armed_at = -1
        self.loop.idle_hooks.append(self._watch_wdt)

    # -- power and resets ---------------------------------------------------------------
    def power_on(self) -> None:
        self.boot(friendly=True)
        self.loop.run_forever()

    def boot(self, friendly: bool) -> None:
        self.serial.to_repl = None
        self.env.reset_modules()
        self.globals = self.env.new_globals()
        self.run_file("boot.py")
        if friendly:
            self.run_file("main.py")
        self.serial.to_repl = self.repl.feed
        if friendly:
            self.repl.enter_friendly()
        else:
            self.repl.enter_raw()
        # Bytes main.py left unread (mpremote's Ctrl-A after the CR Ctrl-C CR that handed the
        # port over) are the REPL's: a board's stdin ring buffer keeps them too.
        left = self.serial.take_rx()
        if left:
            self.repl.feed(left)

    def soft_reset(self, friendly: bool) -> None:
        self.serial.write(b"MPY: soft reboot\r\n")
        # The watchdog keeps running across a soft reset, as on an RP2040 or ESP32: only a
        # hard reset or power cut stops it (see docs/emulator.md).
        self.boot(friendly)

    def run_file(self, rel: str) -> None:
        if not self.env.file_exists(rel):
            return
        try:
            with self.serial.interruptible():
                self.env.exec_file(rel, self.globals)
        except SoftReset:
            self.soft_reset(friendly=True)
            raise _Unwound() from None
        except (HardReset, SystemExit, _Unwound):
            raise
        except BaseException as exc:  # noqa: BLE001 - the node prints it, like MicroPython
            self.serial.write(self.env.format_exception(exc).encode())

    def run_code(self, code: bytes, mode: str) -> str:
        """Run REPL code in the REPL's globals; returns the error text ("" if none)."""
        self.serial.to_repl = None
        self.env.kbd_intr_char = 3  # pyexec enables Ctrl-C for every REPL execution
        try:
            compiled = compile(code, "<stdin>", mode, dont_inherit=True)
            with self.serial.interruptible():
                exec(compiled, self.globals)
        except SoftReset:
            self.soft_reset_pending = True
        except (HardReset, SystemExit, _Unwound):
            raise
        except BaseException as exc:  # noqa: BLE001
            return self.env.format_exception(exc)
        finally:
            self.serial.to_repl = self.repl.feed
        return ""

    def repl_state(self) -> str:
        return self.repl.mode if self.serial.to_repl is not None else "running"

    # -- watchdog -----------------------------------------------------------------------
    def _watch_wdt(self) -> None:
        """Keep one timer pending at the moment the watchdog would bite."""
        hw = self.hw
        if not hw.wdt_timeout_ms or hw.wdt_last_feed == self._wdt_armed_at:
            return
        self._wdt_armed_at = hw.wdt_last_feed
        self.loop.call_at(hw.wdt_last_feed + hw.wdt_timeout_ms * 1000 + 1, self._wdt_due)

    def _wdt_due(self) -> None:
        if self.hw.wdt_expired():
            raise WatchdogReset()
        self._watch_wdt()

    def _task_error(self, task: Any, exc: BaseException) -> None:
        self.serial.write(b"Task exception wasn't retrieved\r\n")
        self.serial.write(self.env.format_exception(exc).encode())


class _Unwound(BaseException):
    """main.py asked for a soft reset: the new boot already ran, unwind the old one."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cuenode-node")
    parser.add_argument("--id", required=True)
    parser.add_argument("--flash", required=True)
    parser.add_argument("--serial-fd", type=int, required=True)
    parser.add_argument("--world", required=True)
    parser.add_argument("--virtual", action="store_true")
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.serial_fd)
    node = Node(args.id, args.flash, sock, args.world, args.virtual)
    sys.stdout = node.serial.stdout  # print() on the node goes to its USB serial
    try:
        while True:
            try:
                node.power_on()
            except _Unwound:
                node.loop.run_forever()
    except WatchdogReset:
        return EXIT_WATCHDOG
    except HardReset:
        return EXIT_HARD_RESET
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        try:
            os.unlink(args.world)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
