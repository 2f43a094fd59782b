"""The MicroPython environment the firmware sees inside an emulated node (CPython runtime).

Firmware modules are loaded from the node's flash directory with their own builtins: their
`import` resolves names first in flash (as MicroPython's '' path entry does), then in this
set of emulated built-in modules (machine, micropython, time, os, sys, select, gc, asyncio,
emu_hw, plus pure ones shared with CPython). Anything else is an ImportError, as on a board.
"""

from __future__ import annotations

import builtins
import errno
import os
import time as _time
import types
from collections.abc import Callable
from typing import Any

from cuenode.emulator import mpdeflate, vasyncio
from cuenode.emulator.flash import FlashFS
from cuenode.emulator.hardware import BREAK_US, MAB_US, Hardware

TICKS_PERIOD = 1 << 30
TICKS_MASK = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2

PURE_MODULES = (
    "struct",
    "array",
    "json",
    "errno",
    "io",
    "math",
    "re",
    "random",
    "binascii",
    "hashlib",
    "collections",
    "heapq",
)
PLATFORM = "cuenode-emu"
BANNER = "MicroPython v1.27.0 on 2026-01-01; cuenode emulator (CPython runtime) with virtual RP2040"


class HardReset(BaseException):
    """machine.reset(): the node process exits and the supervisor boots it again."""


class SoftReset(BaseException):
    """machine.soft_reset() / sys.exit(): the interpreter restarts, flash and pins stay."""


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) & TICKS_MASK


def ticks_diff(end: int, start: int) -> int:
    return ((end - start + TICKS_HALF) & TICKS_MASK) - TICKS_HALF


