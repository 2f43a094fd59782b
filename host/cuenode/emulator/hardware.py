"""The emulated board's electrical world: GPIO levels, the DMX line, the watchdog.

This is the hardware boundary. The firmware reaches it only through the emulated `machine`
module (Pin, WDT) and `emu_hw.DmxLine` (the emulator's stand-in for rp2 PIO+DMA or an esp32
UART); tests and the live view reach it only through the node's world socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# DMX512 line timing the virtual transmitter produces (ANSI E1.11; see DESIGN.md).
BREAK_US = 176
MAB_US = 12
SLOT_US = 44  # 11 bits at 4 us: start bit, 8 data bits, 2 stop bits
# Like the RP2040's PIO TX FIFO (8 words, joined), the transmitter takes the next packet while
# the last 8 slots of the previous one are still shifting out, and starts it back to back.
FIFO_SLOTS = 8


class PinState:
    __slots__ = ("gpio", "mode", "pull", "out", "drive", "irq", "trigger")

    def __init__(self, gpio: int) -> None:
        self.gpio = gpio
        self.mode = "in"
        self.pull: str | None = None
        self.out = 0
        self.drive: int | None = None  # level forced from outside (a button, a jig)
        self.irq: Callable[[Any], None] | None = None
        self.trigger = 0

    def level(self) -> int:
        if self.mode == "out":
            return self.out
        if self.drive is not None:
            return self.drive
        return 1 if self.pull == "up" else 0


class DmxFrame:
    __slots__ = ("seq", "t_us", "break_us", "mab_us", "slot_us", "data")

    def __init__(self, seq: int, t_us: int, break_us: int, mab_us: int, data: bytes) -> None:
        self.seq, self.t_us, self.data = seq, t_us, data
        self.break_us, self.mab_us, self.slot_us = break_us, mab_us, SLOT_US

    def duration_us(self) -> int:
        return self.break_us + self.mab_us + len(self.data) * self.slot_us


class Hardware:
    """Pin levels and line activity; `listeners` hear every observable change."""

    def __init__(self, now_us: Callable[[], int]) -> None:
        self.now_us = now_us
        self.pins: dict[int, PinState] = {}
        self.listeners: list[Callable[[str, Any], None]] = []
        self.frames = 0
        self.last_frame: DmxFrame | None = None
        self.line_busy_until = 0
        self.wdt_timeout_ms = 0
        self.wdt_last_feed = 0
        self.probe: dict[str, Any] = {}
        self.schedule: Callable[[Callable[[], None]], None] = lambda fn: fn()
        self.call_at: Callable[[int, Callable[[], None]], None] = lambda t, fn: fn()
        # Injected faults (the HIL suite proves its checks fail on a faulty node):
        # break_us: the transmitter's break; frame_stall_us: each DMX send blocks the frame
        # loop this long; late_pins: {gpio: (us, level)} a change to `level` reaches the pin
        # that late (a relay that releases late); wdt_starve: feeding never reaches the WDT.
        self.faults: dict[str, Any] = {}

    def pin(self, gpio: int) -> PinState:
        state = self.pins.get(gpio)
        if state is None:
            state = self.pins[gpio] = PinState(gpio)
        return state

    def emit(self, kind: str, payload: Any) -> None:
        for listener in list(self.listeners):
            listener(kind, payload)

    def set_output(self, gpio: int, level: int) -> None:
        late = self.faults.get("late_pins", {}).get(gpio)
        if late and late[1] == (1 if level else 0):
            self.call_at(self.now_us() + late[0], lambda: self._set_output(gpio, level))
            return
        self._set_output(gpio, level)

    def _set_output(self, gpio: int, level: int) -> None:
        state = self.pin(gpio)
        before = state.level()
        state.out = 1 if level else 0
        if state.level() != before:
            self.emit("pin", (gpio, state.level(), self.now_us()))

    def configure(self, gpio: int, mode: str, pull: str | None) -> None:
        state = self.pin(gpio)
        before = state.level()
        state.mode, state.pull = mode, pull
        if state.level() != before:
            self.emit("pin", (gpio, state.level(), self.now_us()))

    def drive(self, gpio: int, level: int | None) -> None:
        """An external signal on an input pin (None: released, the pull decides)."""
        state = self.pin(gpio)
        before = state.level()
        state.drive = level
        after = state.level()
        if after != before:
            self.emit("pin", (gpio, after, self.now_us()))
            self._fire_irq(state, before, after)

    def _fire_irq(self, state: PinState, before: int, after: int) -> None:
        if state.irq is None:
            return
        rising, falling = 8, 4  # machine.Pin.IRQ_RISING / IRQ_FALLING values on rp2
        if (after and state.trigger & rising) or (not after and state.trigger & falling):
            handler, pin_obj = state.irq, state
            self.schedule(lambda: handler(pin_obj))

    # -- DMX line -----------------------------------------------------------------------
    def dmx_busy(self) -> bool:
        """True while the transmitter cannot take another packet (more than a FIFO left)."""
        return self.now_us() < self.line_busy_until - FIFO_SLOTS * SLOT_US

    def dmx_send(self, data: bytes, break_us: int, mab_us: int) -> DmxFrame:
        break_us = self.faults.get("break_us", break_us)
        self.frames += 1
        start = max(self.now_us(), self.line_busy_until)  # back to back after the previous
        frame = DmxFrame(self.frames, start, break_us, mab_us, bytes(data))
        self.line_busy_until = frame.t_us + frame.duration_us()
        self.last_frame = frame
        self.emit("dmx", frame)
        return frame

    # -- watchdog -----------------------------------------------------------------------
    def wdt_start(self, timeout_ms: int) -> None:
        self.wdt_timeout_ms = timeout_ms
        self.wdt_last_feed = self.now_us()

    def wdt_feed(self) -> None:
        if self.faults.get("wdt_starve"):  # injected: a hung loop, nothing reaches the WDT
            return
        self.wdt_last_feed = self.now_us()

    def wdt_expired(self) -> bool:
        if not self.wdt_timeout_ms:
            return False
        return self.now_us() - self.wdt_last_feed > self.wdt_timeout_ms * 1000

    def snapshot(self) -> dict[str, Any]:
        return {
            "pins": {str(g): s.level() for g, s in sorted(self.pins.items())},
            "modes": {str(g): s.mode for g, s in sorted(self.pins.items())},
            "frames": self.frames,
            "probe": self.probe,
        }
