# cuenode node firmware: wires the board, the show store, the cue engine and the link.
#
# Order matters: relays are driven off before anything else, then the DMX driver starts,
# the show is loaded from flash, and four asyncio tasks run: DMX refresh (engine tick + frame
# out), buttons (debounced, IRQ-woken), link (serial bytes -> NodeLink), and the health check
# that feeds the watchdog only while every other task keeps checking in.
#
# The same file runs on every board: `board.py` (copied from boards/<name>.py) is plain data,
# and the board family picks the DMX driver (board_rp2, board_esp32, board_emu).
import asyncio
import gc
import sys
from time import ticks_add, ticks_diff, ticks_ms

import board
import machine
from cuefw.compat import const
from machine import Pin

FW_VERSION = "0.1.0"
FRAME_MS = const(23)  # 176 us break + 12 us MAB + 513 slots x 44 us = 22.76 ms on the line
BUTTON_ACTIVE_MS = const(1)  # poll period while a button is changing
BUTTON_IDLE_MS = const(20)  # poll period at rest (LED blink, stuck detection)
WDT_MS = const(2000)
HEALTH_MS = const(500)
ID_FILE = "/node.id"

# -- 1. relays off, first ---------------------------------------------------------------
RELAY_LABELS = sorted(board.RELAYS)
RELAY_PINS = []
for _label in RELAY_LABELS:
    _gpio, _active = board.RELAYS[_label]
    RELAY_PINS.append(Pin(_gpio, Pin.OUT, value=0 if _active else 1))


def relays_off():
    for i in range(len(RELAY_PINS)):
        RELAY_PINS[i].value(0 if board.RELAYS[RELAY_LABELS[i]][1] else 1)


# -- 2. the DMX driver for this board family ----------------------------------------------
def make_dmx():
    de = Pin(board.DMX_DE, Pin.OUT, value=1)  # RS-485 driver enabled: we only transmit
    if board.FAMILY == "rp2":
        import board_rp2

        return board_rp2.DmxOut(Pin(board.DMX_TX), de, sm_id=0)
    if board.FAMILY == "esp32":
        import board_esp32
        from machine import UART

        return board_esp32.DmxOut(UART(2), board.DMX_TX, de)
    import board_emu

    return board_emu.DmxOut(Pin(board.DMX_TX), de)


from cuefw import buttons as btn  # noqa: E402 - after the relays are safe
from cuefw import showfile  # noqa: E402
from cuefw.engine import MODE_NAMES, Engine  # noqa: E402
from cuefw.eventlog import EV_BOOT, GO_REASONS, EventLog, describe  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.universe import Universe  # noqa: E402


def _read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