class Environment:
    """Everything one node's firmware can touch; rebuilt (modules only) on soft reset."""

    def __init__(
        self, fs: FlashFS, hw: Hardware, loop: vasyncio.Loop, serial: Any, board_name: str
    ) -> None:
        self.fs, self.hw, self.loop, self.serial = fs, hw, loop, serial
        self.board_name = board_name
        self.kbd_intr_char = 3
        self.builtins = self._make_builtins()
        self.builtin_modules: dict[str, types.ModuleType] = {}
        self.modules: dict[str, types.ModuleType] = {}
        self.reset_modules()

    # -- module table -------------------------------------------------------------------
    def reset_modules(self) -> None:
        for timer in getattr(self, "timers", ()):  # a soft reset stops every machine.Timer
            timer.deinit()
        self.timers: list[Any] = []
        self.modules.clear()
        self.fs.cwd = "/"
        self.kbd_intr_char = 3
        mods = {name: __import__(name) for name in PURE_MODULES}
        mods.update(
            time=self._time_module(),
            machine=self._machine_module(),
            micropython=self._micropython_module(),
            os=self._os_module(),
            sys=self._sys_module(),
            select=self._select_module(),
            gc=self._gc_module(),
            asyncio=self._asyncio_module(),
            emu_hw=self._emu_hw_module(),
            deflate=mpdeflate.module(),  # built into rp2/esp32 MicroPython; used by the link
        )
        mods["uasyncio"] = mods["asyncio"]
        mods["vfs"] = mods["os"]
        self.builtin_modules = mods

    def _module(self, name: str, **attrs: Any) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        return mod

    def _time_module(self) -> types.ModuleType:
        clock = self.loop.clock

        def ticks_us() -> int:
            return clock.now_us() & TICKS_MASK

        def ticks_ms() -> int:
            return (clock.now_us() // 1000) & TICKS_MASK

        def sleep_us(us: int) -> None:
            # A blocking sleep: real time passes, or the virtual clock jumps (node is blocked)
            if clock.virtual:
                self.loop.advance_to(clock.now_us() + int(us))
            else:
                _time.sleep(max(0, us) / 1e6)

        return self._module(
            "time",
            ticks_ms=ticks_ms,
            ticks_us=ticks_us,
            ticks_cpu=ticks_us,
            ticks_add=ticks_add,
            ticks_diff=ticks_diff,
            sleep_us=sleep_us,
            sleep_ms=lambda ms: sleep_us(int(ms) * 1000),
            sleep=lambda s: sleep_us(int(s * 1_000_000)),
            time=lambda: int(_time.time()),
            time_ns=_time.time_ns,
            localtime=lambda *a: _time.localtime(*a)[:8],
            gmtime=lambda *a: _time.gmtime(*a)[:8],
            mktime=lambda t: int(_time.mktime(tuple(t[:8]) + (-1,))),
        )

    def _machine_module(self) -> types.ModuleType:
        def reset() -> None:
            raise HardReset()

        def soft_reset() -> None:
            raise SoftReset()

        bound = {"env": self}  # each class reaches this node's hardware through `env`
        return self._module(
            "machine",
            Pin=type("Pin", (MachinePin,), bound),
            WDT=type("WDT", (MachineWDT,), bound),
            Timer=type("Timer", (MachineTimer,), bound),
            reset=reset,
            soft_reset=soft_reset,
            unique_id=lambda: self.fs.root.encode()[-8:],
            freq=lambda *a: 125_000_000,
            reset_cause=lambda: 1,
            PWRON_RESET=1,
            WDT_RESET=3,
            idle=lambda: None,
            disable_irq=lambda: 0,
            enable_irq=lambda state=0: None,
            bootloader=reset,
            lightsleep=lambda ms=0: None,
            deepsleep=reset,
        )

    def _micropython_module(self) -> types.ModuleType:
        def kbd_intr(ch: int) -> None:
            self.kbd_intr_char = ch

        def mem_info(verbose: Any = None) -> None:
            print("stack: 0 out of 7936\nGC: total: 192064, used: 0, free: 192064")

        def schedule(fn: Callable[[Any], None], arg: Any) -> None:
            self.loop.call_soon(lambda: fn(arg))

        # No `native`/`viper`: like the WebAssembly port, the emulator has no native emitter,
        # so firmware that probes for it (cuefw.loops_native) falls back to plain Python.
        return self._module(
            "micropython",
            const=lambda x: x,
            kbd_intr=kbd_intr,
            mem_info=mem_info,
            schedule=schedule,
            opt_level=lambda *a: 0,
            alloc_emergency_exception_buf=len,
            heap_lock=lambda: 0,
            heap_unlock=lambda: 0,
            qstr_info=lambda *a: None,
            stack_use=lambda: 0,
        )

    def _os_module(self) -> types.ModuleType:
        fs = self.fs

        def uname() -> tuple[str, ...]:
            return ("rp2", "cuenode-emu", "1.27.0", "v1.27.0", "cuenode emulator")

        return self._module(
            "os",
            listdir=fs.listdir,
            ilistdir=fs.ilistdir,
            stat=fs.stat,
            statvfs=fs.statvfs,
            remove=fs.remove,
            unlink=fs.remove,
            rename=fs.rename,
            mkdir=fs.mkdir,
            rmdir=fs.rmdir,
            getcwd=fs.getcwd,
            chdir=fs.chdir,
            sync=fs.sync,
            uname=uname,
            urandom=os.urandom,
            sep="/",
            mount=lambda *a, **k: None,
            umount=lambda *a: None,
            dupterm=lambda *a: None,
        )

    def _sys_module(self) -> types.ModuleType:
        impl = types.SimpleNamespace(
            name="micropython",
            version=(1, 27, 0, ""),
            _machine="cuenode emulator with virtual RP2040",
            _mpy=6,
        )

        def exit(code: int = 0) -> None:  # noqa: A001
            raise SoftReset()

        return self._module(
            "sys",
            stdin=self.serial.stdin,
            stdout=self.serial.stdout,
            stderr=self.serial.stdout,
            implementation=impl,
            platform=PLATFORM,
            version="3.4.0; MicroPython v1.27.0",
            version_info=(3, 4, 0),
            byteorder="little",
            maxsize=(1 << 31) - 1,
            modules=self.modules,
            path=["", "/lib"],
            argv=[],
            exit=exit,
            print_exception=self.print_exception,
        )

    def _select_module(self) -> types.ModuleType:
        serial = self.serial

        class Poll:
            def __init__(self) -> None:
                self.objs: list[tuple[Any, int]] = []

            def register(self, obj: Any, flags: int = 1) -> None:
                self.objs.append((obj, flags))

            def unregister(self, obj: Any) -> None:
                self.objs = [(o, f) for o, f in self.objs if o is not obj]

            def modify(self, obj: Any, flags: int) -> None:
                self.unregister(obj)
                self.register(obj, flags)

            def poll(self, timeout: int = -1) -> list[tuple[Any, int]]:
                ready = []
                for obj, flags in self.objs:
                    if flags & 1 and serial.wait_readable(timeout):
                        ready.append((obj, 1))
                    elif flags & 4:
                        ready.append((obj, 4))
                return ready

            ipoll = poll

        return self._module("select", poll=Poll, POLLIN=1, POLLOUT=4, POLLERR=8, POLLHUP=16)

    def _gc_module(self) -> types.ModuleType:
        return self._module(
            "gc",
            collect=lambda: None,
            mem_free=lambda: 150_000,
            mem_alloc=lambda: 40_000,
            enable=lambda: None,
            disable=lambda: None,
            threshold=lambda *a: -1,
            isenabled=lambda: True,
        )

    def _asyncio_module(self) -> types.ModuleType:
        names = (
            "CancelledError",
            "TimeoutError",
            "Event",
            "ThreadSafeFlag",
            "Lock",
            "Task",
            "create_task",
            "run",
            "sleep",
            "sleep_ms",
            "gather",
            "wait_for",
            "wait_for_ms",
            "get_event_loop",
            "new_event_loop",
            "current_task",
        )
        from cuenode.emulator.serialport import StreamReader

        return self._module(
            "asyncio",
            StreamReader=StreamReader,
            Stream=StreamReader,
            **{n: getattr(vasyncio, n) for n in names},
        )

    def _emu_hw_module(self) -> types.ModuleType:
        hw = self.hw
        time_module = self._time_module()

        class DmxLine:
            """The emulated board's DMX transmitter (stands in for PIO+DMA / UART+FIFO)."""

            def __init__(self, tx: Any, break_us: int = BREAK_US, mab_us: int = MAB_US):
                self.tx, self.break_us, self.mab_us = tx, break_us, mab_us

            def busy(self) -> bool:
                return hw.dmx_busy()

            def send(self, buf: Any) -> None:
                stall_us = hw.faults.get("frame_stall_us", 0)
                if stall_us:  # injected fault: the frame loop blocks as if it were slow
                    time_module.sleep_us(stall_us)
                hw.dmx_send(bytes(buf), self.break_us, self.mab_us)

        def publish(**status: Any) -> None:
            hw.probe.update(status)

        return self._module(
            "emu_hw", DmxLine=DmxLine, publish=publish, BREAK_US=BREAK_US, MAB_US=MAB_US
        )

    # -- builtins and import ------------------------------------------------------------
    def _make_builtins(self) -> dict[str, Any]:
        table = dict(builtins.__dict__)
        for name in ("exit", "quit", "copyright", "credits", "license", "breakpoint"):
            table.pop(name, None)
        table["open"] = self.fs.open
        table["__import__"] = self.import_module
        table["input"] = self.serial.input
        return table

    def new_globals(self, name: str = "__main__") -> dict[str, Any]:
        return {"__name__": name, "__builtins__": self.builtins}

    def import_module(
        self,
        name: str,
        globals: Any = None,
        locals: Any = None,  # noqa: A002
        fromlist: Any = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level:
            package = (globals or {}).get("__package__") or ""
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = base + ("." + name if name else "")
        top = self._load(name)
        if fromlist:
            mod = self.modules.get(name) or self.builtin_modules.get(name)
            for item in fromlist:
                if item != "*" and not hasattr(mod, item) and hasattr(mod, "__path__"):
                    try:
                        self._load(name + "." + item)
                    except ImportError:
                        pass
            return mod  # type: ignore[return-value]
        return top

    def _load(self, dotted: str) -> types.ModuleType:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            self._load_one(".".join(parts[:i]))
        top = parts[0]
        return self.modules.get(top) or self.builtin_modules[top]

    def _load_one(self, name: str) -> types.ModuleType:
        if name in self.modules:
            return self.modules[name]
        path = self._find_in_flash(name)
        if path is None:
            if name in self.builtin_modules:
                return self.builtin_modules[name]
            raise ImportError(f"no module named '{name}'")
        return self._exec_module(name, path)

    def _find_in_flash(self, name: str) -> str | None:
        rel = name.replace(".", "/")
        bases = [""] if "." in name else ["", "lib/"]
        for base in bases:
            for candidate in (base + rel + ".py", base + rel + "/__init__.py"):
                try:
                    host = self.fs.host_path("/" + candidate)
                except OSError:
                    continue
                if os.path.isfile(host):
                    return candidate
            try:
                if os.path.isdir(self.fs.host_path("/" + base + rel)):
                    return base + rel + "/"  # namespace package, as MicroPython allows
            except OSError:
                continue
        return None

    def _exec_module(self, name: str, rel: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(self.new_globals(name))
        is_pkg = rel.endswith("/__init__.py") or rel.endswith("/")
        mod.__file__ = rel
        if is_pkg:
            mod.__path__ = [rel.rsplit("/", 1)[0] if not rel.endswith("/") else rel[:-1]]
        mod.__package__ = name if is_pkg else name.rpartition(".")[0]
        self.modules[name] = mod
        if "." in name:
            parent, _, child = name.rpartition(".")
            setattr(self.modules.get(parent) or self.builtin_modules[parent], child, mod)
        if rel.endswith("/"):
            return mod
        try:
            self.exec_file(rel, mod.__dict__)
        except BaseException:
            self.modules.pop(name, None)
            raise
        return mod

    def read_source(self, rel: str) -> str:
        with self.fs.open("/" + rel, "rb") as f:
            return f.read().decode()

    def exec_file(self, rel: str, namespace: dict[str, Any]) -> None:
        code = compile(self.read_source(rel), rel, "exec", dont_inherit=True)
        exec(code, namespace)

    def file_exists(self, rel: str) -> bool:
        try:
            return os.path.isfile(self.fs.host_path("/" + rel))
        except OSError:
            return False

    # -- MicroPython-style error text ---------------------------------------------------
    def format_exception(self, exc: BaseException) -> str:
        lines = ["Traceback (most recent call last):"]
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if not os.path.isabs(filename):  # node code only: <stdin>, main.py, cuefw/...
                name = tb.tb_frame.f_code.co_name
                lines.append(f'  File "{filename}", line {tb.tb_lineno}, in {name}')
            tb = tb.tb_next
        if isinstance(exc, SyntaxError) and not isinstance(exc, IndentationError):
            lines.append(f'  File "{exc.filename}", line {exc.lineno}')
            return "\r\n".join(lines) + "\r\nSyntaxError: invalid syntax\r\n"
        return "\r\n".join(lines) + "\r\n" + exception_line(exc) + "\r\n"

    def print_exception(self, exc: BaseException, file: Any = None) -> None:
        text = self.format_exception(exc)
        (file or self.serial.stdout).write(text.replace("\r\n", "\n"))


# -- machine.Pin, machine.WDT, machine.Timer on an Environment's virtual hardware ------------
# Environment._machine_module subclasses each with `env` set to its node.


class MachinePin:
    env: Environment
    IN, OUT, OPEN_DRAIN = 0, 1, 2
    PULL_UP, PULL_DOWN = 1, 2
    IRQ_FALLING, IRQ_RISING = 4, 8

    def __init__(self, gpio: int, mode: int = -1, pull: int = -1, *, value: Any = None):
        self.gpio = int(gpio)
        self.init(mode, pull, value=value)

    def init(self, mode: int = -1, pull: int = -1, *, value: Any = None) -> None:
        state = self.env.hw.pin(self.gpio)
        new_mode = state.mode if mode == -1 else ("out" if mode == self.OUT else "in")
        new_pull = state.pull
        if pull != -1:
            new_pull = {self.PULL_UP: "up", self.PULL_DOWN: "down"}.get(pull)
        if value is not None:
            self.env.hw.set_output(self.gpio, 1 if value else 0)
        self.env.hw.configure(self.gpio, new_mode, new_pull)

    def value(self, level: Any = None) -> Any:
        if level is None:
            return self.env.hw.pin(self.gpio).level()
        self.env.hw.set_output(self.gpio, 1 if level else 0)
        return None

    __call__ = value

    def on(self) -> None:
        self.value(1)

    def off(self) -> None:
        self.value(0)

    def high(self) -> None:
        self.value(1)

    def low(self) -> None:
        self.value(0)

    def toggle(self) -> None:
        self.value(1 - self.value())

    def irq(self, handler: Any = None, trigger: int = 12, hard: bool = False) -> None:
        state = self.env.hw.pin(self.gpio)
        state.irq = (lambda _s: handler(self)) if handler else None
        state.trigger = trigger

    def __repr__(self) -> str:
        return f"Pin(GPIO{self.gpio})"


class MachineWDT:
    env: Environment

    def __init__(self, id: int = 0, timeout: int = 5000) -> None:  # noqa: A002
        self.env.hw.wdt_start(int(timeout))

    def feed(self) -> None:
        self.env.hw.wdt_feed()


class MachineTimer:
    """Soft timer on node time: the callback runs from the event loop, like a MicroPython
    soft IRQ (between bytecodes). Stopped by a soft reset."""

    env: Environment
    ONE_SHOT, PERIODIC = 0, 1

    def __init__(self, id: int = -1, **kw: Any) -> None:  # noqa: A002
        self._gen = 0
        self.env.timers.append(self)
        if kw:
            self.init(**kw)

    def init(
        self, *, mode: int = 1, period: int = -1, freq: int = -1, callback: Any = None
    ) -> None:
        self.deinit()
        period_us = 1_000_000 // freq if freq > 0 else max(1, period) * 1000
        self._arm(self._gen, mode, period_us, callback)

    def _arm(self, gen: int, mode: int, period_us: int, callback: Any) -> None:
        env = self.env

        def fire() -> None:
            if gen != self._gen:
                return  # deinit() or init() since
            if mode == self.PERIODIC:
                self._arm(gen, mode, period_us, callback)
            try:
                if callback is not None:
                    callback(self)
            except Exception as exc:  # noqa: BLE001 - printed, as MicroPython does
                env.serial.write(env.format_exception(exc).encode())

        env.loop.call_at(env.loop.clock.now_us() + period_us, fire)

    def deinit(self) -> None:
        self._gen += 1


def exception_line(exc: BaseException) -> str:
    """The last traceback line as MicroPython prints it (OSError shows the errno name)."""
    name = type(exc).__name__
    if isinstance(exc, OSError) and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
        return f"OSError: [Errno {code}] {errno.errorcode.get(code, str(code))}"
    text = str(exc)
    if not text:
        return name + ": " if isinstance(exc, KeyboardInterrupt) else name
    return f"{name}: {text}"
