# HIL jig firmware: a second Pico wired to the node under test (the board's HIL_JIG) that
# presses its buttons, senses its relays and LEDs, records its DMX line and may cut its power,
# answering the host over USB serial (jigproto.py). The REPL stays reachable: Ctrl-C (or
# mpremote) stops run(); the jig then holds every button released.
import json
import select
import sys
from time import ticks_add, ticks_diff, ticks_us

import micropython
from edgering import EdgeRing
from jigdmx import SM_HZ, DmxCapture
from jigproto import VERSION, command
from machine import Pin

micropython.alloc_emergency_exception_buf(100)


class _Sense:
    """A sensed pin: its hard IRQ stamps each edge into the ring."""

    def __init__(self, ring, index, gpio):
        self.ring = ring
        self.index = index
        self.pin = Pin(gpio, Pin.IN)
        self.pin.irq(self.edge, Pin.IRQ_RISING | Pin.IRQ_FALLING, hard=True)

    def edge(self, pin):
        self.ring.put(ticks_us(), self.index, pin.value())


class Jig:
    def __init__(self, out):
        self.out = out
        self.wiring = {}
        self.buttons = {}
        self.senses = {}  # label -> _Sense
        self.labels = []  # sense index -> label
        self.ring = EdgeRing(256)
        self.capture = None
        self.power_pin = None
        self.until = None  # ticks_us when the recording ends
        self.watch = ()

    # -- commands ------------------------------------------------------------------------
    def handle(self, line):
        name, args = command(line)
        if not name:
            return
        fn = getattr(self, "cmd_" + name, None)
        if fn is None:
            return self.say("err unknown command '%s'" % name)
        try:
            fn(*args)
        except Exception as exc:  # one bad command never stops the jig
            self.say("err %s: %s" % (name, exc))

    def cmd_hello(self):
        self.say(
            "ok hello version=%d sm_hz=%d t=%s wiring=%s"
            % (VERSION, SM_HZ, ticks_us(), json.dumps(self.wiring).replace(" ", ""))
        )

    def cmd_now(self):
        self.say("ok t=%s" % ticks_us())

    def cmd_wire(self, *text):
        self.wire(json.loads(" ".join(text)))
        self.say("ok wired")

    def cmd_drive(self, label, pressed):
        pin = self.buttons[label]
        if pressed == "1":
            pin.init(Pin.OUT, value=0)  # open drain: pull the node's pull-up to ground
        else:
            pin.init(Pin.IN)  # high impedance: the node's pull-up decides
        self.say("ok t=%s" % ticks_us())

    def cmd_sense(self, label):
        self.say("ok level=%d" % self.senses[label].pin.value())

    def cmd_power(self, on):
        if self.power_pin is None:
            raise ValueError("no power relay wired")
        self.power_pin.value(0 if on == "1" else 1)  # coil on = normally-closed contact open
        self.say("ok t=%s" % ticks_us())

    def cmd_rec(self, ms, *labels):
        for label in labels:
            if label not in self.senses:
                raise ValueError("no sensed pin %s" % label)
        self.watch = tuple(self.senses[label].index for label in labels)
        self.ring.clear()
        t0 = self.capture.start() if self.capture is not None else ticks_us()
        self.until = ticks_add(t0, int(ms) * 1000)
        self.say("ok t0=%s" % t0)  # ticks are small ints (%s: the stubs type them apart)

    def cmd_stop(self):
        self.say("ok")
        if self.until is not None:
            self.until = ticks_us()

    # -- wiring --------------------------------------------------------------------------
    def wire(self, cfg):
        self.release_all()
        self.buttons = {k: Pin(g, Pin.IN) for k, g in cfg.get("buttons", {}).items()}
        self.labels = list(cfg.get("relays", {})) + ["LED_" + k for k in cfg.get("leds", {})]
        gpios = list(cfg.get("relays", {}).values()) + list(cfg.get("leds", {}).values())
        self.senses = {}
        for i, (label, gpio) in enumerate(zip(self.labels, gpios)):
            self.senses[label] = _Sense(self.ring, i, gpio)
        if cfg.get("power") is not None:
            self.power_pin = Pin(cfg["power"], Pin.OUT, value=0)  # relay coil off: powered
        if cfg.get("dmx") is not None and self.capture is None:
            self.capture = DmxCapture(Pin(cfg["dmx"], Pin.IN))
        self.wiring = cfg

    def release_all(self):
        for pin in self.buttons.values():
            pin.init(Pin.IN)

    # -- while recording -----------------------------------------------------------------
    def service(self):
        if self.until is None:
            return
        self.ring.take(self._edge)
        ok = self.capture.take(self._dmx) if self.capture is not None else True
        if not ok or ticks_diff(ticks_us(), self.until) >= 0:
            self._finish(ok)

    def _edge(self, t, index, level):
        if index in self.watch:
            self.say("e %s %s %d" % (self.labels[index], t, level))

    def _dmx(self, mv):
        self.out.write(b"d %d\n" % len(mv))
        self.out.write(mv)

    def _finish(self, ok):
        t1 = self.until
        cap = self.capture
        words = 0
        stall = 0
        if cap is not None:
            cap.stop()
            if ok:
                ok = cap.take(self._dmx)
            words = cap.taken // 4
            stall = cap.stalled() or not ok
        self.ring.take(self._edge)
        self.until = None
        self.say("end t1=%s words=%d lost=%d stall=%d" % (t1, words, self.ring.lost, stall))

    def say(self, text):
        self.out.write(text.encode() + b"\n")


def run():
    jig = Jig(sys.stdout.buffer)
    poll = select.poll()
    poll.register(sys.stdin, select.POLLIN)
    line = bytearray()
    try:
        while True:
            for _ in poll.ipoll(1 if jig.until is not None else 50):
                ch = sys.stdin.buffer.read(1)
                if ch == b"\n":
                    jig.handle(line.decode())
                    line = bytearray()
                elif ch != b"\r":
                    line.extend(ch)
            jig.service()
    finally:
        jig.release_all()