class App:
    """The node: engine, governor, buttons, store. Also the interface NodeLink expects."""

    def __init__(self, dmx):
        self.dmx = dmx
        self.board = board.BOARD
        self.fw_version = FW_VERSION
        self.log_ = EventLog(64)
        self.universe = Universe()
        self.gov = RelayGovernor(len(RELAY_PINS), self.log_)
        self.engine = Engine(self.universe, self.gov, self.log_)
        self.buttons = btn.Debouncer(0, log=self.log_)
        self.button_pins = []
        self.button_actions = []
        self.relay_pins = []  # show relay index -> board pin index
        self.show_file = None
        self.show_hash = None
        self.show_name = ""
        self.node_id = _read_text(ID_FILE)
        self.want_repl = False
        self.pending_show = None
        self.alive = 0  # bit per task, set when it runs; the health task clears it
        self.frames = 0
        self.log_.add(ticks_ms(), EV_BOOT, machine.reset_cause(), 0)

    # -- show ---------------------------------------------------------------------------
    def load(self, path, now):
        f = open(path, "rb")
        reader = showfile.ShowReader(f)
        self.engine.load(reader, now)
        if self.show_file is not None:
            self.show_file.close()
        self.show_file = f
        self.show_hash = showfile.content_hash(f)
        self.show_name = reader.show_name
        if not self.node_id:
            self.node_id = reader.node_id
        self._map_relays(reader)
        self._map_buttons(reader)

    def _map_relays(self, reader):
        self.relay_pins = []
        for i in range(reader.n_relays):
            label = reader.relay(i)[1]
            self.relay_pins.append(RELAY_LABELS.index(label) if label in board.RELAYS else -1)

    def _map_buttons(self, reader):
        n = reader.n_buttons
        deb = btn.Debouncer(n, log=self.log_)
        pins, actions = [], []
        for i in range(n):
            label, action, flags, cue_index, debounce_ms, stuck_s = reader.button(i)
            gpio, pull = board.BUTTONS[label]
            pin = Pin(gpio, Pin.IN, Pin.PULL_UP if pull == "up" else Pin.PULL_DOWN)
            pins.append((pin, 1 if pull == "up" else 0))  # idle level
            actions.append((action, cue_index))
            deb.configure(i, debounce_ms, stuck_s * 1000)
        self.buttons, self.button_pins, self.button_actions = deb, pins, actions

    def show_info(self):
        return (self.show_name, self.show_hash) if self.show_hash else None

    def new_show(self, path, force, now):
        """Switch now, or (mid-fade, not forced) once the running fade has finished."""
        if self.engine.fading and not force:
            self.pending_show = path
            return False
        self.pending_show = None
        self.load(path, now)
        return True

    def load_pending(self, now):
        if self.pending_show is not None and not self.engine.fading:
            path, self.pending_show = self.pending_show, None
            self.load(path, now)

    # -- controls (NodeLink interface) --------------------------------------------------
    def go(self, now):
        return self._result(self.engine.go(now))

    def back(self, now):
        return self._result(self.engine.back(now))

    def stop(self, now):
        self.engine.stop(now)
        return self._result(True)

    def goto(self, number, now):
        i = self.engine.reader.find_cue(number) if self.engine.reader else -1
        if i < 0:
            raise ValueError("no cue %d.%03d in the show" % (number // 1000, number % 1000))
        return self._result(self.engine.goto(i, now))

    def arm(self, now):
        self.gov.arm(now)

    def disarm(self, now):
        self.gov.disarm(now)

    def _result(self, ok):
        if not ok:  # the engine logged why: say it (go-protect, end-of-list, no-show)
            reason = GO_REASONS.get(self.log_.get(0)[3], "see the log") if len(self.log_) else ""
            raise ValueError(reason or "see the log")
        return {"cue": self.engine.current_number, "next": self.engine.next_number}

    def status(self, now):
        e = self.engine
        return {
            "node": self.node_id,
            "mode": MODE_NAMES[e.mode],
            "cue": e.current_number,
            "next": e.next_number,
            "progress": e.progress(now),
            "armed": self.gov.armed,
            "relays": list(self.gov.state),
            "frames": self.frames,
            "uptime_ms": now,
            "mem_free": gc.mem_free(),
        }

    def log(self, since, limit):
        events = []
        first = max(since, self.log_.seq - len(self.log_))
        for ev in self.log_.since(since):
            if len(events) >= limit:
                break
            text = describe(ev)  # "<tick> <what>": the tick is already the first field
            events.append([ev[0], text[text.find(" ") + 1 :]])
        return events, first + len(events)

    def repl(self):
        self.want_repl = True

    # -- per frame ----------------------------------------------------------------------
    def mirror_relays(self):
        state = self.gov.state
        for i in range(len(self.relay_pins)):
            k = self.relay_pins[i]
            if k >= 0:
                active = board.RELAYS[RELAY_LABELS[k]][1]
                RELAY_PINS[k].value(active if state[i] else 1 - active)

    def poll_buttons(self, now):
        """Sample every button once, run queued presses; True while one is settling."""
        deb = self.buttons
        settling = False
        for i in range(len(self.button_pins)):
            pin, idle_level = self.button_pins[i]
            deb.sample(i, pin.value() != idle_level, now)
            if deb.pending[i]:
                settling = True
        code = deb.pop()
        while code != btn.NO_EVENT:
            self.on_button(code, deb.event_tick)
            code = deb.pop()
        return settling

    def on_button(self, code, tick):
        i = code & btn.BUTTON_MASK
        if code & btn.PRESS and i < len(self.button_actions):
            action, cue_index = self.button_actions[i]
            self.engine.do(action, cue_index, tick)


async def dmx_task(app):
    """Engine tick and one DMX frame every FRAME_MS, on a deadline (no drift)."""
    frame = app.universe.frame
    dmx = app.dmx
    due = ticks_ms()
    while True:
        now = ticks_ms()
        app.engine.tick(now)
        app.gov.tick(now)
        if app.pending_show is not None:
            app.load_pending(now)
        app.mirror_relays()
        while dmx.busy():  # a late wake-up last frame: its last slots are still going out
            await asyncio.sleep_ms(1)  # never spin: a spinning node starves its neighbours
        dmx.send(frame)
        app.frames += 1
        app.alive |= 1
        app.poll_buttons(now)  # at rest buttons are sampled once a frame (LEDs, stuck)
        if app.frames % 11 == 1:
            dmx.probe(app, now)
        due = ticks_add(due, FRAME_MS)
        wait = ticks_diff(due, ticks_ms())
        if wait < -FRAME_MS:  # fell far behind (paused): restart the schedule from now
            due = ticks_ms()
            wait = 0
        await asyncio.sleep_ms(wait if wait > 0 else 0)


async def buttons_task(app, flag):
    """Woken by a pin IRQ: sample every millisecond until the debouncer settles."""
    while True:
        await flag.wait()
        flag.clear()
        while app.poll_buttons(ticks_ms()):
            await asyncio.sleep_ms(BUTTON_ACTIVE_MS)


async def link_task(app, handler):
    """Serial bytes in -> handler -> response bytes out. Waits for input; never blocks."""
    import select

    reader = asyncio.StreamReader(sys.stdin)
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    rx = bytearray(256)
    one = bytearray(1)
    out = sys.stdout.buffer
    while not app.want_repl:
        first = await reader.read(1)  # sleeps until a byte arrives (stdin read(n) blocks)
        rx[0] = first[0]
        n = 1
        while n < len(rx) and poller.poll(0):
            sys.stdin.buffer.readinto(one, 1)
            rx[n] = one[0]
            n += 1
        reply = handler(memoryview(rx)[:n], ticks_ms())
        if reply:
            out.write(reply)


async def health_task(app, wdt):
    """Feed the watchdog only while the frame loop keeps running (it checks in each frame)."""
    while not app.want_repl:
        await asyncio.sleep_ms(HEALTH_MS)
        if app.alive & 1 and wdt is not None:
            wdt.feed()
        app.alive = 0


def make_link(app):
    import hashlib

    from cuefw.nodelink import NodeLink
    from cuefw.store import Store

    store = Store("", hashlib.sha256)
    return store, NodeLink(app, store)


async def run(app, handler, wdt):
    # ThreadSafeFlag where the port has it (boards); an Event is as good for a soft IRQ
    # (Pin.irq handlers run scheduled, not in the interrupt) and the WebAssembly port has one.
    flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
    for pin, _ in app.button_pins:
        pin.irq(lambda p: flag.set(), Pin.IRQ_FALLING | Pin.IRQ_RISING)
    asyncio.create_task(dmx_task(app))
    asyncio.create_task(buttons_task(app, flag))
    asyncio.create_task(health_task(app, wdt))
    await link_task(app, handler)


def main():
    app = App(make_dmx())
    store, nodelink = make_link(app)
    path = store.boot()
    if path:
        try:
            app.load(path, ticks_ms())
        except (OSError, ValueError, showfile.ShowError) as e:
            print("cuenode: show not loaded:", e)
    wdt = machine.WDT(timeout=WDT_MS)
    try:
        asyncio.run(run(app, nodelink.feed, wdt))
    finally:
        relays_off()
    return app


APP = main()  # MicroPython runs main.py as a script; APP stays for REPL inspection
