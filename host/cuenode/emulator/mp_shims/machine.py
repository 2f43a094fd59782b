# machine for the emulated board under the MicroPython WebAssembly runtime: pins and the
# watchdog live in the Node.js host (emu_js), which the world socket observes.
import emu_js


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, gpio, mode=-1, pull=-1, value=None):
        self.gpio = gpio
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        if value is not None:
            emu_js.pin_out(self.gpio, 1 if value else 0)
        emu_js.pin_mode(self.gpio, mode, pull)

    def value(self, level=None):
        if level is None:
            return emu_js.pin_level(self.gpio)
        emu_js.pin_out(self.gpio, 1 if level else 0)

    def __call__(self, level=None):
        return self.value(level)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=12, hard=False):
        emu_js.pin_irq(self.gpio, (lambda: handler(self)) if handler else None, trigger)


class WDT:
    def __init__(self, id=0, timeout=5000):
        emu_js.wdt_start(timeout)

    def feed(self):
        emu_js.wdt_feed()


class Timer:
    """Soft timer on node time (the Node.js host schedules it); stopped by a soft reset."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kw):
        self._id = 0
        if kw:
            self.init(**kw)

    def init(self, mode=1, period=-1, freq=-1, callback=None):
        self.deinit()
        ms = 1000 // freq if freq > 0 else max(1, period)
        self._callback = callback
        self._id = emu_js.timer_start(ms, self._fire, 1 if mode == Timer.PERIODIC else 0)

    def _fire(self):
        try:
            if self._callback is not None:
                self._callback(self)
        except Exception as e:  # printed, as MicroPython does for a failing soft IRQ
            import sys

            sys.print_exception(e)  # type: ignore[attr-defined]  # MicroPython's sys

    def deinit(self):
        if self._id:
            emu_js.timer_stop(self._id)
            self._id = 0


def reset():
    emu_js.reset()


def soft_reset():
    emu_js.reset()


def reset_cause():
    return 1


def unique_id():
    return b"cuenode!"


def freq(*args):
    return 125000000


def idle():
    pass
